// host/<snapshot>.json: the facts of the host a snapshot stands for, where libvirt's answer
// depends on that host (mounts, devices, networks, helpers). Each member is read by its
// area's reader; this table is the one place that lists them. A snapshot without the file
// carries no facts, and what needs one is refused rather than guessed.
import { parseStorageHost, type StorageHostFacts } from './storage-host.js';
import { parseScsiHost, type ScsiHostFacts } from './scsi-host.js';
import { parseChardevHost, type ChardevHostFacts } from './chardev-host.js';
import { parseNetHost, parseNetScripts, type HostNetwork } from './net-host.js';
import { parseTpmHost, type TpmHostFacts } from './tpm-host.js';
import { parseVsockHost, type VsockHostFacts } from '../devices/vsock-host.js';
import { parseGraphicsHost, type GraphicsHostFacts } from './graphics-host.js';
import { parseHugetlbfsHost, type HugeTLBFS } from './hugetlbfs.js';
import { hostPaths } from './host-section.js';

declare module '../capabilities.js' {
  interface QemuCaps {
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

type Reader<T> = (raw: Record<string, unknown>, fail: (message: string) => Error) => T | undefined;

/** "numaNodes": the host's online NUMA nodes (/sys/devices/system/node/online). */
const numaNodes: Reader<number[]> = (raw, fail) => {
  const v = raw.numaNodes;
  if (v !== undefined && (!Array.isArray(v) || !v.every((n) => Number.isSafeInteger(n) && n >= 0))) throw fail('"numaNodes" is not a list of node numbers');
  return v as number[] | undefined;
};

/** "cdromDevices": the host block devices libvirt takes for CD-ROM drives. */
const cdromDevices: Reader<string[]> = (raw, fail) => hostPaths(raw, 'cdromDevices', fail);

// In the order they are checked: a file with several bad members names the first.
const READERS = {
  numaNodes,
  cdromDevices,
  scsi: parseScsiHost as Reader<ScsiHostFacts>,
  tpm: parseTpmHost as Reader<TpmHostFacts>,
  storage: parseStorageHost as Reader<StorageHostFacts>,
  graphics: parseGraphicsHost as Reader<GraphicsHostFacts>,
  vsock: parseVsockHost as Reader<VsockHostFacts>,
  chardev: parseChardevHost as Reader<ChardevHostFacts>,
  networks: parseNetHost as Reader<HostNetwork[]>,
  netScripts: parseNetScripts as Reader<string[] | 'libvirt-test-mock'>,
  hugetlbfs: parseHugetlbfsHost as Reader<HugeTLBFS[]>,
};

export type HostFacts = { [K in keyof typeof READERS]?: NonNullable<ReturnType<(typeof READERS)[K]>> };

/** Reads host/<snapshot>.json (`source` names it in errors): only the members it holds. */
export function loadHostFacts(text: string, source: string): HostFacts {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new HostFactsError(`${source}: not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HostFactsError(`${source}: not a JSON object`);
  const fail = (m: string) => new HostFactsError(`${source}: ${m}`);
  const facts: Record<string, unknown> = {};
  for (const [key, read] of Object.entries(READERS)) {
    const v = (read as Reader<unknown>)(raw as Record<string, unknown>, fail);
    if (v !== undefined) facts[key] = v;
  }
  return facts as HostFacts;
}
