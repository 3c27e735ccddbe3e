// What every device kind shares (virDomainDeviceInfo): the guest address (PCI with its
// zPCI extension, CCW), boot order and ROM settings — parsed, formatted as XML and
// rendered as QEMU properties here, and nowhere else.
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceAddress, DeviceInfo, DomainDef, PciAddress, PciHostAddress, ZpciAddress } from '../model.js';
import { propOnOff, propUInt, propYesNo } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { parseUsbAddress, usbPortString, usbPortValid } from '../usb/addrset.js';

export const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

// ---- PCI addresses ----------------------------------------------------------------

/** `DDDD:BB:SS.F`, as libvirt writes a PCI address in messages and QEMU's host=. */
export const pciString = (a: PciHostAddress) => `${hex(a.domain, 4)}:${hex(a.bus, 2)}:${hex(a.slot, 2)}.${a.function.toString(16)}`;

/** The attributes of a PCI <address> element, as virPCIDeviceAddressFormat writes them. */
export const pciAttrs = (a: PciHostAddress) =>
  `domain='0x${hex(a.domain, 4)}' bus='0x${hex(a.bus, 2)}' slot='0x${hex(a.slot, 2)}' function='0x${a.function.toString(16)}'`;

const pciField = (addr: XElement, name: string): number => propUInt(addr, name, { base0: true }) ?? 0;

/** domain/bus/slot/function of an <address>, range-checked (virPCIDeviceAddressParseXML). */
export function parsePciAddress(addr: XElement): PciHostAddress {
  const a = { domain: pciField(addr, 'domain'), bus: pciField(addr, 'bus'), slot: pciField(addr, 'slot'), function: pciField(addr, 'function') };
  if (a.domain > 0xffff) throw xmlError(`Invalid PCI address domain='0x${hex(a.domain, 4)}', must be <= 0xFFFF`);
  if (a.bus > 0xff) throw xmlError(`Invalid PCI address bus='0x${hex(a.bus, 2)}', must be <= 0xFF`);
  if (a.slot > 0x1f) throw xmlError(`Invalid PCI address slot='0x${hex(a.slot, 2)}', must be <= 0x1F`);
  if (a.function > 7) throw xmlError(`Invalid PCI address function=0x${a.function.toString(16)}, must be <= 7`);
  return a;
}

function parseZpci(z: XElement): ZpciAddress {
  const out: ZpciAddress = {};
  const uid = propUInt(z, 'uid', { base0: true });
  const fid = propUInt(z, 'fid', { base0: true });
  if (uid !== undefined) out.uid = uid;
  if (fid !== undefined) out.fid = fid;
  if (out.uid !== undefined && (out.uid < 1 || out.uid > 0xffff)) {
    throw xmlError(`Invalid PCI address uid='0x${hex(out.uid, 4)}', must be > 0x0000 and <= 0xffff`);
  }
  return out;
}

/** Address types a device takes only where its kind says so (`also`): spapr-vio and USB
 *  where the kind can place them, 'unassigned' (a device the domain holds but does not
 *  show its guest) on host devices, 'virtio-mmio' where libvirt validates it away. */
export type OptionalAddressType = 'spapr-vio' | 'usb' | 'unassigned' | 'virtio-mmio';

/** The device's guest address (<address type=…/> directly under the device): PCI and
 *  CCW on every kind (validation refuses them where they do not belong), the others
 *  where `also` lists them. */
