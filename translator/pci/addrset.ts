// libvirt's PCI address set (conf/domain_addr.c): the guest's PCI buses, what each
// accepts (connect flags), which functions of which slots are taken, and the search for
// the next free slot. In a dry run a device that finds no slot makes the set grow by a
// bus of the kind it needs (a pcie-root-port, a pci-bridge, …): the caller then adds
// those controllers to the domain (stages/pci-assign.ts).
import { internalError, xmlError } from '../errors.js';
import type { PciHostAddress } from '../model.js';

/** virDomainPCIConnectFlags */
export const C = {
  AUTOASSIGN: 1 << 0,
  HOTPLUGGABLE: 1 << 1,
  INTEGRATED: 1 << 2,
  AGGREGATE_SLOT: 1 << 3,
  PCI_DEVICE: 1 << 4,
  PCIE_DEVICE: 1 << 5,
  PCIE_ROOT_PORT: 1 << 6,
  PCIE_SWITCH_UPSTREAM_PORT: 1 << 7,
  PCIE_SWITCH_DOWNSTREAM_PORT: 1 << 8,
  DMI_TO_PCI_BRIDGE: 1 << 9,
  PCI_EXPANDER_BUS: 1 << 10,
  PCIE_EXPANDER_BUS: 1 << 11,
  PCI_BRIDGE: 1 << 12,
  PCIE_TO_PCI_BRIDGE: 1 << 13,
} as const;
const TYPES_MASK = 0x3ff0;
const ENDPOINT = C.PCI_DEVICE | C.PCIE_DEVICE;

export const PCI_MODELS = [
  'pci-root', 'pcie-root', 'pci-bridge', 'dmi-to-pci-bridge', 'pcie-root-port', 'pcie-switch-upstream-port',
  'pcie-switch-downstream-port', 'pci-expander-bus', 'pcie-expander-bus', 'pcie-to-pci-bridge',
] as const;
export type PciModel = (typeof PCI_MODELS)[number];

/** virDomainPCIControllerModelToConnectType: how a controller of the model plugs in upstream. */
export function modelConnect(model: PciModel): number {
  switch (model) {
    case 'pci-root': case 'pcie-root': return 0;
    case 'pci-bridge': return C.PCI_BRIDGE;
    case 'pci-expander-bus': return C.PCI_EXPANDER_BUS;
    case 'pcie-expander-bus': return C.PCIE_EXPANDER_BUS;
    case 'dmi-to-pci-bridge': return C.DMI_TO_PCI_BRIDGE;
    case 'pcie-to-pci-bridge': return C.PCIE_TO_PCI_BRIDGE;
    case 'pcie-root-port': return C.PCIE_ROOT_PORT | C.AGGREGATE_SLOT;
    case 'pcie-switch-upstream-port': return C.PCIE_SWITCH_UPSTREAM_PORT;
    case 'pcie-switch-downstream-port': return C.PCIE_SWITCH_DOWNSTREAM_PORT;
  }
}

/** virDomainPCIControllerConnectTypeToModel */
function connectModel(flags: number): PciModel | undefined {
  if (flags & C.PCIE_ROOT_PORT) return 'pcie-root-port';
  if (flags & C.PCIE_SWITCH_UPSTREAM_PORT) return 'pcie-switch-upstream-port';
  if (flags & C.PCIE_SWITCH_DOWNSTREAM_PORT) return 'pcie-switch-downstream-port';
  if (flags & C.DMI_TO_PCI_BRIDGE) return 'dmi-to-pci-bridge';
  if (flags & C.PCI_EXPANDER_BUS) return 'pci-expander-bus';
  if (flags & C.PCIE_EXPANDER_BUS) return 'pcie-expander-bus';
  if (flags & C.PCI_BRIDGE) return 'pci-bridge';
  return undefined;
}

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
export const addrString = (a: PciHostAddress) => `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.slot, 2)}.${a.function.toString(16)}`;

interface Slot {
  functions: number;
  aggregate: boolean;
}

