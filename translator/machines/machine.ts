// What a machine family tells the stages (one implementation per family in this folder).
import type { QemuCaps } from '../capabilities.js';
import type { DomainDef, PciHostAddress } from '../model.js';

export interface Machine {
  family: 'i440fx' | 's390-ccw';
  /** does this (canonical) machine name belong to the family */
  matches(machine: string): boolean;
  /** bus 0 functions held by the chipset itself, per slot */
  reservedPci: [number, number[]][];
  /** where the chipset's own USB controller sits (PIIX3 function 2) */
  builtinUsb?: PciHostAddress;
  /** the default model of a USB controller without one */
  defaultUsbModel?: string;
  /** virtio devices without an address go on CCW rather than PCI */
  virtioCcw: boolean;
  /** PCI devices carry zPCI ids */
  zpci: boolean;
  /** the device whose properties disable S3/S4 (-global NAME.disable_s3) */
  pmDevice?: string;
  /** -no-acpi applies to the family */
  acpi: boolean;
  /** qemuDomainDefAddDefaultDevices for the family */
  addDefaultDevices(def: DomainDef, caps: QemuCaps): void;
}
