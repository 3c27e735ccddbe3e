// Stage 3, address assignment (qemuDomainAssignAddresses): CCW, then PCI, then USB.
// Explicit addresses are reserved first, in ITERATE_ORDER (a clash is libvirt's
// "double use" error); then each device without one gets what its kind asks for, in
// PCI_ORDER; on s390x every PCI device gets zPCI ids.
import { internalError, notImplemented, xmlError } from '../errors.js';
import { checkPiix3Usb } from '../devices/controller.js';
import { pciString, wantsPci, zpciOf } from '../devices/info.js';
import type { StageContext } from '../devices/kind.js';
import { eachDevice, eachInfo } from '../devices/registry.js';
import type { DeviceInfo, PciAddress, PciHostAddress } from '../model.js';
import { ITERATE_ORDER, PCI_ORDER } from './order.js';

/** Bus 0 of the PCI root: which functions of which slots are taken. */
class PciBus {
  private used = new Map<number, Set<number>>();

  constructor(reserved: [number, number[]][]) {
    for (const [slot, fns] of reserved) this.used.set(slot, new Set(fns));
  }

  reserve(a: PciHostAddress): void {
    if (a.domain !== 0) throw xmlError(`Invalid PCI address ${pciString(a)}. Only PCI domain 0 is available`);
    if (a.bus !== 0) throw notImplemented(`PCI bus ${a.bus} (libvirt would add a pci-bridge controller)`);
    const fns = this.used.get(a.slot) ?? new Set<number>();
    if (fns.has(a.function) || a.slot === 0) throw xmlError(`Attempted double use of PCI Address ${pciString(a)}`);
    fns.add(a.function);
    this.used.set(a.slot, fns);
  }

  /** Next slot with no function in use, taking function `fn` of it. libvirt keeps the
   *  last free slot of bus 0 for a pci-bridge: taking it is where virtgold stops. */
  next(fn: number): PciAddress {
    const free = [];
    for (let slot = 1; slot <= 31; slot++) if (!this.used.has(slot)) free.push(slot);
    if (free.length <= 1) throw notImplemented('filling the last free slot of PCI bus 0 (libvirt would add a pci-bridge controller)');
    const slot = free[0]!;
    this.used.set(slot, new Set([fn]));
    return { type: 'pci', domain: 0, bus: 0, slot, function: fn };
  }
}


export function assignAddresses(ctx: StageContext): void {
  const { def, machine } = ctx;
  const infos: DeviceInfo[] = [];
  eachInfo(def.devices, ITERATE_ORDER, (info) => infos.push(info));

  // CCW (qemuDomainAssignS390Addresses): virtio devices of a CCW machine, devno from 0.
  if (machine.virtioCcw) {
    const used = new Set(infos.flatMap((i) => (i.address?.type === 'ccw' ? [i.address.devno] : [])));
    for (const kind of ITERATE_ORDER) {
      eachDevice(def.devices, kind, (k, dev) => {
        const info = k.info?.(dev);
        if (!info || info.address || k.visitedElsewhere?.(dev) || !k.ccw?.(dev, ctx)) return;
        let devno = 0;
        while (used.has(devno)) devno++;
        used.add(devno);
        info.address = { type: 'ccw', cssid: 0xfe, ssid: 0, devno };
      });
    }
  }

  // PCI (qemuDomainAssignPCIAddresses): explicit addresses, the chipset's own checks, then the rest.
  const bus = new PciBus(machine.reservedPci);
  for (const info of infos) if (info.address?.type === 'pci' && !wantsPci(info)) bus.reserve(info.address);
  if (machine.builtinUsb) checkPiix3Usb(def.devices.controller);
  for (const kind of PCI_ORDER) {
    eachDevice(def.devices, kind, (k, dev) => {
      const need = k.pci?.(dev, ctx);
      if (!need || !wantsPci(need.info)) return;
      const info = need.info;
      const zpci = zpciOf(info);
      if (need.kind === 'fixed') {
        bus.reserve(need.address);
        info.address = { type: 'pci', ...need.address };
      } else {
        info.address = bus.next(need.function);
      }
      if (zpci) info.address.zpci = zpci;
    });
  }
  if (machine.zpci) assignZpci(infos);

  // USB (qemuDomainAssignUSBAddresses): controllers with one index form one bus.
  const usb = new Set<number>();
  for (const c of def.devices.controller) {
    if (c.type !== 'usb') continue;
    if (usb.has(c.index)) throw xmlError(`Duplicate USB controllers with index ${c.index}`);
    usb.add(c.index);
  }
}

/** zPCI uid (from 1) and fid (from 0) for every PCI device. Like libvirt, devices that
 *  came with zPCI ids are handled first, in device order, each taking its own ids and
 *  the next free ones for what it lacks; then the others, in device order. */
function assignZpci(infos: DeviceInfo[]): void {
  const pci = infos.filter((i) => i.address?.type === 'pci');
  const hasIds = (i: DeviceInfo) => zpciOf(i)?.uid !== undefined || zpciOf(i)?.fid !== undefined;
  const ids = { uid: { used: new Set<number>(), next: 1 }, fid: { used: new Set<number>(), next: 0 } };
  const take = (kind: 'uid' | 'fid', explicit: number | undefined): number => {
    const { used } = ids[kind];
    if (explicit !== undefined) {
      // (sic) libvirt 9.0.0 prints the id in octal.
      if (used.has(explicit)) throw internalError(`zPCI ${kind} ${explicit.toString(8)} is already reserved`);
      used.add(explicit);
      return explicit;
    }
    // Ids are only ever taken, so the lowest free one only grows.
    while (used.has(ids[kind].next)) ids[kind].next++;
    used.add(ids[kind].next);
    return ids[kind].next;
  };
  for (const info of [...pci.filter(hasIds), ...pci.filter((i) => !hasIds(i))]) {
    const a = info.address as PciAddress;
    const z = a.zpci ?? {};
    a.zpci = { uid: take('uid', z.uid), fid: take('fid', z.fid) };
  }
}
