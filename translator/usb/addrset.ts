// USB addresses and libvirt's USB address set (domain_addr.c: virDomainUSBAddressSet*,
// virDomainUSBAddressReserve/Assign, device_conf.c's port parser): each USB controller
// with ports is a bus, each hub placed on a port adds 8 ports below it, ports are
// numbered from 1 and a device's port is a path of at most 4 numbers ("1.2").
import { internalError, xmlError } from '../errors.js';
import type { UsbAddress } from '../model.js';
import { propUInt } from '../xml/props.js';
import type { XElement } from '../xml/tree.js';

/** VIR_DOMAIN_DEVICE_USB_MAX_PORT_DEPTH */
export const USB_MAX_DEPTH = 4;
/** VIR_DOMAIN_USB_HUB_PORTS */
export const USB_HUB_PORTS = 8;
const UINT_MAX = 4294967295;

/** virDomainDeviceUSBAddressParseXML: the port path first (each number as strtoul reads
 *  it, '.' between them: a number may also simply follow another after blanks), then the bus. */
export function parseUsbAddress(addr: XElement): UsbAddress {
  const port = [0, 0, 0, 0];
  const raw = addr.attrs.port;
  if (raw !== undefined && !parsePort(raw, port)) throw internalError("Cannot parse <address> 'port' attribute");
  return { type: 'usb', bus: propUInt(addr, 'bus') ?? 0, port };
}

function parsePort(s: string, port: number[]): boolean {
  let at = 0;
  for (let i = 0; i < USB_MAX_DEPTH; i++) {
    // virStrToLong_uip: blanks, a sign, decimal digits; no '-', no overflow
    const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(s.slice(at));
    if (!m || m[1] === '-') return false;
    const v = Number(m[2]);
    if (v > UINT_MAX) return false;
    port[i] = v;
    at += m[0].length;
    if (at === s.length) return true;
    if (s[at] === '.') at++;
  }
  return false;
}

/** virDomainUSBAddressPortIsValid */
export const usbPortValid = (a: UsbAddress) => a.port[0] !== 0;

/** virDomainUSBAddressPortFormat: the numbers up to the first 0 */
export function usbPortString(port: readonly number[]): string {
  const end = port.indexOf(0);
  return (end < 0 ? port : port.slice(0, end)).join('.');
}

/** One controller or hub: its ports' bitmap and the hubs plugged into them. */
interface Hub {
  used: boolean[];
  hubs: (Hub | undefined)[];
}

const newHub = (n: number): Hub => ({ used: new Array<boolean>(n).fill(false), hubs: new Array<Hub | undefined>(n).fill(undefined) });

/** virDomainUSBAddressSet: one hub tree per bus (controller index). */
export class UsbAddressSet {
  private readonly buses: (Hub | undefined)[] = [];

  /** virDomainUSBAddressSetAddController (a controller of 0 ports adds no bus) */
  addController(index: number, ports: number): void {
    if (ports === 0) return;
    if (this.buses[index]) throw xmlError(`Duplicate USB controllers with index ${index}`);
    this.buses[index] = newHub(ports);
  }

  /** virDomainUSBAddressFindPort: the hub the path ends on and the port index there */
  private findPort(a: UsbAddress, portStr: string): { hub: Hub; at: number } {
    let hub = this.buses[a.bus];
    if (!hub) throw xmlError(`Missing USB bus ${a.bus}`);
    let last = USB_MAX_DEPTH - 1;
    while (last > 0 && a.port[last] === 0) last--;
    for (let i = 0; i < last; i++) {
      const p = a.port[i]!;
      // (a 0 inside the path is port -1, out of any range)
      if (p === 0 || p - 1 >= hub.used.length) throw xmlError(`port ${p} out of range in USB address bus: ${a.bus} port: ${portStr}`);
      const next: Hub | undefined = hub.hubs[p - 1];
      if (!next) throw xmlError(`there is no hub at port ${p} in USB address bus: ${a.bus} port: ${portStr}`);
      hub = next;
    }
    const at = a.port[last]! - 1;
    if (at < 0 || at >= hub.used.length) throw xmlError(`requested USB port ${portStr} not present on USB bus ${a.bus}`);
    return { hub, at };
  }

  /** virDomainUSBAddressSetAddHub: a hub at its (valid) address adds its ports */
  addHub(a: UsbAddress): void {
    const portStr = usbPortString(a.port);
    const { hub, at } = this.findPort(a, portStr);
    if (hub.hubs[at]) throw xmlError(`Duplicate USB hub on bus ${a.bus} port ${portStr}`);
    hub.used[at] = true;
    hub.hubs[at] = newHub(USB_HUB_PORTS);
  }

  /** virDomainUSBAddressReserve (for an address with a valid port) */
  reserve(a: UsbAddress): void {
    const portStr = usbPortString(a.port);
    const { hub, at } = this.findPort(a, portStr);
    if (hub.used[at]) throw xmlError(`Duplicate USB address bus ${a.bus} port ${portStr}`);
    hub.used[at] = true;
  }

  /** virDomainUSBAddressAssign: the first free port of the bus asked for, else of any
   *  bus in index order; each hub's own ports before those of the hubs on it. */
  assign(wanted: UsbAddress | undefined): UsbAddress {
    if (wanted) {
      if (!this.buses[wanted.bus]) throw xmlError(`USB bus ${wanted.bus} requested but no controller with that index is present`);
      const got = this.fromBus(wanted.bus);
      if (got) return got;
    } else {
      for (let bus = 0; bus < this.buses.length; bus++) {
        const got = this.fromBus(bus);
        if (got) return got;
      }
    }
    throw internalError('No free USB ports');
  }

  private fromBus(bus: number): UsbAddress | undefined {
    const hub = this.buses[bus];
    const path = [0, 0, 0, 0];
    if (!hub || !findFree(hub, path, 0)) return undefined;
    const a: UsbAddress = { type: 'usb', bus, port: path };
    this.reserve(a);
    return a;
  }
}

/** virDomainUSBAddressFindFreePort */
function findFree(hub: Hub, path: number[], level: number): boolean {
  const free = hub.used.indexOf(false);
  if (free >= 0) {
    path[level] = free + 1;
    return true;
  }
  if (level >= USB_MAX_DEPTH - 1) return false;
  for (let i = 0; i < hub.hubs.length; i++) {
    const below = hub.hubs[i];
    if (!below || !findFree(below, path, level + 1)) continue;
    path[level] = i + 1;
    return true;
  }
  return false;
}
