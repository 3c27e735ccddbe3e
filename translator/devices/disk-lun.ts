// <disk device='lun'>: a host SCSI LUN passed through (SG_IO) as QEMU's scsi-block on a
// SCSI bus, or a virtio-blk with SCSI requests on. libvirt's checks, in the places
// libvirt makes them.
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { unsupportedConfig } from '../errors.js';
import type { DiskDef } from './disk-def.js';

/** virDomainDiskDefSourceLUNValidate: a host block device, an iSCSI LUN or a volume */
export function validateLunSource(d: DiskDef): void {
  if (d.src.type === 'network') {
    const protocol = d.src.net?.protocol;
    if (protocol !== 'iscsi') throw unsupportedConfig(`disk device='lun' is not supported for protocol='${protocol}'`);
  } else if (d.src.type !== 'block' && d.src.type !== 'volume') {
    throw unsupportedConfig("disk device='lun' is only valid for block type disk source");
  }
  if (d.src.format !== undefined && d.src.format !== 'raw') throw unsupportedConfig("disk device 'lun' must use 'raw' format");
}

/** qemuValidateDomainDeviceDefDiskFrontend's LUN checks (after wwn, vendor and product) */
export function validateLunFrontend(d: DiskDef, caps: QemuCaps): void {
  if (d.device !== 'lun') return;
  if (d.bus !== 'virtio' && d.bus !== 'scsi') throw unsupportedConfig(`disk device='lun' is not supported for bus='${d.bus}'`);
  if (d.bus === 'scsi' && !hasFlag(caps, 'scsi-block')) throw unsupportedConfig("This QEMU doesn't support scsi-block for lun passthrough");
  if (d.copyOnRead === 'on') throw unsupportedConfig(`copy_on_read is not compatible with 'lun' disk '${d.dst}'`);
  if (d.wwn !== undefined) throw unsupportedConfig('Setting wwn is not supported for lun device');
  if (d.vendor !== undefined || d.product !== undefined) throw unsupportedConfig('Setting vendor or product is not supported for lun device');
}

/** … and, after the io mode checks, the serial scsi-block has no property for */
export function validateLunSerial(d: DiskDef): void {
  if (d.serial !== undefined && d.bus === 'scsi' && d.device === 'lun') throw unsupportedConfig("scsi-block 'lun' devices do not support the serial property");
}
