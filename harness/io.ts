// File reading with messages a user can act on (no stack traces for a missing file).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FirmwareError, HostFactsError, loadCaps, loadFirmwareDescriptors, loadHostFacts, type QemuCaps } from '../translator/index.js';
import { UserError } from './errors.js';

export function readText(path: string, what: string): string {
  return readBytes(path, what).toString('utf8');
}

/** A domain as bytes: the translator checks they are UTF-8, as libxml2 does for libvirt. */
export function readBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw new UserError(`cannot read ${what} ${path}: ${why}`);
  }
}

const capsCache = new Map<string, QemuCaps>();
// The same snapshot under another path (a copy in a throw-away project) is parsed once:
// the parsed data is read-only, each path gets its own object for its source and host facts.
const parsedCaps = new Map<string, QemuCaps>();

/** Load a capability snapshot once per process. */
export function readCaps(path: string): QemuCaps {
  let caps = capsCache.get(path);
  if (!caps) {
    const text = readText(path, 'capabilities file');
    let parsed = parsedCaps.get(text);
    if (!parsed) parsedCaps.set(text, (parsed = loadCaps(text, path)));
    caps = { ...parsed, source: path };
    const fw = readFirmware(path);
    if (fw) caps.firmware = fw;
    const host = readHostFacts(path);
    if (host?.hugetlbfs) caps.hugetlbfs = host.hugetlbfs;
    if (host?.numaNodes) caps.hostNumaNodes = host.numaNodes;
    if (host?.cdromDevices) caps.hostCdroms = host.cdromDevices;
    if (host?.storage) caps.storageHost = host.storage;
    if (host?.scsi) caps.scsiHost = host.scsi;
    if (host?.chardev) caps.chardevHost = host.chardev;
    if (host?.networks) caps.hostNetworks = host.networks;
    if (host?.netScripts) caps.hostNetScripts = host.netScripts;
    if (host?.tpm) caps.tpmHost = host.tpm;
    if (host?.vsock) caps.vsockHost = host.vsock;
    if (host?.graphics) caps.graphicsHost = host.graphics;
    capsCache.set(path, caps);
  }
  return caps;
}

/** The facts of its host a snapshot carries (hugetlbfs mounts, NUMA nodes): `host/<snapshot name>.json`
 *  in the folder above the snapshot's. None for a file without one. */
function readHostFacts(capsPath: string): ReturnType<typeof loadHostFacts> | undefined {
  const file = join(dirname(capsPath), '..', 'host', `${basename(capsPath, '.xml')}.json`);
  if (!existsSync(file)) return undefined;
  try {
    return loadHostFacts(readText(file, 'host facts'), file);
  } catch (e) {
    if (e instanceof HostFactsError) throw new UserError(`host facts of ${capsPath}: ${e.message}`);
    throw e;
  }
}

/** The firmware descriptors a snapshot carries: `firmware/<snapshot name>/*.json` in the
 *  folder above the snapshot's (capabilities/caps_7.2.0_x86_64.xml →
 *  firmware/caps_7.2.0_x86_64/). None for a file without such a folder. */
function readFirmware(capsPath: string): QemuCaps['firmware'] {
  const dir = join(dirname(capsPath), '..', 'firmware', basename(capsPath, '.xml'));
  if (!existsSync(dir)) return undefined;
  const names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  try {
    return loadFirmwareDescriptors(names.map((name) => ({ name, text: readText(join(dir, name), 'firmware descriptor') })));
  } catch (e) {
    if (e instanceof FirmwareError) throw new UserError(`firmware descriptors of ${capsPath}: ${e.message}`);
    throw e;
  }
}
