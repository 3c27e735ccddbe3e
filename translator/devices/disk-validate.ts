// A disk's checks at define time, libvirt's generic ones (virDomainDiskDefValidate) and
// the qemu driver's (qemuValidateDomainDeviceDefDisk), each in libvirt's order; and
// what virtgold refuses because it has no model of it yet.
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { validateUsbDisk } from '../usb/disk.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import { diskNameParse } from '../stages/drive-address.js';
import type { StageContext } from './kind.js';
import { scsiController, type DiskDef } from './disk-def.js';
import type { DomainDef } from '../model.js';
import { chainOf, isEmptySource, type StorageSource } from './disk-source.js';
import { validateEncryptionConf, validateEncryptionQemu } from './disk-encryption.js';
import { validateIoTuneConf, validateIoTuneQemu } from './disk-iotune.js';
import { validateTransient } from './disk-transient.js';
import { isLegacyBus } from '../blockdev/drive-legacy.js';
import { validateRemoteDiskConf, validateRemoteDiskQemu, validateSourceAuthConf, validateStartupPolicyType, validateStorageSourceQemu, validateTlsHostname } from './disk-net-validate.js';
import { validateLunFrontend, validateLunSerial, validateLunSource } from './disk-lun.js';

/** QEMU_SERIAL_PARAM_ACCEPTED_CHARS */
const SERIAL_RE = /^[a-zA-Z0-9\-_ .+]*$/;
/** virStringIsPrintable */
const PRINTABLE_RE = /^[\x20-\x7e]*$/;

/** virDomainDiskDefValidate */
export function validateDiskConf(d: DiskDef, { def }: StageContext): void {
  if (d.dst === undefined) {
    const what = d.src.pool ? `pool = '${d.src.pool.pool}', volume = '${d.src.pool.volume}'` : d.src.path;
    throw new TranslationError('bare', what !== undefined ? `missing target information for device ${what}` : 'missing target information for device');
  }
  // virDomainDiskDefValidateSource, each image
  for (const n of chainOf(d.src)) validateSourceAuthConf(n);
  if (d.sgio === 'unfiltered') throw unsupportedConfig('unfiltered sgio is no longer supported');
  if (d.device === 'lun') validateLunSource(d);
  else {
    if (d.src.pr) throw unsupportedConfig('<reservations/> allowed only for lun devices');
    if (d.rawio !== undefined) throw unsupportedConfig("rawio can be used only with device='lun'");
    if (d.sgio !== undefined) throw unsupportedConfig("sgio can be used only with device='lun'");
  }
  if (d.drive && d.bus === 'virtio') throw unsupportedConfig("virtio disk cannot have an address of type 'drive'");
  // virDomainDiskDefValidateSource (each image), then the <iotune> checks
  for (const n of chainOf(d.src)) validateEncryptionConf(n.encryption);
  validateIoTuneConf(d.iotune);
  // virDomainDiskAddressDiskBusCompatibility: controller buses take drive addresses only
  if (d.info.address && (d.bus === 'ide' || d.bus === 'fdc' || d.bus === 'scsi' || d.bus === 'sata')) {
    throw unsupportedConfig(`Invalid address type '${d.info.address.type}' for the disk '${d.dst}' with the bus type '${d.bus}'`);
  }
  if (d.bus !== 'virtio') {
    if (d.model !== undefined) throw unsupportedConfig(`disk model '${d.model}' not supported for bus '${d.bus}'`);
    if (d.queues) throw unsupportedConfig('queues attribute in disk driver element is only supported by virtio-blk');
    if (d.eventIdx) throw unsupportedConfig('disk event_idx mode supported only for virtio bus');
    if (d.ioeventfd) throw unsupportedConfig('disk ioeventfd mode supported only for virtio bus');
    // virDomainCheckVirtioOptionsAreAbsent
    const v = d.virtio;
    if (v?.iommu) throw unsupportedConfig('iommu driver option is only supported for virtio devices');
    if (v?.ats) throw unsupportedConfig('ats driver option is only supported for virtio devices');
    if (v?.packed) throw unsupportedConfig('packed driver option is only supported for virtio devices');
    if (v?.pagePerVq) throw unsupportedConfig('page_per_vq option is only supported for virtio devices');
  }
  validateRemoteDiskConf(d, def);
  if (d.trayOpen && d.device !== 'floppy' && d.device !== 'cdrom') throw unsupportedConfig('tray is only valid for cdrom and floppy');
  for (const [k, max] of [['vendor', 8], ['product', 16]] as const) {
    const v = d[k];
    if (v === undefined) continue;
    if (!PRINTABLE_RE.test(v)) throw xmlError(`disk ${k} is not printable string`);
    if (Buffer.byteLength(v) > max) throw unsupportedConfig(`disk ${k} is more than ${max} characters`);
  }
  if (d.device === 'floppy' && d.bus !== 'fdc') throw internalError(`Invalid bus type '${d.bus}' for floppy disk`);
  if (d.device !== 'floppy' && d.bus === 'fdc') throw internalError(`Invalid bus type '${d.bus}' for disk`);
  if (d.removable !== undefined && d.bus !== 'usb') throw xmlError('removable is only valid for usb disks');
  // virDomainDiskDefValidateStartupPolicy
  validateStartupPolicyType(d);
  if (d.startupPolicy === 'requisite' && d.device !== 'cdrom' && d.device !== 'floppy') {
    throw xmlError("disk startupPolicy 'requisite' is allowed only for cdrom or floppy");
  }
  if (d.wwn !== undefined && !/^(0x)?[0-9a-fA-F]{16}$/.test(d.wwn)) throw internalError(`Malformed wwn: ${d.wwn}`);
  const dst = d.dst;
  if ((d.device === 'disk' || d.device === 'lun') && !['hd', 'sd', 'vd', 'xvd', 'ubd'].some((p) => dst.startsWith(p))) throw internalError(`Invalid harddisk device name: ${dst}`);
  if (d.device === 'floppy' && !dst.startsWith('fd')) throw internalError(`Invalid floppy device name: ${dst}`);
  if (isEmptySource(d.src) && d.device === 'disk') throw new TranslationError('bare', `missing source information for device ${dst}`);
}

