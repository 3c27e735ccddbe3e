// The host's hugetlbfs mounts, a fact of the host libvirt runs on (qemu.conf's
// hugetlbfs_mount, else what is mounted): where guest RAM backed by huge pages lives.
// A snapshot carries those of the host it stands for in host/<snapshot>.json
// ({"hugetlbfs": [{"path", "sizeKiB", "default"}], "numaNodes": [0, …]}), read by the
// harness; without that file a command line with huge pages (or a <numatune> nodeset,
// which names host NUMA nodes) is refused rather than guessed.
import { internalError, notImplemented } from '../errors.js';
import { parseStorageHost, type StorageHostFacts } from './storage-host.js';
import { parseScsiHost, type ScsiHostFacts } from './scsi-host.js';
import { parseChardevHost, type ChardevHostFacts } from './chardev-host.js';
import { parseNetHost, parseNetScripts, type HostNetwork } from './net-host.js';
import { parseTpmHost, type TpmHostFacts } from './tpm-host.js';
import { parseVsockHost, type VsockHostFacts } from '../devices/vsock-host.js';
import { parseGraphicsHost, type GraphicsHostFacts } from './graphics-host.js';

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
    /** the host's online NUMA nodes (/sys/devices/system/node/online); undefined when
     *  the snapshot carries none */
    hostNumaNodes?: number[];
    /** the host block devices libvirt takes for CD-ROM drives on the way to a command
     *  line ("cdromDevices"); undefined when the snapshot carries none */
    hostCdroms?: string[];
  }
}

export class HostFactsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostFactsError';
  }
}

/** Reads host/<snapshot>.json. */
export function loadHostFacts(text: string, source: string): { hugetlbfs?: HugeTLBFS[]; numaNodes?: number[]; cdromDevices?: string[]; storage?: StorageHostFacts; scsi?: ScsiHostFacts; chardev?: ChardevHostFacts; networks?: HostNetwork[]; netScripts?: string[] | 'libvirt-test-mock'; tpm?: TpmHostFacts; vsock?: VsockHostFacts; graphics?: GraphicsHostFacts } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new HostFactsError(`${source}: not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HostFactsError(`${source}: not a JSON object`);
  const nodes = (raw as Record<string, unknown>).numaNodes;
  if (nodes !== undefined && (!Array.isArray(nodes) || !nodes.every((n) => Number.isSafeInteger(n) && n >= 0))) {
    throw new HostFactsError(`${source}: "numaNodes" is not a list of node numbers`);
  }
  const cdroms = (raw as Record<string, unknown>).cdromDevices;
  if (cdroms !== undefined && (!Array.isArray(cdroms) || !cdroms.every((p) => typeof p === 'string' && p.startsWith('/')))) {
    throw new HostFactsError(`${source}: "cdromDevices" is not a list of paths`);
  }
  const scsi = parseScsiHost(raw as Record<string, unknown>, (m) => new HostFactsError(`${source}: ${m}`));
  const tpm = parseTpmHost(raw as Record<string, unknown>, (m) => new HostFactsError(`${source}: ${m}`));
  const storage = parseStorageHost(raw as Record<string, unknown>, (m) => new HostFactsError(`${source}: ${m}`));
  const graphics = parseGraphicsHost(raw as Record<string, unknown>, (m) => new HostFactsError(`${source}: ${m}`));
  const vsock = parseVsockHost(raw as Record<string, unknown>, (m) => new HostFactsError(`${source}: ${m}`));
  const chardev = parseChardevHost(raw as Record<string, unknown>, (m) => new HostFactsError(`${source}: ${m}`));
  const networks = parseNetHost(raw as Record<string, unknown>, (m) => new HostFactsError(`${source}: ${m}`));
  const netScripts = parseNetScripts(raw as Record<string, unknown>, (m) => new HostFactsError(`${source}: ${m}`));
  const numa = { ...(chardev ? { chardev } : {}), ...(nodes ? { numaNodes: nodes as number[] } : {}), ...(cdroms ? { cdromDevices: cdroms as string[] } : {}), ...(storage ? { storage } : {}), ...(scsi ? { scsi } : {}), ...(networks ? { networks } : {}), ...(netScripts ? { netScripts } : {}), ...(tpm ? { tpm } : {}), ...(vsock ? { vsock } : {}), ...(graphics ? { graphics } : {}) };
  const mounts = (raw as Record<string, unknown>).hugetlbfs;
  if (mounts === undefined) return numa;
  if (!Array.isArray(mounts)) throw new HostFactsError(`${source}: "hugetlbfs" is not a list`);
  return {
    ...numa,
    hugetlbfs: mounts.map((m, i) => {
      const o = m as Record<string, unknown>;
      const bad = (what: string) => new HostFactsError(`${source}: hugetlbfs[${i}] has a missing or invalid ${what}`);
      if (typeof o !== 'object' || o === null) throw bad('entry');
      if (typeof o.path !== 'string' || !o.path.startsWith('/')) throw bad('"path"');
      if (typeof o.sizeKiB !== 'number' || !Number.isSafeInteger(o.sizeKiB) || o.sizeKiB <= 0) throw bad('"sizeKiB"');
      if (o.default !== undefined && typeof o.default !== 'boolean') throw bad('"default"');
      return { path: o.path, sizeKiB: o.sizeKiB, default: o.default === true };
    }),
  };
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