export interface Bus {
  model?: PciModel;
  flags: number;
  minSlot: number;
  maxSlot: number;
  slots: Slot[];
}

const newBus = (): Bus => ({ flags: 0, minSlot: 0, maxSlot: 0, slots: Array.from({ length: 32 }, () => ({ functions: 0, aggregate: false })) });

/** virDomainPCIAddressBusSetModel: what can be plugged in downstream of the bus. */
export function setBusModel(bus: Bus, model: PciModel, allowHotplug: boolean): void {
  const hp = allowHotplug ? C.HOTPLUGGABLE : 0;
  const set = (flags: number, minSlot: number, maxSlot: number) => Object.assign(bus, { flags, minSlot, maxSlot });
  switch (model) {
    case 'pci-root': set(C.AUTOASSIGN | C.PCI_DEVICE | C.PCI_BRIDGE | C.PCI_EXPANDER_BUS | hp, 1, 31); break;
    case 'pci-bridge': set(C.AUTOASSIGN | C.PCI_DEVICE | C.PCI_BRIDGE | hp, 1, 31); break;
    case 'pci-expander-bus': set(C.AUTOASSIGN | C.PCI_DEVICE | C.PCI_BRIDGE | hp, 0, 31); break;
    case 'pcie-root': set(C.PCIE_DEVICE | C.PCIE_ROOT_PORT | C.DMI_TO_PCI_BRIDGE | C.PCIE_EXPANDER_BUS, 1, 31); break;
    case 'dmi-to-pci-bridge': set(C.PCI_DEVICE | C.PCI_BRIDGE, 0, 31); break;
    case 'pcie-to-pci-bridge': set(C.AUTOASSIGN | C.PCI_DEVICE | C.PCI_BRIDGE | hp, 1, 31); break;
    case 'pcie-root-port':
    case 'pcie-switch-downstream-port':
      set(C.AUTOASSIGN | C.PCIE_DEVICE | C.PCIE_SWITCH_UPSTREAM_PORT | C.PCIE_TO_PCI_BRIDGE | hp, 0, 0); break;
    case 'pcie-switch-upstream-port': set(C.PCIE_SWITCH_DOWNSTREAM_PORT, 0, 31); break;
    case 'pcie-expander-bus': set(C.PCIE_ROOT_PORT | C.DMI_TO_PCI_BRIDGE, 0, 31); break;
  }
  bus.model = model;
}

function connectName(devFlags: number): string | undefined {
  const names: [number, string][] = [
    [C.PCI_DEVICE, 'standard PCI device'], [C.PCIE_DEVICE, 'PCI Express device'], [C.PCIE_ROOT_PORT, 'pcie-root-port'],
    [C.PCIE_SWITCH_UPSTREAM_PORT, 'pcie-switch-upstream-port'], [C.PCIE_SWITCH_DOWNSTREAM_PORT, 'pcie-switch-downstream-port'],
    [C.DMI_TO_PCI_BRIDGE, 'dmi-to-pci-bridge'], [C.PCIE_TO_PCI_BRIDGE, 'pcie-to-pci-bridge'],
    [C.PCI_EXPANDER_BUS, 'pci-expander-bus'], [C.PCIE_EXPANDER_BUS, 'pcie-expander-bus'], [C.PCI_BRIDGE, 'pci-bridge'],
  ];
  return names.find(([f]) => devFlags & f)?.[1];
}

