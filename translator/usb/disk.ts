// <disk bus='usb'>: a usb-storage device on a USB port (qemuBuildDiskDeviceProps,
// qemuValidateDomainDeviceDefDiskFrontend's USB part).
import { hasFlag, type QemuCaps } from '../capabilities.js';
import type { DiskDef } from '../devices/disk-def.js';
import { internalError, unsupportedConfig } from '../errors.js';

/** qemuValidateDomainDeviceDefDiskFrontend, the USB bus */
export function validateUsbDisk(d: DiskDef, caps: QemuCaps): void {
  if (!hasFlag(caps, 'usb-storage')) throw unsupportedConfig("This QEMU doesn't support '-device usb-storage'");
  if (d.drive || (d.info.address && d.info.address.type !== 'usb')) throw internalError('unexpected address type for usb disk');
  if (d.removable !== undefined && !hasFlag(caps, 'usb-storage.removable')) {
    throw unsupportedConfig("This QEMU doesn't support setting the removable flag of USB storage devices");
  }
}

/** usb-storage's removable property: off unless the XML says on, where QEMU has it */
export function usbRemovable(d: DiskDef, caps: QemuCaps): boolean | undefined {
  if (d.bus !== 'usb' || !hasFlag(caps, 'usb-storage.removable')) return undefined;
  return d.removable === 'on';
}