export function parseDeviceAddress(dev: XElement, what: string, also: readonly OptionalAddressType[] = []): DeviceAddress | undefined {
  const addr = child(dev, 'address');
  if (!addr) return undefined;
  const type = addr.attrs.type;
  if (type === undefined) throw xmlError('No type specified for device address');
  if (type === 'pci') {
    const multifunction = propOnOff(addr, 'multifunction');
    const z = child(addr, 'zpci');
    return { type: 'pci', ...parsePciAddress(addr), ...(multifunction ? { multifunction } : {}), ...(z ? { zpci: parseZpci(z) } : {}) };
  }
  if (type === 'ccw') {
    // virCCWDeviceAddressParseXML: all three ids, or none (libvirt then assigns one)
    const [cssid, ssid, devno] = (['cssid', 'ssid', 'devno'] as const).map((k) => propUInt(addr, k, { base0: true }));
    const a = { type: 'ccw' as const, cssid: cssid ?? 0, ssid: ssid ?? 0, devno: devno ?? 0 };
    if (a.cssid > 0xfe || a.ssid > 3 || a.devno > 0xffff) {
      throw internalError(`Invalid specification for virtio ccw address: cssid='0x${a.cssid.toString(16)}' ssid='0x${a.ssid.toString(16)}' devno='0x${hex(a.devno, 4)}'`);
    }
    const given = [cssid, ssid, devno].filter((v) => v !== undefined).length;
    if (given === 3) return a;
    if (given) throw internalError('Invalid partial specification for virtio ccw address');
    return { ...a, unassigned: true };
  }
  if (type === 'usb' && also.includes('usb')) return parseUsbAddress(addr);
  if ((type === 'unassigned' || type === 'virtio-mmio') && also.includes(type)) return { type };
  if (type === 'spapr-vio' && also.includes('spapr-vio')) {
    // virXMLPropULongLong, base 16; a reg of 0 is a reg too (only QEMU's property skips it).
    const raw = addr.attrs.reg;
    if (raw === undefined) return { type };
    const m = /^[ \t\n\v\f\r]*\+?(?:0[xX])?([0-9a-fA-F]+)$/.exec(raw);
    if (!m) throw xmlError(`Invalid value for attribute 'reg' in element 'address': '${raw}'. Expected non-negative integer value`);
    const reg = parseInt(m[1]!, 16);
    if (!Number.isSafeInteger(reg)) throw notImplemented(`<address type='spapr-vio' reg='${raw}'> above 2^53`);
    return { type, reg };
  }
  throw notImplemented(`<address type='${type}'> on ${what}`);
}

/** virDeviceInfoPCIAddressIsWanted: no address, or a PCI one with domain, bus and slot 0. */
export function wantsPci(info: DeviceInfo): boolean {
  const a = info.address;
  return !a || (a.type === 'pci' && a.domain === 0 && a.bus === 0 && a.slot === 0);
}

/** The zPCI ids given in the XML, kept when the PCI address itself is assigned. */
export const zpciOf = (info: DeviceInfo): ZpciAddress | undefined => (info.address?.type === 'pci' ? info.address.zpci : undefined);

// ---- device info ------------------------------------------------------------------

/** virDomainDeviceInfoParseXML's alias: inactive XML keeps only a user alias, 'ua-'
 *  and then letters, digits, '_' and '-'; any other alias is dropped silently. */
export function parseUserAlias(dev: XElement): string | undefined {
  const name = child(dev, 'alias')?.attrs.name;
  return name?.startsWith('ua-') && /^[a-zA-Z0-9_-]*$/.test(name) ? name : undefined;
}

