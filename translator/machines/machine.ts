// What a machine family tells the stages (one implementation per family in this folder).
import type { QemuCaps } from '../capabilities.js';
import type { DomainDef } from '../model.js';
import type { PciAddressSet } from '../pci/addrset.js';

export interface Machine {
  family: 'i440fx' | 'q35' | 's390-ccw';
  /** does this (canonical) machine name belong to the family */
  matches(machine: string): boolean;
  /** the model a USB controller without one gets (qemuDomainControllerDefPostParse),
   *  which may depend on whether it has a guest address; undefined: none */
  defaultUsbModel?(addressed: boolean, caps: QemuCaps): string | undefined;
  /** virtio devices without an address go on CCW rather than PCI */
  virtioCcw: boolean;
  /** PCI devices carry zPCI ids */
  zpci: boolean;
  /** the device whose properties disable S3/S4 (-global NAME.disable_s3), and the
   *  capability flags that allow it */
  pmDevice?(caps: QemuCaps, state: 's3' | 's4'): string;
  /** -no-acpi applies to the family */
  acpi: boolean;
  /** qemuDomainDefAddDefaultDevices for the family */
  addDefaultDevices(def: DomainDef, caps: QemuCaps): void;
  /** qemuDomainValidateDevicePCISlotsChipsets: the chipset's own PCI functions, and
   *  the fixed places of its integrated controllers */
  chipsetPci?(def: DomainDef, set: PciAddressSet, caps: QemuCaps): void;
}
