// Stage 3, address assignment (qemuDomainAssignAddresses): CCW, then PCI (with the
// controllers it adds: stages/pci-assign.ts), then USB; on s390x every PCI device gets
// zPCI ids.
import { internalError, xmlError } from '../errors.js';
import { zpciOf } from '../devices/info.js';
import type { StageContext } from '../devices/kind.js';
import { eachDevice, eachInfo } from '../devices/registry.js';
import type { DeviceInfo, PciAddress } from '../model.js';
import { ITERATE_ORDER } from './order.js';
import { assignPciAddresses } from './pci-assign.js';
import { assignUsbAddresses } from './usb-assign.js';
import { assignSpaprVioAddresses } from '../devices/controller-storage.js';
import { assignVirtioSerialAddresses } from '../devices/chardev.js';
import { assignMemorySlots } from '../devices/memory-device.js';

export function assignAddresses(ctx: StageContext): void {
  const { def, machine } = ctx;
  const infos: DeviceInfo[] = [];
  eachInfo(def.devices, ITERATE_ORDER, (info) => infos.push(info));

  // virtio-serial ports (qemuDomainAssignVirtioSerialAddresses)
  assignVirtioSerialAddresses(def);
  // spapr-vio (qemuDomainAssignSpaprVIOAddresses)
  assignSpaprVioAddresses(def);

  // CCW (qemuDomainAssignS390Addresses): the virtio devices of a CCW machine without an
  // address, and those given `<address type='ccw'/>`, take the next free fe.0.devno.
  if (machine.virtioCcw) {
    // (virCCWDeviceAddressAsString: the key, and how libvirt names a devno taken twice)
    const key = (a: { cssid: number; ssid: number; devno: number }) => `${a.cssid.toString(16)}.${a.ssid.toString(16)}.${a.devno.toString(16).padStart(4, '0')}`;
    const used = new Set<string>();
    for (const i of infos) {
      if (i.address?.type !== 'ccw' || i.address.unassigned) continue;
      if (used.has(key(i.address))) throw xmlError(`The CCW devno '${key(i.address)}' is in use already`);
      used.add(key(i.address));
    }
    let devno = 0;
    for (const kind of ITERATE_ORDER) {
      eachDevice(def.devices, kind, (k, dev) => {
        const info = k.info?.(dev);
        if (!info || k.visitedElsewhere?.(dev)) return;
        const a = info.address;
        if (a ? !(a.type === 'ccw' && a.unassigned) : !k.ccw?.(dev, ctx)) return;
        while (used.has(key({ cssid: 0xfe, ssid: 0, devno }))) devno++;
        if (devno > 0xffff) throw internalError('There are no more free CCW devnos.');
        used.add(key({ cssid: 0xfe, ssid: 0, devno }));
        info.address = { type: 'ccw', cssid: 0xfe, ssid: 0, devno };
      });
    }
  }

  // PCI (qemuDomainAssignPCIAddresses)
  assignPciAddresses(ctx);
  // zPCI ids go to the devices there were before PCI assignment: not to the controllers
  // it adds (libvirt's inactive XML shows none on them) …
  if (machine.zpci) assignZpci(infos);

  // USB (qemuDomainAssignUSBAddresses)
  assignUsbAddresses(ctx);
  // DIMM slots (qemuDomainAssignMemorySlots)
  assignMemorySlots(def);
}

/** … which get theirs when the domain starts (qemuProcessPrepareDomain assigns addresses
 *  again, now with those controllers in the definition): the command line has them. */
export function assignStartAddresses(ctx: StageContext): void {
  // Devices that start anew (domxml-to-native's interfaces) get addresses again, after
  // every other device has kept its own.
  let again = false;
  for (const kind of ITERATE_ORDER) eachDevice(ctx.def.devices, kind, (k, dev) => { if (k.startAnew?.(dev)) again = true; });
  if (again) assignAddresses(ctx);
  if (!ctx.machine.zpci) return;
  const all: DeviceInfo[] = [];
  eachInfo(ctx.def.devices, ITERATE_ORDER, (info) => all.push(info));
  assignZpci(all);
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
