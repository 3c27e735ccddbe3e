// Guest address assignment (libvirt's qemu_domain_address.c) and device aliases.
// Explicit addresses are reserved first (a clash is libvirt's "double use" error),
// then devices without one get the next free slot in libvirt's device order.
import { internalError, notImplemented, xmlError } from './errors.js';
import { machineFamily } from './defaults.js';
import type { DeviceAddress, DeviceInfo, DomainDef } from './model.js';

type PciAddr = Extract<DeviceAddress, { type: 'pci' }>;

const fmtPci = (a: { domain: number; bus: number; slot: number; function: number }) =>
  `${a.domain.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:` +
  `${a.slot.toString(16).padStart(2, '0')}.${a.function}`;

/** virDeviceInfoPCIAddressIsWanted: no address, or a PCI one with domain, bus and slot 0. */
function wantsPci(info: DeviceInfo): boolean {
  const a = info.address;
  return !a || (a.type === 'pci' && a.domain === 0 && a.bus === 0 && a.slot === 0);
}

class PciBus {
  /** functions in use, per slot of bus 0 */
  private used = new Map<number, Set<number>>();

  constructor(reserved: [number, number[]][]) {
    for (const [slot, fns] of reserved) this.used.set(slot, new Set(fns));
  }

  reserveExplicit(a: PciAddr): void {
    if (a.domain !== 0) throw xmlError(`Invalid PCI address ${fmtPci(a)}. Only PCI domain 0 is available`);
    if (a.bus !== 0) throw notImplemented(`PCI bus ${a.bus} (libvirt would add a pci-bridge controller)`);
    const fns = this.used.get(a.slot) ?? new Set<number>();
    if (fns.has(a.function) || a.slot === 0) throw xmlError(`Attempted double use of PCI Address ${fmtPci(a)}`);
    fns.add(a.function);
    this.used.set(a.slot, fns);
  }

  /** Next slot with no function in use, taking function `fn` of it. libvirt keeps the
   *  last free slot of bus 0 for a pci-bridge: taking it is where virtgold stops. */
  next(fn = 0): PciAddr {
    const free = [];
    for (let slot = 1; slot <= 31; slot++) if (!this.used.has(slot)) free.push(slot);
    if (free.length <= 1) {
      throw notImplemented('filling the last free slot of PCI bus 0 (libvirt would add a pci-bridge controller)');
    }
    const slot = free[0]!;
    this.used.set(slot, new Set([fn]));
    return { type: 'pci', domain: 0, bus: 0, slot, function: fn };
  }
}

export function assignAddresses(def: DomainDef): void {
  const family = machineFamily(def);
  const d = def.devices;
  // Slot 0 is the host bridge. On a PC, slot 1 is the PIIX3: its ISA bridge (1.0) and
  // power management (1.3) are always there; its USB function (1.2) is taken by the
  // default controller below; the IDE function (1.1) only matters with IDE disks.
  const bus = new PciBus(family === 'i440fx' ? [[0, [0, 1, 2, 3, 4, 5, 6, 7]], [1, [0, 3]]] : [[0, [0, 1, 2, 3, 4, 5, 6, 7]]]);

  const pciDevices: DeviceInfo[] = [
    ...d.controllers.filter((c) => c.type === 'usb' && c.model !== 'none').map((c) => c.info),
    ...d.hostdevs.map((h) => h.info),
    ...(d.memballoon && d.memballoon.model !== 'none' ? [d.memballoon.info] : []),
  ];
  for (const info of pciDevices) {
    if (info.address?.type === 'pci' && !wantsPci(info)) bus.reserveExplicit(info.address);
  }

  for (const c of d.controllers) {
    if (c.type !== 'usb' || c.model === 'none' || !wantsPci(c.info)) continue;
    const zpci = (c.info.address as PciAddr | undefined)?.zpci;
    if (family === 'i440fx' && c.model === 'piix3-uhci' && c.index === 0) {
      // The PIIX3's own USB function.
      c.info.address = { type: 'pci', domain: 0, bus: 0, slot: 1, function: 2 };
      bus.reserveExplicit(c.info.address);
    } else {
      // An EHCI "ich9-ehci1" sits at function 7, where its UHCI companions would join it.
      c.info.address = bus.next(c.model === 'ich9-ehci1' ? 7 : 0);
    }
    if (zpci) c.info.address.zpci = zpci;
  }
  // zPCI ids given in the XML are taken first (device order), then the rest are numbered.
  const hasZpci = (i: DeviceInfo) => i.address?.type === 'pci' && (i.address.zpci?.uid !== undefined || i.address.zpci?.fid !== undefined);
  const zpciFirst = d.hostdevs.map((h) => h.info).filter(hasZpci);
  const zpciRest = d.hostdevs.map((h) => h.info).filter((i) => !hasZpci(i));
  for (const h of d.hostdevs) {
    if (!wantsPci(h.info)) continue;
    const zpci = (h.info.address as PciAddr | undefined)?.zpci;
    h.info.address = bus.next();
    if (zpci) h.info.address.zpci = zpci;
  }

  const mb = d.memballoon;
  if (mb && mb.model !== 'none') {
    if (family === 's390-ccw') {
      if (!mb.info.address) mb.info.address = nextCcw(def);
    } else if (wantsPci(mb.info)) {
      mb.info.address = bus.next();
    }
  }

  if (family === 's390-ccw') assignZpci(zpciFirst, zpciRest);
}

/** CCW device numbers: 0xfe.0.xxxx, the first free from 0, as libvirt's virtio-ccw set does. */
function nextCcw(def: DomainDef): DeviceAddress {
  const used = new Set<number>();
  const mb = def.devices.memballoon;
  if (mb?.info.address?.type === 'ccw') used.add(mb.info.address.devno);
  let devno = 0;
  while (used.has(devno)) devno++;
  return { type: 'ccw', cssid: 0xfe, ssid: 0, devno };
}

/** zPCI uid (from 1) and fid (from 0) for every PCI device on s390x. Like libvirt, devices
 *  that came with zPCI ids are handled first, in device order, each taking its own ids and
 *  the next free ones for what it lacks; then the others, in device order. */
function assignZpci(withIds: DeviceInfo[], without: DeviceInfo[]): void {
  const uids = new Set<number>();
  const fids = new Set<number>();
  const take = (set: Set<number>, kind: 'uid' | 'fid', explicit: number | undefined, first: number): number => {
    if (explicit !== undefined) {
      if (set.has(explicit)) throw internalError(`zPCI ${kind} ${explicit} is already reserved`);
      set.add(explicit);
      return explicit;
    }
    let v = first;
    while (set.has(v)) v++;
    set.add(v);
    return v;
  };
  for (const info of [...withIds, ...without]) {
    const a = info.address;
    if (a?.type !== 'pci') continue;
    const z = a.zpci ?? {};
    a.zpci = { uid: take(uids, 'uid', z.uid, 1), fid: take(fids, 'fid', z.fid, 0) };
  }
}

/** QEMU ids, as qemuAssignDeviceAliases gives them. */
export function assignAliases(def: DomainDef): void {
  def.devices.hostdevs.forEach((h, i) => (h.info.alias = `hostdev${i}`));
  for (const c of def.devices.controllers) {
    if (c.type === 'usb') c.info.alias = c.index === 0 ? 'usb' : `usb${c.index}`;
    else c.info.alias = `pci.${c.index}`;
  }
  if (def.devices.memballoon) def.devices.memballoon.info.alias = 'balloon0';
}