/** virDomainDeviceInfoParseXML for the parts in scope: alias, address, boot order, rom, ACPI index. */
export function parseDeviceInfo(dev: XElement, what: string, allowBootRom: boolean, also: readonly OptionalAddressType[] = []): DeviceInfo {
  const info: DeviceInfo = {};
  const userAlias = parseUserAlias(dev);
  if (userAlias !== undefined) info.userAlias = userAlias;
  const acpi = child(dev, 'acpi');
  const acpiIndex = acpi && propUInt(acpi, 'index', { nonZero: true });
  if (acpiIndex) info.acpiIndex = acpiIndex;
  const address = parseDeviceAddress(dev, what, also);
  if (address) info.address = address;
  const boot = child(dev, 'boot');
  const rom = child(dev, 'rom');
  if (!allowBootRom && (boot || rom)) throw notImplemented(`<${boot ? 'boot' : 'rom'}> in ${what}`);
  if (boot) {
    if (boot.attrs.order === undefined) throw xmlError('missing boot order attribute');
    info.bootIndex = propUInt(boot, 'order', { nonZero: true });
    if (boot.attrs.loadparm !== undefined) info.loadparm = parseLoadparm(boot.attrs.loadparm);
  }
  if (rom) {
    const r: NonNullable<DeviceInfo['rom']> = {};
    const enabled = propYesNo(rom, 'enabled');
    const bar = propOnOff(rom, 'bar');
    if (enabled) r.enabled = enabled;
    if (bar) r.bar = bar;
    if (rom.attrs.file !== undefined) r.file = rom.attrs.file;
    if (r.enabled === 'no' && (r.bar !== undefined || r.file !== undefined)) {
      throw unsupportedConfig('ROM tuning is not supported when ROM is disabled');
    }
    if (Object.keys(r).length) info.rom = r;
  }
  return info;
}

/** virDomainDeviceBootParseXML's loadparm: upper-cased ('-' becomes '_'), then
 *  virDomainDeviceLoadparmIsValid (1 to 8 bytes, not all blank, [A-Za-z0-9. ]). */
function parseLoadparm(raw: string): string {
  const v = raw.replace(/[a-z]/g, (c) => c.toUpperCase()).replace(/-/g, '_');
  if (/^[ \t\n\v\f\r]*$/.test(v) || Buffer.byteLength(v) > 8) throw internalError(`loadparm value '${v}' must be between 1 and 8 characters`);
  if (!/^[A-Za-z0-9. ]*$/.test(v)) throw internalError(`invalid loadparm value '${v}', expecting chars in set of [a-zA-Z0-9.] and blank spaces`);
  return v;
}

/** virDomainDeviceInfoFormat's <boot> element */
export const bootLine = (info: DeviceInfo) => `<boot order='${info.bootIndex}'${attr('loadparm', info.loadparm)}/>`;

export function formatAddress(w: Writer, a: DeviceAddress): void {
  if (a.type === 'usb') {
    w.line(`<address type='usb' bus='${a.bus}'${usbPortValid(a) ? ` port='${usbPortString(a.port)}'` : ''}/>`);
    return;
  }
  if (a.type === 'spapr-vio') {
    w.line(`<address type='spapr-vio'${a.reg !== undefined ? ` reg='0x${hex(a.reg, 8)}'` : ''}/>`);
    return;
  }
  if (a.type === 'unassigned' || a.type === 'virtio-mmio') {
    w.line(`<address type='${a.type}'/>`);
    return;
  }
  if (a.type === 'ccw') {
    w.line(`<address type='ccw' cssid='0x${a.cssid.toString(16)}' ssid='0x${a.ssid.toString(16)}' devno='0x${hex(a.devno, 4)}'/>`);
    return;
  }
  const z = a.zpci;
  const hasZpci = z && (z.uid !== undefined || z.fid !== undefined);
  w.element(`address type='pci' ${pciAttrs(a)}${attr('multifunction', a.multifunction)}`, 'address', hasZpci ? () => {
    w.line(`<zpci${z.uid !== undefined ? ` uid='0x${hex(z.uid, 4)}'` : ''}${z.fid !== undefined ? ` fid='0x${hex(z.fid, 8)}'` : ''}/>`);
  } : undefined);
}

/** Whether formatInfo writes anything (so the device element needs a body). */
export const hasInfo = (info: DeviceInfo) =>
  info.bootIndex !== undefined || info.userAlias !== undefined || info.rom !== undefined || info.acpiIndex !== undefined || info.address !== undefined;

/** virDomainDeviceInfoFormat: boot order, user alias, (a USB companion's <master>,
 *  which the controller writes in `afterAlias`), rom, then the guest address. */
