// The contract between a device kind and the stages. A kind is one typed object of
// hooks; the stage drivers (stages/) call them in libvirt's order and own every rule
// that spans devices. A hook a kind does not need is left out.
import type { QemuCaps } from '../capabilities.js';
import type { Machine } from '../machines/machine.js';
import type { DeviceInfo, DomainDef } from '../model.js';
import type { XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';

export interface ParseContext {
  /** the domain as parsed so far (domain-level elements, and the kinds parsed before) */
  def: DomainDef;
  /** position of this element among the kind's elements */
  index: number;
}

/** What the later stages know: the defined domain, the snapshot, the machine family. */
export interface StageContext {
  def: DomainDef;
  caps: QemuCaps;
  machine: Machine;
}

/** The PCI slot a device asks for, and the info that gets it; the allocator
 *  (stages/pci-assign.ts) decides, and only for a device that has no address yet. */
export interface PciNeed {
  info: DeviceInfo;
  /** libvirt's connect flags (pci/addrset.ts C): what kind of slot the device plugs into */
  connect: number;
  /** the function to take in a free slot; -1: any (function 0 of a free slot) */
  function: number;
  /** PCI controllers: placed before every other device (qemuDomainAssignDevicePCISlots) */
  early?: boolean;
  /** the ICH9 USB2 controllers of one index share a slot (function 0 is multifunction) */
  usb2?: { index: number; multi: boolean };
}

/** A device that plugs into a USB port (virDomainUSBDeviceDefForeach): its info, and
 *  whether it has an address of another kind (a disk's drive address), which libvirt
 *  counts as a USB device but neither reserves nor assigns. */
export interface UsbNeed {
  info: DeviceInfo;
  other?: boolean;
}

/** Gathers a kind's devices as they are parsed, one at a time, in document order. */
export interface Collector<D> {
  add(dev: D): void;
  /** the kind's list once every device is parsed */
  list(): D[];
}

export interface DeviceKind<D> {
  /** the element under <devices> */
  element: string;
  /** virDomain<Kind>DefParseXML. May record the device elsewhere too, as libvirt does
   *  with the hostdev behind an <interface type='hostdev'>. */
  parse(e: XElement, ctx: ParseContext): D;
  /** how parsed devices are gathered into the kind's list when not simply appended in
   *  document order (libvirt inserts controllers by index) */
  collector?(): Collector<D>;
  /** the device's info (address, boot order, alias) */
  info?(dev: D): DeviceInfo;
  /** libvirt's device iterator visits this device's info under another kind (the
   *  hostdev behind an <interface>): stages that walk every device skip it here */
  visitedElsewhere?(dev: D): boolean;
  /** per-device post-parse defaults (virDomainDeviceDefPostParse + the qemu driver's) */
  postParse?(dev: D, ctx: StageContext): void;
  /** the PCI slot the device needs; undefined: none */
  pci?(dev: D, ctx: StageContext): PciNeed | undefined;
  /** the USB port the device takes; undefined: not a USB device */
  usb?(dev: D): UsbNeed | undefined;
  /** whether the device needs a CCW address (virtio on a CCW machine) */
  ccw?(dev: D, ctx: StageContext): boolean;
  /** per-device validation at define time, libvirt's generic part (virDomainDeviceDefValidateInternal) */
  validateConf?(dev: D, ctx: StageContext): void;
  /** per-device validation at define time, the qemu driver's part (qemuValidateDomainDeviceDef),
   *  after the driver's check of the device's address */
  validate?(dev: D, ctx: StageContext): void;
  /** on the way to a command line the device is replaced by a fresh one without an
   *  address (domxml-to-native's interfaces): true when it was, so that addresses are
   *  assigned again */
  startAnew?(dev: D): boolean;
  /** checks libvirt makes only when it builds the command line */
  validateStart?(dev: D, ctx: StageContext): void;
  /** the QEMU id (qemuAssignDeviceAliases); index is the position in the kind's list */
  alias?(dev: D, index: number, def: DomainDef): string | undefined;
  /** the device's XML, as virDomain<Kind>DefFormat writes it */
  format(w: Writer, dev: D, ctx: StageContext): void;
  /** options the kind puts on the command line before its devices' own */
  commandBefore?(list: D[], ctx: StageContext): string[][];
  /** the order in which the kind's devices reach the command line, when not the list's */
  commandOrder?(list: D[]): D[];
  /** the device's command-line options, each [option, value] or [option] */
  command?(dev: D, ctx: StageContext): string[][];
  /** options the kind puts on the command line after its devices' own */
  commandAfter?(list: D[], ctx: StageContext): string[][];
}
