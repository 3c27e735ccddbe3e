// PCI address assignment (qemuDomainAssignPCIAddresses): a dry run over an address set
// that may grow finds out which controllers the domain lacks (pci-bridges on a full
// pci-root, a pcie-root-port for each PCIe device of a q35 domain, one spare root port
// for hotplug); those are added to the domain, then the real run gives every device
// its address and the new controllers their defaults (model name, chassis, port).
import { internalError, unsupportedConfig } from '../errors.js';
import type { ControllerDef } from '../devices/controller.js';
import type { PciNeed, StageContext } from '../devices/kind.js';
import { eachDevice, eachInfo } from '../devices/registry.js';
import type { DeviceInfo, PciHostAddress } from '../model.js';
import { C, modelConnect, PciAddressSet, setBusModel, type PciModel } from '../pci/addrset.js';
import { hasPcieRoot } from '../pci/connect.js';
import { defaultModelName } from '../pci/controller.js';
import { hasFlag } from '../capabilities.js';
import { ITERATE_ORDER, PCI_ORDER } from './order.js';

/** virDeviceInfoPCIAddressIsPresent: a PCI address with domain, bus or slot set. */
const isPresent = (info: DeviceInfo) => info.address?.type === 'pci' && !!(info.address.domain || info.address.bus || info.address.slot);
/** virDeviceInfoPCIAddressIsWanted */
const isWanted = (info: DeviceInfo) => !info.address || (info.address.type === 'pci' && !isPresent(info));

const pciControllers = (ctx: StageContext) => ctx.def.devices.controller.filter((c) => c.type === 'pci');
const modelOf = (c: ControllerDef) => c.model as PciModel | undefined;

/** Every device's PCI need (its connect flags), by info; in device order. */
function needs(ctx: StageContext): Map<DeviceInfo, PciNeed> {
  const out = new Map<DeviceInfo, PciNeed>();
  for (const kind of ITERATE_ORDER) {
    eachDevice(ctx.def.devices, kind, (k, dev) => {
      const need = k.pci?.(dev, ctx);
      if (need) out.set(need.info, need);
    });
  }
  return out;
}

/** qemuDomainPCIAddressSetCreate: buses from the PCI controllers (the rest of the
 *  buses get the default model), then every address the config gives, reserved. */
function createSet(ctx: StageContext, nbuses: number, dryRun: boolean, flags: Map<DeviceInfo, PciNeed>): PciAddressSet {
  const set = new PciAddressSet(nbuses, dryRun, hasFlag(ctx.caps, 'pcie-pci-bridge'));
  let pcieRoot = false;
  for (const c of pciControllers(ctx)) {
    if (c.index >= nbuses) throw internalError(`Inappropriate new pci controller index ${c.index} exceeds addrs array length`);
    const model = modelOf(c);
    if (!model) throw internalError('PCI controller model was not set correctly');
    setBusModel(set.buses[c.index]!, model, c.pci?.hotplug !== 'off');
    if (model === 'pcie-root') pcieRoot = true;
  }
  if (nbuses > 0 && !set.buses[0]!.model) setBusModel(set.buses[0]!, 'pci-root', true);
  const dflt: PciModel = pcieRoot ? 'pcie-root-port' : 'pci-bridge';
  for (let i = 1; i < nbuses; i++) if (!set.buses[i]!.model) setBusModel(set.buses[i]!, dflt, true);

  // qemuDomainCollectPCIAddress
  const piix3 = new Set<DeviceInfo>();
  for (const c of ctx.def.devices.controller) {
    const a = c.info.address;
    if (a?.type !== 'pci' || a.domain !== 0 || a.bus !== 0 || a.slot !== 1) continue;
    if (c.type === 'usb' && c.index === 0 && (c.model === 'piix3-uhci' || c.model === undefined) && a.function === 2) piix3.add(c.info);
    if (c.type === 'ide' && c.index === 0 && a.function === 1) piix3.add(c.info);
  }
  eachInfo(ctx.def.devices, ITERATE_ORDER, (info) => {
    if (!isPresent(info)) return;
    if (piix3.has(info)) {
      // The PIIX3's own functions are reserved with the chipset.
      if (set.buses.length && !(set.buses[0]!.flags & C.PCI_DEVICE)) throw internalError('Bus 0 must be PCI for integrated PIIX3 USB or IDE controllers');
      return;
    }
    set.reserve(info.address as PciHostAddress, flags.get(info)?.connect || C.PCI_DEVICE, true);
  });
  return set;
}

/** qemuDomainAssignDevicePCISlots: PCI controllers first, then the other devices in
 *  libvirt's order; in a dry run the addresses are only reserved. */
function assignSlots(ctx: StageContext, set: PciAddressSet): void {
  const take = (need: PciNeed) => {
    if (need.usb2) return takeUsb2(ctx, set, need, need.usb2);
    const a = set.reserveNext(need.connect, need.function);
    if (!set.dryRun) {
      const old = need.info.address;
      need.info.address = { type: 'pci', ...a, ...(old?.type === 'pci' && old.zpci ? { zpci: old.zpci } : {}) };
    }
  };
  const early: PciNeed[] = [];
  const rest: PciNeed[] = [];
  for (const kind of PCI_ORDER) {
    eachDevice(ctx.def.devices, kind, (k, dev) => {
      const need = k.pci?.(dev, ctx);
      if (need && isWanted(need.info)) (need.early ? early : rest).push(need);
    });
  }
  for (const need of [...early, ...rest]) take(need);
}

