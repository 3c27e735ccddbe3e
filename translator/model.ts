// The domain model shared by every stage: what libvirt's virDomainDef holds at domain
// level, and the parts of a device (virDomainDeviceInfo) that all device kinds share.
// Each device kind's own definition lives in its module under devices/, which adds the
// kind's list to `Devices` below; devices/registry.ts then has to register the kind.
import type { XElement } from './xml/tree.js';

/** The domain's devices: one list per kind, in the order libvirt keeps them. Empty
 *  here: each module in devices/ declares its own list (declaration merging), so that
 *  this file needs no change, and imports nothing, when a kind is added. */
export interface Devices {}

export type TriState = 'on' | 'off';
export type YesNo = 'yes' | 'no';
export type LifecycleAction =
  | 'destroy' | 'restart' | 'rename-restart' | 'preserve'
  | 'coredump-destroy' | 'coredump-restart';

/** A PCI address: a host device's (hostdev source) or a guest's. */
export interface PciHostAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

/** s390x zPCI extension of a guest PCI address. */
export interface ZpciAddress {
  uid?: number;
  fid?: number;
}

export type PciAddress = PciHostAddress & { type: 'pci'; multifunction?: TriState; zpci?: ZpciAddress };
/** `unassigned`: `<address type='ccw'/>` without ids, which the CCW assignment fills in
 *  (ids are 0 until then; on a machine without CCW, validation refuses it first). */
export type CcwAddress = { type: 'ccw'; cssid: number; ssid: number; devno: number; unassigned?: true };
/** pSeries' VIO bus; libvirt puts an ibmvscsi controller there on any machine. */
export type SpaprVioAddress = { type: 'spapr-vio'; reg?: number };
/** A USB port: the bus is the index of a USB controller; `port` holds the path through
 *  hubs (up to 4 levels, 0 ending it: libvirt's fixed array); port[0] 0: none given. */
export type UsbAddress = { type: 'usb'; bus: number; port: number[] };
/** A host device the domain holds but does not show its guest (libvirt binds its driver). */
export type UnassignedAddress = { type: 'unassigned' };
/** ARM's virtio-mmio transport: parsed only where libvirt refuses it on these machines. */
export type VirtioMmioAddress = { type: 'virtio-mmio' };
export type DeviceAddress = PciAddress | CcwAddress | SpaprVioAddress | UsbAddress | UnassignedAddress | VirtioMmioAddress;

/** virDomainDeviceInfo: what every device carries besides its own settings. */
export interface DeviceInfo {
  address?: DeviceAddress;
  bootIndex?: number;
  /** <boot loadparm>: upper-cased as libvirt keeps it (s390x's IPL load parameter) */
  loadparm?: string;
  rom?: { enabled?: YesNo; bar?: TriState; file?: string };
  /** <acpi index>: the guest's stable name for a PCI NIC or disk (QEMU's acpi-index) */
  acpiIndex?: number;
  /** <alias name='ua-…'>: the only alias inactive XML keeps; it becomes the QEMU id */
  userAlias?: string;
  /** QEMU id, given by stages/aliases.ts: the user alias, else the kind's own name. */
  alias?: string;
}

export interface MetadataDef {
  /** the element children of <metadata>, as parsed */
  elements: XElement[];
  /** namespace declarations on <metadata> itself, in order */
  own: [string, string][];
  /** namespace declarations on <domain>, which <metadata> content may use */
  inherited: Record<string, string>;
}

/** One vCPU's state as <vcpus><vcpu> gives it (libvirt's virDomainVcpuDef). */
export interface VcpuState {
  online: boolean;
  /** undefined until post-parse fills it in from `online` */
  hotpluggable?: YesNo;
  /** 0: not set */
  order: number;
}

/** <vcpu> and <vcpus> (domain/vcpu.ts). */
export interface VcpuDef {
  max: number;
  /** the online count when it differs from max */
  current?: number;
  placement: 'static' | 'auto';
  /** <vcpu cpuset>: host CPUs, ascending */
  cpuset?: number[];
  /** per-vCPU states, when the XML had <vcpus> */
  individual?: VcpuState[];
}

/** <os>: the guest type and how it boots. domain/os.ts adds the firmware, loader,
 *  kernel and BIOS settings (declaration merging). */
/** virDomainOSType; the qemu driver refuses all but hvm in validation. */
export type OsType = 'hvm' | 'xen' | 'linux' | 'exe' | 'uml' | 'xenpvh';

export interface OsDef {
  type: OsType;
  arch?: string;
  machine?: string;
  bootDevs: string[];
  bootMenu?: { enable?: YesNo; timeout?: number };
}

/** The domain types the qemu driver runs: TCG ('qemu') and KVM. */
/** 'hvf' (macOS's accelerator) only to fail validation as libvirt does on Linux. */
export type VirtType = 'qemu' | 'kvm' | 'hvf';

export interface DomainDef {
  virtType: VirtType;
  name: string;
  uuid: string;
  title?: string;
  description?: string;
  metadata?: MetadataDef;
  memory: { totalKiB: number; currentKiB?: number; dumpCore?: TriState };
  vcpu: VcpuDef;
  os: OsDef;
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: LifecycleAction;
  pm: { suspendToMem?: YesNo; suspendToDisk?: YesNo };
  emulator?: string;
  /** one list per device kind, in the order libvirt keeps them */
  devices: Devices;
}