/** virDomainPCIAddressFlagsCompatible; throws the error when `report`, else returns false. */
function compatible(a: PciHostAddress, busFlags: number, devFlags: number, report: boolean, fromConfig: boolean): boolean {
  const err = fromConfig ? xmlError : internalError;
  const s = addrString(a);
  if (devFlags & C.INTEGRATED) {
    if (a.bus !== 0) {
      if (report) throw err(`The device at PCI address ${s} needs to be an integrated device (bus=0)`);
      return false;
    }
    busFlags |= C.AUTOASSIGN;
  }
  if (fromConfig) {
    // An address from the config may put a PCI device in a PCIe slot and vice versa.
    if (busFlags & ENDPOINT) busFlags |= ENDPOINT;
    if (devFlags & C.PCI_BRIDGE) devFlags |= C.PCI_DEVICE;
  } else if (devFlags & C.AUTOASSIGN && !(busFlags & C.AUTOASSIGN)) {
    if (report) throw err(`The device at PCI address ${s} was auto-assigned this address, but the PCI controller with index='${a.bus}' doesn't allow auto-assignment`);
    return false;
  }
  if (devFlags & C.HOTPLUGGABLE && !(busFlags & C.HOTPLUGGABLE)) {
    if (report) throw err(`The device at PCI address ${s} requires hotplug capability, but the PCI controller with index='${a.bus}' doesn't support hotplug`);
    return false;
  }
  if (!(devFlags & busFlags & TYPES_MASK)) {
    if (!report) return false;
    const what = connectName(devFlags);
    if (!what) throw err(`The device at PCI address ${s} has unrecognized connection type flags 0x${hex(devFlags & TYPES_MASK, 2)}`);
    throw err(`The device at PCI address ${s} cannot be plugged into the PCI controller with index='${a.bus}'. It requires a controller that accepts a ${what}.`);
  }
  return true;
}

export class PciAddressSet {
  buses: Bus[];

  constructor(nbuses: number, readonly dryRun: boolean, readonly pcieToPciBridge: boolean) {
    this.buses = Array.from({ length: nbuses }, newBus);
  }

  /** virDomainPCIAddressValidate */
  validate(a: PciHostAddress, flags: number, fromConfig: boolean): void {
    const err = fromConfig ? xmlError : internalError;
    const s = addrString(a);
    if (!this.buses.length) throw err('No PCI buses available');
    if (a.domain !== 0) throw err(`Invalid PCI address ${s}. Only PCI domain 0 is available`);
    if (a.bus >= this.buses.length) throw err(`Invalid PCI address ${s}. Only PCI buses up to ${this.buses.length - 1} are available`);
    const bus = this.buses[a.bus]!;
    compatible(a, bus.flags, flags, true, fromConfig);
    if (bus.minSlot && a.slot < bus.minSlot) throw err(`Invalid PCI address ${s}. slot must be >= ${bus.minSlot}`);
    if (a.slot > bus.maxSlot) throw err(`Invalid PCI address ${s}. slot must be <= ${bus.maxSlot}`);
  }

  slotInUse(a: PciHostAddress): boolean {
    return this.buses[a.bus]!.slots[a.slot]!.functions !== 0;
  }

  fullyReserved(bus: Bus): boolean {
    for (let i = bus.minSlot; i <= bus.maxSlot; i++) if (!bus.slots[i]!.functions) return false;
    return true;
  }

  /** virDomainPCIAddressReserveAddrInternal */
  reserve(a: PciHostAddress, flags: number, fromConfig: boolean): void {
    if (this.dryRun) this.grow(a, flags);
    this.validate(a, flags, fromConfig);
    const slot = this.buses[a.bus]!.slots[a.slot]!;
    if (slot.functions & (1 << a.function)) {
      throw (fromConfig ? xmlError : internalError)(`Attempted double use of PCI Address ${addrString(a)}`);
    }
    if (!slot.functions && flags & C.AGGREGATE_SLOT) slot.aggregate = true;
    slot.functions |= 1 << a.function;
  }

  /** virDomainPCIAddressReserveNextAddr: the first compatible free slot (or, for
   *  aggregating devices, free function), reserved. `fn` -1: any function. */
  reserveNext(flags: number, fn: number): PciHostAddress {
    const a = this.nextAddr(flags, fn);
    this.reserve(a, flags, false);
    return a;
  }