/** qemuValidateDomainDeviceDefDisk, then virtgold's own refusals */
/** qemuValidateDomainDeviceDefAddressDrive (the driver's check of the address, before
 *  the device's own) */
function validateDriveAddress(d: DiskDef, def: DomainDef, caps: QemuCaps): void {
  const a = d.drive;
  if (!a) return;
  if (d.bus === 'ide') {
    if (a.controller !== 0) throw internalError('Only 1 IDE controller is supported');
    if (a.target !== 0) throw unsupportedConfig('target must be 0 for ide controller');
  } else if (d.bus === 'fdc') {
    if (a.controller !== 0) throw internalError('Only 1 fdc controller is supported');
    if (a.bus !== 0) throw internalError('Only 1 fdc bus is supported');
    if (a.target !== 0) throw unsupportedConfig('target must be 0 for controller fdc');
  } else if (d.bus === 'scsi') {
    if (a.bus !== 0) throw internalError('SCSI controller only supports 1 bus');
    const c = scsiController(def, a);
    if (c?.model === 'lsilogic' && a.target !== 0) throw unsupportedConfig("target must be 0 for controller model 'lsilogic'");
    if (c && c.model !== 'lsilogic' && !hasFlag(caps, 'scsi-disk.channel')) throw notImplemented('SCSI disks on a QEMU without scsi-disk.channel');
  } else if (d.bus === 'sata') {
    if (a.bus !== 0) throw unsupportedConfig('bus must be 0 for sata controller');
    if (a.target !== 0) throw unsupportedConfig('target must be 0 for sata controller');
  }
}

/** virDomainDefValidateInternal's disk checks, first part: one target name a disk
 *  (virDomainDefDuplicateDiskInfoValidate) */
export function validateDuplicateTargets(def: DomainDef): void {
  const disks = def.devices.disk;
  const seen = new Map<string, DiskDef>();
  for (const d of disks) {
    const first = d.dst !== undefined ? seen.get(d.dst) : undefined;
    if (first) throw xmlError(`target '${d.dst}' duplicated for disk sources '${first.src.path ?? '<null>'}' and '${d.src.path ?? '<null>'}'`);
    if (d.dst !== undefined) seen.set(d.dst, d);
  }
}

