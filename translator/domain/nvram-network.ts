// <nvram type='network'>: since libvirt 8.5 the NVRAM of a pflash loader is a whole
// storage source, so a network one goes through the disk's network storage. Parsed and
// formatted as a disk's <source> by os.ts; here its checks (qemuValidateDomainDefNvram)
// and its libvirt-pflash1 storage node with its secrets on the command line
// (qemuDomainPrepareStorageSourceBlockdevNodename, qemuBuildPflashBlockdevOne), which the
// stages call (the disk validation they use reaches os.ts itself).
import type { QemuCaps } from '../capabilities.js';
import type { StorageSource } from '../devices/disk-source.js';
import { validateStorageSource } from '../devices/disk-validate.js';
import { prepareRemote, prepareRemoteAuth, remoteAuthObjects, remoteObjects, remoteStorageProps } from '../blockdev/net.js';
import { unsupportedConfig } from '../errors.js';

const STORAGE = 'libvirt-pflash1-storage';
const FORMAT = 'libvirt-pflash1-format';

/** qemuValidateDomainDefNvram for a network source */
export function validateNvramNetwork(src: StorageSource, caps: QemuCaps): void {
  if (src.slice) throw unsupportedConfig('slices are not supported with NVRAM');
  validateStorageSource(src, caps);
}

/** The pflash1 node of a network NVRAM: its secrets and TLS objects, then the storage and
 *  format nodes (as libvirt adds a source's attach data) */
export function nvramNetworkBlockdevs(src: StorageSource, caps: QemuCaps): string[][] {
  prepareRemoteAuth(src, STORAGE, caps);
  prepareRemote(src, STORAGE, caps);
  return [
    ...remoteAuthObjects(src), ...remoteObjects(src),
    ['-blockdev', JSON.stringify({ ...remoteStorageProps(src), 'node-name': STORAGE, 'auto-read-only': true, discard: 'unmap' })],
    ['-blockdev', JSON.stringify({ 'node-name': FORMAT, 'read-only': false, driver: 'raw', file: STORAGE })],
  ];
}