  /** For devices that take whole slots: the first bus, per connect flags, that may still
   *  have room. Slots are never freed and a configured bus keeps its flags, so the search
   *  libvirt starts at bus 0 can start here and find the same slot (linear, not quadratic,
   *  in the number of devices). */
  private firstOpen = new Map<number, number>();

  private nextAddr(flags: number, fn: number): PciHostAddress {
    if (!this.buses.length) throw xmlError('No PCI buses available');
    const whole = !(flags & C.AGGREGATE_SLOT);
    const a = { domain: 0, bus: whole ? this.firstOpen.get(flags) ?? 0 : 0, slot: 0, function: fn === -1 ? 0 : fn };
    let open = true;
    for (; a.bus < this.buses.length; a.bus++) {
      const bus = this.buses[a.bus]!;
      a.slot = bus.minSlot;
      if (this.findOnBus(bus, a, fn, flags)) {
        if (whole && open) this.firstOpen.set(flags, a.bus);
        return a;
      }
      // A bus not yet given its model may still be, and then take the device.
      if (!bus.model) open = false;
      if (whole && open) this.firstOpen.set(flags, a.bus + 1);
    }
    if (this.dryRun) {
      this.grow(a, flags);
      a.slot = this.buses[a.bus]!.minSlot;
      return a;
    }
    throw internalError('No more available PCI slots');
  }

  /** virDomainPCIAddressFindUnusedFunctionOnBus */
  private findOnBus(bus: Bus, a: PciHostAddress, fn: number, flags: number): boolean {
    if (!compatible(a, bus.flags, flags, false, false)) return false;
    for (; a.slot <= bus.maxSlot; a.slot++) {
      const slot = bus.slots[a.slot]!;
      if (slot.functions === 0) return true;
      if (flags & C.AGGREGATE_SLOT && slot.aggregate) {
        if ((slot.functions & (1 << a.function)) === 0) return true;
        if (fn === -1) {
          for (; a.function < 8; a.function++) if ((slot.functions & (1 << a.function)) === 0) return true;
          a.function = 0;
        }
      }
    }
    return false;
  }

  /** virDomainPCIAddressSetGrow: in a dry run, add the buses that `a` needs, of the kind
   *  a device with `flags` can use. */
  private grow(a: PciHostAddress, flags: number): void {
    let add = a.bus - this.buses.length + 1;
    if (add <= 0) return;
    let model: PciModel;
    let needDmi = false;
    let needPcieToPci = false;
    if (flags & C.PCI_DEVICE) {
      model = 'pci-bridge';
      const hasBridgeSlot = this.buses.some((b) => b.flags & C.PCI_BRIDGE);
      if (!hasBridgeSlot) {
        if (this.pcieToPciBridge) needPcieToPci = true;
        else needDmi = true;
        if (add === 1) {
          // A PCIe-only guest: one more controller before the pci-bridge-like bus.
          add++;
          a.bus++;
        }
      }
    } else if (flags & (C.PCIE_DEVICE | C.PCIE_SWITCH_UPSTREAM_PORT)) {
      model = 'pcie-root-port';
    } else {
      const existing = connectModel(flags);
      if (existing) throw internalError(`a PCI slot is needed to connect a PCI controller model='${existing}', but none is available, and it cannot be automatically added`);
      throw internalError(`Cannot automatically add a new PCI bus for a device with connect flags ${hex(flags, 2)}`);
    }
    let i = this.buses.length;
    for (let k = 0; k < add; k++) this.buses.push(newBus());
    if (needDmi) setBusModel(this.buses[i++]!, 'dmi-to-pci-bridge', false);
    if (needPcieToPci) {
      // This root port only takes the pcie-to-pci-bridge, not the spare hotplug slot.
      setBusModel(this.buses[i]!, 'pcie-root-port', true);
      this.buses[i++]!.flags = C.PCIE_TO_PCI_BRIDGE;
      setBusModel(this.buses[i++]!, 'pcie-to-pci-bridge', true);
    }
    for (; i < this.buses.length; i++) setBusModel(this.buses[i]!, model, true);
  }
}