export function formatInfo(w: Writer, info: DeviceInfo, afterAlias?: () => void): void {
  if (info.bootIndex !== undefined) w.line(bootLine(info));
  if (info.userAlias !== undefined) w.line(`<alias name='${info.userAlias}'/>`);
  afterAlias?.();
  if (info.rom) w.line(`<rom${attr('enabled', info.rom.enabled)}${attr('bar', info.rom.bar)}${attr('file', info.rom.file)}/>`);
  if (info.acpiIndex !== undefined) w.line(`<acpi index='${info.acpiIndex}'/>`);
  if (info.address) formatAddress(w, info.address);
}

// ---- QEMU ids ----------------------------------------------------------------------

/** The N of libvirt's `prefixN` scan (qemuDomainDeviceAliasIndex): one past the highest
 *  N among the given aliases, 0 when none has the form. User aliases never do. */
export function nextAliasIndex(infos: Iterable<DeviceInfo>, prefix: string): number {
  let next = 0;
  for (const info of infos) {
    const rest = info.alias?.startsWith(prefix) ? info.alias.slice(prefix.length) : undefined;
    // virStrToLong_i: the whole rest, optional blanks and sign, base 10
    const m = rest === undefined ? null : /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(rest);
    const n = m ? Number(m[1]) : -1;
    if (n >= next && n <= 0x7fffffff) next = n + 1;
  }
  return next;
}

// ---- QEMU properties ---------------------------------------------------------------

/** qemuBuildDeviceAddressProps: where the device sits, as -device JSON properties. The
 *  bus is named by the alias of the PCI controller whose index it is. */
export function addressProps(info: DeviceInfo, def: DomainDef): Record<string, unknown> {
  const a = info.address;
  if (!a) return {};
  if (a.type === 'ccw') return { devno: `${a.cssid.toString(16)}.${a.ssid.toString(16)}.${hex(a.devno, 4)}` };
  if (a.type === 'spapr-vio') return a.reg ? { reg: a.reg } : {};
  if (a.type === 'unassigned' || a.type === 'virtio-mmio') return {}; // (never on a command line: see OptionalAddressType)
  if (a.type === 'usb') {
    // virDomainControllerAliasFind: the first USB controller of that index names the bus
    const c = def.devices.controller.find((o) => o.type === 'usb' && o.index === a.bus);
    if (!c) throw internalError(`Could not find usb controller with index ${a.bus} required for device`);
    const port = usbPortString(a.port);
    return { bus: `${c.info.alias}.0`, ...(port ? { port } : {}) };
  }
  const c = def.devices.controller.find((o) => o.type === 'pci' && o.index === a.bus);
  // (the root bus is QEMU's own, not on the command line: a user alias cannot name it)
  const bus = c?.info.userAlias !== undefined && (c.model === 'pci-root' || c.model === 'pcie-root') ? `${c.model.slice(0, -5)}.0` : c?.info.alias;
  if (bus === undefined) throw internalError(`Could not find PCI controller with index '${a.bus}' required for device at address '${pciString(a)}'`);
  const props: Record<string, unknown> = { bus };
  if (a.multifunction) props.multifunction = a.multifunction === 'on';
  props.addr = a.function ? `0x${a.slot.toString(16)}.0x${a.function.toString(16)}` : `0x${a.slot.toString(16)}`;
  if (info.acpiIndex !== undefined) props['acpi-index'] = info.acpiIndex;
  return props;
}

/** qemuCommandAddExtDevice: on s390x a PCI device's zPCI ids are a device of their own,
 *  written right before the device it targets. */
export function zpciDevice(info: DeviceInfo): string[][] {
  const a = info.address;
  if (a?.type !== 'pci' || !a.zpci) return [];
  return [['-device', JSON.stringify({ driver: 'zpci', uid: a.zpci.uid, fid: a.zpci.fid, target: info.alias, id: `zpci${a.zpci.uid}` })]];
}

export type { PciAddress };
