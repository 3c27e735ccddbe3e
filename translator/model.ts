// The typed domain model: what translator/parse.ts reads from domain XML and what
// every later stage (defaults, validation, addresses, output) works on. It covers
// the subset of libvirt's virDomainDef that virtgold implements.
import type { XElement } from './xml.js';

export type TriState = 'on' | 'off';
export type LifecycleAction =
  | 'destroy' | 'restart' | 'rename-restart' | 'preserve'
  | 'coredump-destroy' | 'coredump-restart';

/** Host-side PCI address (hostdev source). */
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

export type DeviceAddress =
  | { type: 'pci'; domain: number; bus: number; slot: number; function: number; multifunction?: TriState; zpci?: ZpciAddress }
  | { type: 'ccw'; cssid: number; ssid: number; devno: number };

/** The guest PCI address as given in the XML, before assignment fills what is missing. */
export interface DeviceInfo {
  address?: DeviceAddress;
  /** true when the XML gave <address type='pci'/> without slot: libvirt assigns it. */
  bootIndex?: number;
  rom?: { enabled?: 'yes' | 'no'; bar?: TriState; file?: string };
  /** QEMU id, assigned by translator/aliases (never parsed from inactive XML). */
  alias?: string;
}

export interface ControllerDef {
  type: 'usb' | 'pci';
  index: number;
  model?: string;
  ports?: number;
  info: DeviceInfo;
}

export interface InputDef {
  type: 'mouse' | 'keyboard';
  bus: 'ps2';
}

export interface AudioDef {
  id: number;
  type: 'none';
}

export interface MemballoonDef {
  model: 'virtio' | 'virtio-transitional' | 'virtio-non-transitional' | 'none';
  statsPeriod?: number;
  info: DeviceInfo;
}

export interface PanicDef {
  model: 's390';
}

/** A VFIO PCI device given to the guest, from <hostdev> or <interface type='hostdev'>. */
export interface HostdevDef {
  managed: boolean;
  /** <driver name=…>; libvirt 9.0.0 keeps it unset when the XML leaves it out. */
  driver?: string;
  source: PciHostAddress;
  /** vf-token extension: canonical lowercase UUID of the VF token. */
  vfToken?: string;
  info: DeviceInfo;
  /** set when this hostdev is the backend of an <interface type='hostdev'> */
  net?: HostdevNetDef;
}

export interface HostdevNetDef {
  mac: string;
  macType?: string;
  macCheck?: string;
}

export interface CpuDef {
  mode: 'custom';
  match: 'exact' | 'minimum' | 'strict';
  check: 'none' | 'partial' | 'full';
  model: string;
  fallback: 'allow' | 'forbid';
}

export interface DomainDef {
  virtType: 'qemu';
  name: string;
  uuid: string;
  title?: string;
  description?: string;
  metadata?: {
    /** the element children of <metadata>, as parsed */
    elements: XElement[];
    /** namespace declarations on <metadata> itself, in order */
    own: [string, string][];
    /** namespace declarations on <domain>, which <metadata> content may use */
    inherited: Record<string, string>;
  };
  memory: { totalKiB: number; currentKiB?: number; dumpCore?: TriState };
  vcpu: { max: number; current?: number; placement: 'static' | 'auto' };
  os: {
    type: 'hvm';
    arch?: string;
    machine?: string;
    bootDevs: string[];
    bootMenu?: { enable?: 'yes' | 'no'; timeout?: number };
  };
  features: { acpi: boolean; apic: boolean; pae: boolean };
  cpu?: CpuDef;
  clock: { offset: 'utc' | 'localtime' };
  onPoweroff: LifecycleAction;
  onReboot: LifecycleAction;
  onCrash: LifecycleAction;
  pm: { suspendToMem?: 'yes' | 'no'; suspendToDisk?: 'yes' | 'no' };
  devices: {
    emulator?: string;
    controllers: ControllerDef[];
    inputs: InputDef[];
    audios: AudioDef[];
    /** <hostdev> elements and <interface type='hostdev'> backends, in libvirt's order:
     *  interfaces first (they are parsed first), then hostdevs. */
    hostdevs: HostdevDef[];
    memballoon?: MemballoonDef;
    panics: PanicDef[];
  };
}