export function assignPciAddresses(ctx: StageContext): void {
  const { def, machine } = ctx;
  let maxIdx = -1;
  for (const c of pciControllers(ctx)) maxIdx = Math.max(maxIdx, c.index);
  let nbuses = maxIdx + 1;
  let flags = needs(ctx);

  if (nbuses > 0) {
    const dry = createSet(ctx, nbuses, true, flags);
    machine.chipsetPci?.(def, dry, ctx.caps);
    // With a pci-root, keep one slot free for a future pci-bridge (unless every bus is
    // already full of configured addresses).
    if (def.devices.controller.some((c) => c.type === 'pci' && c.model === 'pci-root') && !dry.buses.every((b) => dry.fullyReserved(b))) {
      dry.reserveNext(C.AUTOASSIGN | C.PCI_DEVICE, -1);
    }
    assignSlots(ctx, dry);
    // A new domain with only a pcie-root that needed root ports: one spare for hotplug.
    if (maxIdx <= 0 && dry.buses.length > maxIdx + 1 && hasPcieRoot(def)) dry.reserveNext(C.AUTOASSIGN | C.PCIE_DEVICE, -1);
    // The controllers of the buses the dry run added.
    for (let i = 1; i < dry.buses.length; i++) {
      if (def.devices.controller.some((c) => c.type === 'pci' && c.index === i)) continue;
      const model = dry.buses[i]!.model!;
      const c: ControllerDef = { type: 'pci', index: i, model, pci: { modelName: 'none', chassisNr: -1, chassis: -1, port: -1, busNr: -1, targetIndex: -1, numaNode: -1 }, info: {} };
      def.devices.controller.push(c);
      if (model !== 'pci-root' && model !== 'pcie-root') dry.reserveNext(modelConnect(model), -1);
    }
    nbuses = dry.buses.length;
    flags = needs(ctx);
  }

  const set = createSet(ctx, nbuses, false, flags);
  machine.chipsetPci?.(def, set, ctx.caps);
  assignSlots(ctx, set);
  setAllMulti(ctx);

  for (const c of pciControllers(ctx)) {
    const model = modelOf(c)!;
    const o = (c.pci ??= { modelName: 'none', chassisNr: -1, chassis: -1, port: -1, busNr: -1, targetIndex: -1, numaNode: -1 });
    if (o.modelName === 'none') o.modelName = defaultModelName(model, ctx.caps);
    const a = c.info.address?.type === 'pci' ? c.info.address : { domain: 0, bus: 0, slot: 0, function: 0 };
    if (model === 'pci-bridge' && o.chassisNr === -1) o.chassisNr = c.index;
    if (model === 'pcie-root-port') {
      if (o.chassis === -1) o.chassis = c.index;
      if (o.port === -1) o.port = (a.slot << 3) + a.function;
    }
    if (model === 'pcie-switch-downstream-port') {
      if (o.chassis === -1) o.chassis = c.index;
      if (o.port === -1) o.port = a.slot;
    }
    if ((model === 'pci-expander-bus' || model === 'pcie-expander-bus') && o.busNr === -1) {
      o.busNr = newBusNr(ctx);
      if (o.busNr === -1) throw unsupportedConfig(`No free busNr lower than current lowest busNr is available to auto-assign to bus ${a.bus}. Must be manually assigned`);
    }
    if (model === 'pci-bridge' && c.index <= a.bus) {
      const h = (n: number) => n.toString(16).padStart(2, '0');
      throw unsupportedConfig(`PCI controller at index ${c.index} (0x${h(c.index)}) has bus='0x${h(a.bus)}', but index must be larger than bus`);
    }
  }
}

/** The ICH9 USB2 controllers of one index: the slot of one that has an address already,
 *  at this one's function; else a free slot. Function 0 (UHCI1) is multifunction. */
function takeUsb2(ctx: StageContext, set: PciAddressSet, need: PciNeed, usb2: { index: number; multi: boolean }): void {
  const placed = ctx.def.devices.controller.find((c) => c.type === 'usb' && c.index === usb2.index &&
    c.model !== undefined && ['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3'].includes(c.model) && isPresent(c.info));
  const multi = usb2.multi ? { multifunction: 'on' as const } : {};
  if (placed?.info.address?.type === 'pci') {
    const a = { domain: placed.info.address.domain, bus: placed.info.address.bus, slot: placed.info.address.slot, function: need.function };
    set.reserve(a, need.connect, true);
    need.info.address = { type: 'pci', ...a, ...multi };
    return;
  }
  const a = set.reserveNext(need.connect, need.function);
  if (!set.dryRun) need.info.address = { type: 'pci', ...a, ...multi };
}

/** qemuDomainAddressFindNewBusNr: two below the lowest busNr in use (one for the
 *  expander bus, one for its built-in bridge), -1 when that would reach bus 1. */
function newBusNr(ctx: StageContext): number {
  let lowest = 256;
  for (const c of pciControllers(ctx)) if (c.pci && c.pci.busNr >= 0 && c.pci.busNr < lowest) lowest = c.pci.busNr;
  return lowest <= 2 ? -1 : lowest - 2;
}

/** virDomainPCIAddressSetAllMulti: function 0 of a slot with other functions in use is
 *  multifunction='on', unless the config said 'off'. */
function setAllMulti(ctx: StageContext): void {
  const infos: DeviceInfo[] = [];
  eachInfo(ctx.def.devices, ITERATE_ORDER, (info) => infos.push(info));
  const key = (a: PciHostAddress) => `${a.domain}:${a.bus}:${a.slot}`;
  const multi = new Set<string>();
  for (const i of infos) if (i.address?.type === 'pci' && i.address.function !== 0) multi.add(key(i.address));
  for (const i of infos) {
    const a = i.address;
    if (a?.type === 'pci' && a.function === 0 && multi.has(key(a)) && a.multifunction === undefined) a.multifunction = 'on';
  }
}
