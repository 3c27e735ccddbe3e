// Disk targets and drive addresses: libvirt's virDiskNameToIndex, virDomainDiskInsert
// (the order disks are kept in), virDomainDiskDefAssignAddress (the default
// controller/bus/unit of a disk from its target name) and the controllers a disk's
// drive address implies (virDomainDefAddImplicitControllers).
import { xmlError } from '../errors.js';
import { maybeAddController } from '../devices/controller-def.js';
import type { DomainDef } from '../model.js';

/** <address type='drive'> */
export interface DriveAddress {
  controller: number;
  bus: number;
  target: number;
  unit: number;
}

const PREFIXES = ['fd', 'hd', 'vd', 'sd', 'xvd', 'ubd'];
const isLower = (c: string | undefined) => c !== undefined && c >= 'a' && c <= 'z';

/** virDiskNameParse: `sda` → 0, `hdz` → 25, `vdaa` → 26; with the partition number
 *  (the trailing digits). undefined: not a disk name. Indexes wrap as libvirt's int does. */
export function diskNameParse(name: string): { index: number; partition: number } | undefined {
  const prefix = PREFIXES.find((p) => name.startsWith(p));
  if (prefix === undefined) return undefined;
  let i = prefix.length;
  if (!isLower(name[i])) return undefined;
  let idx = 0;
  for (let n = 0; isLower(name[i]); n++, i++) {
    idx = Math.imul(idx + (n < 1 ? 0 : 1), 26) | 0;
    idx = (idx + (name.charCodeAt(i) - 97)) | 0;
  }
  const digits = name.slice(i);
  if (!/^[0-9]*$/.test(digits)) return undefined;
  let partition = 0;
  if (digits.length > 1 && digits[0] === '0') return { index: idx, partition: -1 };
  if (digits.length) {
    const v = Number(digits);
    if (v > 2147483647) return { index: idx, partition: -1 };
    partition = v;
  }
  return { index: idx, partition };
}

/** virDiskNameToIndex: -1 for a name that is not a disk name. */
export function diskNameToIndex(name: string): number {
  return diskNameParse(name)?.index ?? -1;
}

interface DiskNode<D> { d: D; idx: number | undefined; prev?: DiskNode<D>; next?: DiskNode<D> }

/** virDomainDiskInsert, disk after disk: a disk goes before the first disk of its bus
 *  with a higher target index, else after the last of its bus, else at the end.
 *  libvirt scans the whole list for each disk; here each bus keeps its disks in list
 *  order, which that rule keeps sorted by index (so the first higher one is a binary
 *  search), and the list is linked: the same order, not quadratic in the disks. */
export function diskInserter<D extends { bus?: string; dst?: string }>(): { add(d: D): void; list(): D[] } {
  let head: DiskNode<D> | undefined;
  let tail: DiskNode<D> | undefined;
  const buses = new Map<string | undefined, { nodes: DiskNode<D>[]; sorted: boolean }>();
  const link = (n: DiskNode<D>, before: DiskNode<D> | undefined) => {
    n.next = before;
    n.prev = before ? before.prev : tail;
    if (n.prev) n.prev.next = n;
    else head = n;
    if (before) before.prev = n;
    else tail = n;
  };
  return {
    add(d) {
      const n: DiskNode<D> = { d, idx: d.dst === undefined ? undefined : diskNameToIndex(d.dst) };
      let bus = buses.get(d.bus);
      if (!bus) buses.set(d.bus, (bus = { nodes: [], sorted: true }));
      const { nodes } = bus;
      let at = nodes.length;
      if (n.idx !== undefined) {
        if (bus.sorted) {
          let lo = 0;
          while (lo < at) {
            const mid = (lo + at) >> 1;
            if (nodes[mid]!.idx! > n.idx) at = mid;
            else lo = mid + 1;
          }
        } else {
          const j = nodes.findIndex((o) => o.idx !== undefined && o.idx > n.idx!);
          if (j !== -1) at = j;
        }
      } else {
        bus.sorted = false; // a disk without a target never counts as higher
      }
      // Before that disk of the bus, else after the bus's last, else at the list's end.
      link(n, at < nodes.length ? nodes[at] : nodes.length ? nodes[nodes.length - 1]!.next : undefined);
      nodes.splice(at, 0, n);
    },
    list() {
      const out: D[] = [];
      for (let n = head; n; n = n.next) out.push(n.d);
      return out;
    },
  };
}

/** virDomainDiskDefAssignAddress for the buses that have drive addresses; undefined
 *  for the others. */
export function defaultDriveAddress(dst: string, bus: string): DriveAddress | undefined {
  const idx = diskNameToIndex(dst);
  if (idx < 0) throw xmlError(`Unknown disk name '${dst}' and no address specified`);
  switch (bus) {
    // the qemu driver's SCSI buses are narrow: 7 units a controller
    case 'scsi': return { controller: Math.trunc(idx / 7), bus: 0, target: 0, unit: idx % 7 };
    case 'ide': return { controller: Math.trunc(idx / 4), bus: Math.trunc((idx % 4) / 2), target: 0, unit: idx % 2 };
    case 'sata': return { controller: Math.trunc(idx / 6), bus: 0, target: 0, unit: idx % 6 };
    case 'fdc': return { controller: Math.trunc(idx / 2), bus: 0, target: 0, unit: idx % 2 };
    default: return undefined;
  }
}

/** virDomainDefAddImplicitControllers (the disk part): controllers 0…max of each disk
 *  bus's controller type, for the highest controller a drive address names, each one
 *  missing appended (virDomainDefMaybeAddController). */
export function addImplicitDiskControllers(def: DomainDef, disks: { bus?: string; drive?: DriveAddress }[]): void {
  for (const type of ['scsi', 'fdc', 'ide', 'sata'] as const) {
    let max = -1;
    for (const d of disks) if (d.bus === type && d.drive) max = Math.max(max, d.drive.controller);
    for (let i = 0; i <= max; i++) maybeAddController(def, type, i);
  }
}