/** … second part: one disk a drive address on each bus (virDomainDefDuplicateDriveAddressesValidate) */
export function validateDuplicateAddresses(def: DomainDef): void {
  const disks = def.devices.disk;
  const key = (d: DiskDef) => `${d.bus}/${d.drive!.controller}/${d.drive!.bus}/${d.drive!.target}/${d.drive!.unit}`;
  const seen = new Set<string>();
  // libvirt reports the first disk of the first pair it finds, scanning pairs (i, j>i)
  const dupOf = new Map<string, number>();
  disks.forEach((d, i) => {
    if (!d.drive) return;
    const k = key(d);
    if (seen.has(k) && !dupOf.has(k)) dupOf.set(k, i);
    seen.add(k);
  });
  for (const d of disks) {
    if (!d.drive || !dupOf.has(key(d))) continue;
    const a = d.drive;
    throw unsupportedConfig(`Found duplicate drive address for disk with target name '${d.dst}' controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}'`);
  }
}

export function validateDiskQemu(d: DiskDef, { machine, caps, def }: StageContext): void {
  // qemuValidateDomainDeviceInfo: a drive address is an address too
  if (d.info.acpiIndex !== undefined && d.drive) throw unsupportedConfig('ACPI index is only supported for PCI devices');
  const dst = d.dst!;
  validateDriveAddress(d, def, caps);
  if (d.model !== undefined && d.info.address?.type === 'ccw') throw notImplemented(`<disk model='${d.model}'> on a CCW address`);
  if (d.info.address?.type === 'usb' && d.bus !== 'usb') throw notImplemented(`a usb address on a disk on bus '${d.bus}'`);
  if (d.info.address && d.bus !== 'virtio' && d.bus !== 'usb') {
    throw notImplemented(`a ${d.info.address.type} address on a disk on bus '${d.bus}'`);
  }
  // qemuValidateDomainDeviceDefDiskFrontend
  const g = d.geometry;
  if (g?.cyls && g.heads && g.secs && (d.bus === 'usb' || d.bus === 'sd')) throw unsupportedConfig(`CHS geometry can not be set for '${d.bus}' bus`);
  if (g?.cyls && g.heads && g.secs && g.trans && d.bus !== 'ide') {
    throw unsupportedConfig(`CHS translation mode can only be set for 'ide' bus not '${d.bus}'`);
  }
  if (d.serial !== undefined && d.bus === 'sd') throw internalError("Serial property not supported for drive bus 'sd'");
  if (d.device === 'cdrom' && (d.bus === 'virtio' || d.bus === 'sd')) throw unsupportedConfig(`disk type of '${dst}' does not support ejectable media`);
  if (d.copyOnRead === 'on') {
    if (d.src.readonly) throw unsupportedConfig(`copy_on_read is not compatible with read-only disk '${dst}'`);
    if (d.device === 'cdrom' || d.device === 'floppy') throw unsupportedConfig(`copy_on_read is not supported with removable disk '${dst}'`);
  }
  if (d.wwn !== undefined) {
    if (d.bus !== 'ide' && d.bus !== 'scsi') throw unsupportedConfig('Only ide and scsi disk support wwn');
    if (d.bus === 'ide' && !hasFlag(caps, 'ide-drive.wwn')) throw unsupportedConfig('Setting wwn for ide disk is not supported by this QEMU');
    // (sic) libvirt checks the SCSI flag for IDE disks too
    if (d.bus !== 'scsi' && !hasFlag(caps, 'scsi-disk.wwn')) throw unsupportedConfig('Setting wwn for scsi disk is not supported by this QEMU');
  }
  if (d.vendor !== undefined || d.product !== undefined) {
    if (d.bus !== 'scsi') throw unsupportedConfig('Only scsi disk supports vendor and product');
    if (!hasFlag(caps, 'scsi-disk.wwn')) throw unsupportedConfig('Setting vendor or product for scsi disk is not supported by this QEMU');
  }
  validateLunFrontend(d, caps);
  if (d.rotationRate) {
    if (d.bus !== 'scsi' && d.bus !== 'ide' && d.bus !== 'sata') throw internalError('rotation rate is only valid for SCSI/IDE/SATA bus');
    if (d.device !== 'disk') throw internalError('rotation rate is only valid for disk device');
    if (!hasFlag(caps, 'rotation-rate')) throw internalError('rotation rate is not supported with this QEMU');
  }
  // (the SD, Xen and UML buses have no controllers, so no drive addresses)
  if (d.bus !== 'virtio' && d.bus !== 'usb' && !isLegacyBus(d.bus) && !d.drive) throw internalError(`unexpected address type for ${d.bus} disk`);
  if (d.bus === 'usb') validateUsbDisk(d, caps);
  if (d.bus === 'virtio' && d.queueSize && !hasFlag(caps, 'virtio-blk.queue-size')) throw unsupportedConfig("queue-size property isn't supported by this QEMU binary");
  if (d.src.readonly && d.device === 'disk' && (d.bus === 'ide' || d.bus === 'sata')) throw unsupportedConfig(`readonly ${d.bus} disks are not supported`);
  if (d.io === 'native' && d.cache !== 'directsync' && d.cache !== 'none') throw unsupportedConfig("io='native' needs either no disk cache or directsync cache mode");
  if (d.io === 'io_uring' && !hasFlag(caps, 'aio.io_uring')) throw unsupportedConfig('io uring is not supported by this QEMU binary');
  validateLunSerial(d);
  if (d.serial !== undefined && !SERIAL_RE.test(d.serial)) throw internalError(`driver serial '${d.serial}' contains unsafe characters`);
  if (d.iothread) {
    if (d.bus !== 'virtio') throw unsupportedConfig(`IOThreads not available for bus ${d.bus} target ${dst}`);
    if (!def.tuning.iothreads.some((t) => t.id === d.iothread)) throw unsupportedConfig(`Disk iothread '${d.iothread}' not defined in iothreadid`);
  }
  // qemuValidateDomainDeviceDefDisk
  validateIoTuneQemu(d, def.devices.disk);
  validateTransient(d, def, caps);
  if (d.src.shared && !d.src.readonly && d.src.format !== 'raw') {
    throw unsupportedConfig(`shared access for disk '${dst}' requires use of supported storage format`);
  }
  if (d.driverName !== 'qemu') throw unsupportedConfig(`unsupported driver name '${d.driverName}' for disk '${dst}'`);
  const name = diskNameParse(dst);
  if (!name || name.partition < 0) throw unsupportedConfig(`invalid disk target '${dst}'`);
  if (name.partition !== 0) throw unsupportedConfig(`invalid disk target '${dst}', partitions can't appear in disk targets`);
  for (const n of chainOf(d.src)) {
    validateStorageSource(n, caps);
    validateEncryptionQemu(n.encryption, n.format!, caps, n.type === 'network');
  }
  validateRemoteDiskQemu(d, { machine, caps, def });
  // What virtgold has no model of yet (the controllers' own checks follow the disks').
  if (d.src.type === 'block' && d.device === 'cdrom' && d.src.path !== undefined && !caps.hostCdroms) {
    // libvirt asks the host whether the block device is a CD-ROM drive.
    throw notImplemented("<disk type='block' device='cdrom'> on a snapshot without the host's CD-ROM drives (host/<snapshot>.json)");
  }
}

