// The host's hugetlbfs mounts, a fact of the host libvirt runs on (qemu.conf's
// hugetlbfs_mount, else what is mounted): where guest RAM backed by huge pages lives.
// A snapshot carries those of the host it stands for in host/<snapshot>.json
// ({"hugetlbfs": [{"path", "sizeKiB", "default"}]}, read by host-facts.ts); without them
// a command line with huge pages is refused rather than guessed.
import { internalError, notImplemented } from '../errors.js';
import { hostList } from './host-section.js';

export interface HugeTLBFS {
  /** the mount point */
  path: string;
  /** its page size */
  sizeKiB: number;
  /** the mount of the host's default huge page size */
  default: boolean;
}

declare module '../capabilities.js' {
  interface QemuCaps {
    /** the hugetlbfs mounts of the snapshot's host; undefined when it carries none */
    hugetlbfs?: HugeTLBFS[];
  }
}

/** "hugetlbfs": the mounts, each with its page size and whether it is the default. */
export function parseHugetlbfsHost(raw: Record<string, unknown>, fail: (message: string) => Error): HugeTLBFS[] | undefined {
  return hostList(raw, 'hugetlbfs', fail, (o, bad) => {
    if (typeof o !== 'object' || o === null) throw bad('entry');
    if (typeof o.path !== 'string' || !o.path.startsWith('/')) throw bad('"path"');
    if (typeof o.sizeKiB !== 'number' || !Number.isSafeInteger(o.sizeKiB) || o.sizeKiB <= 0) throw bad('"sizeKiB"');
    if (o.default !== undefined && typeof o.default !== 'boolean') throw bad('"default"');
    return { path: o.path, sizeKiB: o.sizeKiB, default: o.default === true };
  });
}

function mountsOf(mounts: HugeTLBFS[] | undefined): HugeTLBFS[] {
  if (!mounts) throw notImplemented('<memoryBacking><hugepages> on a command line with a snapshot that carries no hugetlbfs mounts (host/<snapshot>.json)');
  if (!mounts.length) throw internalError('hugetlbfs filesystem is not mounted or disabled by administrator config');
  return mounts;
}

/** qemuBuildMemoryGetDefaultPagesize: the default mount's page size, else the first's. */
export function defaultHugepageKiB(mounts: HugeTLBFS[] | undefined): number {
  const list = mountsOf(mounts);
  return (list.find((m) => m.default) ?? list[0]!).sizeKiB;
}

/** qemuGetDomainHupageMemPath: the domain's directory on the mount of that page size. */
export function hugepageMemPath(mounts: HugeTLBFS[] | undefined, sizeKiB: number, shortName: string): string {
  const m = mountsOf(mounts).find((x) => x.sizeKiB === sizeKiB);
  if (!m) throw internalError(`Unable to find any usable hugetlbfs mount for ${sizeKiB} KiB`);
  return `${m.path}/libvirt/qemu/-1-${shortName}`;
}
