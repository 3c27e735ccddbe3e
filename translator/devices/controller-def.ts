// libvirt's virDomainControllerDef: the model of every <controller> (its own module so
// that the modules of each controller family can share it), and virDomainDefAddController,
// which other kinds (disks, …) use to add the controllers they imply.
import type { DeviceInfo, DomainDef, TriState } from '../model.js';
import type { PciOpts } from '../pci/controller.js';

export const CONTROLLER_TYPES = ['ide', 'fdc', 'scsi', 'sata', 'virtio-serial', 'ccid', 'usb', 'pci', 'xenbus', 'isa'] as const;
export type ControllerType = (typeof CONTROLLER_TYPES)[number];

/** <driver> of a controller: virtio-scsi's queue tuning (0: unset, as in libvirt) and
 *  the virtio options every virtio device has (virDomainVirtioOptions). */
export interface ControllerDriver {
  queues: number;
  cmdPerLun: number;
  maxSectors: number;
  ioeventfd?: TriState;
  iothread: number;
  iommu?: TriState;
  ats?: TriState;
  packed?: TriState;
  pagePerVq?: TriState;
}

export interface ControllerDef {
  type: ControllerType;
  /** -1 until post-parse gives an unindexed controller the lowest free index */
  index: number;
  /** the model as libvirt spells it; undefined: libvirt's -1 (none given, none picked) */
  model?: string;
  /** USB ports, or a virtio-serial controller's max ports */
  ports?: number;
  /** a virtio-serial controller's MSI vectors */
  vectors?: number;
  /** xenbus attributes, kept for the XML */
  maxGrantFrames?: number;
  maxEventChannels?: number;
  /** a USB companion's <master startport> */
  master?: number;
  /** type 'pci': <model name> and <target> */
  pci?: PciOpts;
  /** present when the XML had a <driver> element */
  driver?: ControllerDriver;
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    controller: ControllerDef[];
  }
}

/** virDomainControllerFindUnusedIndex: the lowest index no controller of the type has. */
export function unusedControllerIndex(def: DomainDef, type: ControllerType): number {
  const used = new Set(def.devices.controller.filter((c) => c.type === type).map((c) => c.index));
  let i = 0;
  while (used.has(i)) i++;
  return i;
}

/** virDomainDefAddController: a new controller of the type (at the lowest unused index
 *  when `index` is negative), appended to the domain's controllers. The model is
 *  libvirt's -1 unless given. libvirt adds the controllers disks imply
 *  (virDomainDefAddImplicitControllers) after the per-device post-parse, then post-parses
 *  the SCSI ones still without a model again: do the same with postParseStorage
 *  (controller-storage.ts), which picks qemuDomainGetSCSIControllerModel's default. */
export function addController(def: DomainDef, type: ControllerType, index = -1, model?: string): ControllerDef {
  const c: ControllerDef = { type, index: index < 0 ? unusedControllerIndex(def, type) : index, info: {} };
  if (model !== undefined) c.model = model;
  def.devices.controller.push(c);
  return c;
}

/** virDomainDefMaybeAddController: add one unless a controller of the type has that
 *  index already (a negative index always adds). True when one was added. */
export function maybeAddController(def: DomainDef, type: ControllerType, index: number, model?: string): boolean {
  if (index >= 0 && def.devices.controller.some((c) => c.type === type && c.index === index)) return false;
  addController(def, type, index, model);
  return true;
}
