// The disk buses that have no -blockdev/-device pair in libvirt 9.0.0: an SD card is
// still a legacy -drive if=sd (qemuBuildDriveStr; no node names, no device), and the
// Xen and UML buses, which libvirt's qemu driver accepts in the XML, have no QEMU
// device at all (qemuBuildDiskDeviceProps fails).
import { escapeComma } from '../argv.js';
import type { DiskCache, DiskDef } from '../devices/disk-def.js';
import { internalError, notImplemented } from '../errors.js';
import { diskNameToIndex } from '../stages/drive-address.js';

/** the buses without a -device (their disks' aliases are BUS-diskN) */
export const isLegacyBus = (bus: string | undefined) => bus === 'sd' || bus === 'xen' || bus === 'uml';

/** qemuBuildDriveSourceStr + qemuBuildDriveStr for an SD card (local sources only);
 *  `cache` is the disk's cache mode after qemuDomainPrepareDiskCachemode. */
export function sdDrive(d: DiskDef, cache: DiskCache | undefined): string {
  const src = d.src;
  if (src.type !== 'file' && src.type !== 'block' && src.type !== 'dir') throw notImplemented(`a <disk type='${src.type}'> SD card (a legacy -drive)`);
  if (src.encryption) throw notImplemented('<encryption> on an SD card disk (a legacy -drive)');
  if (src.slice) throw notImplemented('<slices> on an SD card disk (a legacy -drive)');
  let opt = 'file=';
  if (src.type === 'dir') opt += d.device === 'floppy' ? 'fat:floppy:' : 'fat:';
  opt += `${escapeComma(src.path ?? '')},`;
  if (src.type !== 'dir') opt += `format=${src.format},`;
  opt += `if=sd,index=${diskNameToIndex(d.dst!)}`;
  if (src.readonly) opt += ',readonly=on';
  // (QEMU takes none of these for an empty drive)
  if (src.path !== undefined) {
    if (cache) opt += `,cache=${cache}`;
    if (d.copyOnRead) opt += `,copy-on-read=${d.copyOnRead}`;
    if (d.discard) opt += `,discard=${d.discard}`;
    // virDomainDiskGetDetectZeroesMode: 'unmap' without discard='unmap' is 'on'
    const dz = d.detectZeroes === 'unmap' && d.discard !== 'unmap' ? 'on' : d.detectZeroes;
    if (dz) opt += `,detect-zeroes=${dz}`;
    if (d.io) opt += `,aio=${d.io}`;
  }
  return opt;
}

/** qemuBuildDiskDeviceProps for the Xen and UML buses */
export const noDevice = (d: DiskDef) => internalError(`unsupported disk bus '${d.bus}' with device setup`);