/** qemuDomainValidateStorageSource */
export function validateStorageSource(n: StorageSource, caps: QemuCaps): void {
  const format = n.format;
  if (format === 'cow') throw unsupportedConfig("'cow' storage format is not supported");
  if (format === 'dir') throw unsupportedConfig("'directory' storage format is not directly supported by QEMU, use 'dir' disk type instead");
  if (format === 'iso') throw unsupportedConfig("storage format 'iso' is not directly supported by QEMU, use 'raw' instead");
  if (format === 'fat' && n.type !== 'dir' && n.type !== 'volume') throw unsupportedConfig("storage format 'fat' is supported only with 'dir' storage type");
  if (n.type === 'dir') {
    if (format !== 'fat') throw unsupportedConfig("storage type 'dir' requires use of storage format 'fat'");
    if (!n.readonly) throw unsupportedConfig("virtual FAT storage can't be accessed in read-write mode");
  }
  if (n.pr && !hasFlag(caps, 'pr-manager-helper')) throw unsupportedConfig('reservations not supported with this QEMU binary');
  validateStorageSourceQemu(n);
  if (n.metadataCacheMaxSize !== undefined && format !== 'qcow2') throw unsupportedConfig('metadata cache max size control is supported only with qcow2 images');
  validateTlsHostname(n, caps);
}
