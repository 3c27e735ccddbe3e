// Character devices as libvirt keeps them (virDomainChrDef): <serial>, <parallel>,
// <console> and <channel>, each with a source (chardev-source.ts), a target and a device
// info. Parsing (virDomainChrDefParseXML) and the XML (virDomainChrDefFormat).
import { notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { propUInt } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { type ChrSource, formatChrSource, parseChrSource, parseChrType } from './chardev-source.js';
import { formatInfo, hasInfo, parseDeviceInfo } from './info.js';

export type ChrDeviceType = 'serial' | 'parallel' | 'console' | 'channel';

/** The target types, in libvirt's enum order (the index is what libvirt compares). */
export const SERIAL_TARGETS = ['none', 'isa-serial', 'usb-serial', 'pci-serial', 'spapr-vio-serial', 'system-serial', 'sclp-serial', 'isa-debug'] as const;
export const CONSOLE_TARGETS = ['none', 'serial', 'xen', 'uml', 'virtio', 'lxc', 'openvz', 'sclp', 'sclplm'] as const;
export const CHANNEL_TARGETS = ['none', 'guestfwd', 'virtio', 'xen'] as const;
export const SERIAL_MODELS = ['none', 'isa-serial', 'usb-serial', 'pci-serial', 'spapr-vty', 'pl011', 'sclpconsole', 'sclplmconsole', '16550a', 'isa-debugcon'] as const;

export interface VirtioSerialAddress {
  controller: number;
  bus: number;
  port: number;
}

export interface ChrDef {
  deviceType: ChrDeviceType;
  source: ChrSource;
  /** one of the *_TARGETS of the device type ('none' for parallels) */
  targetType: string;
  /** serials: one of SERIAL_MODELS */
  targetModel: string;
  /** -1 until post-parse gives one */
  port: number;
  /** virtio and xen channels */
  name?: string;
  /** guestfwd channels */
  fwd?: { addr: string; port: number };
  info: DeviceInfo;
  /** <address type='virtio-serial'> (consoles and channels) */
  vioserial?: VirtioSerialAddress;
  /** <address type='isa'> (ISA serials); 0: not given */
  isa?: { iobase: number; irq: number };
}

declare module '../model.js' {
  interface Devices {
    serial: ChrDef[];
    parallel: ChrDef[];
    console: ChrDef[];
    channel: ChrDef[];
  }
}

const TARGETS: Record<ChrDeviceType, readonly string[]> = { serial: SERIAL_TARGETS, console: CONSOLE_TARGETS, channel: CHANNEL_TARGETS, parallel: ['none'] };

/** The index of the target type in its enum (libvirt compares these across device types). */
export const targetIndex = (c: ChrDef) => TARGETS[c.deviceType].indexOf(c.targetType);

function defaultTarget(deviceType: ChrDeviceType): string {
  if (deviceType === 'channel') throw xmlError('target type must be specified for channel device');
  return 'none';
}

function parseTarget(c: ChrDef, t: XElement): void {
  const type = t.attrs.type;
  if (type === undefined) c.targetType = defaultTarget(c.deviceType);
  else if (c.deviceType === 'parallel') c.targetType = 'none';
  else if (!TARGETS[c.deviceType].includes(type)) throw unsupportedConfig(`unknown target type '${type}' specified for character device`);
  else c.targetType = type;

  const model = child(t, 'model')?.attrs.name;
  if (model !== undefined && c.deviceType === 'serial') {
    if (!(SERIAL_MODELS as readonly string[]).includes(model)) throw unsupportedConfig(`unknown target model '${model}' specified for character device`);
    c.targetModel = model;
  }

  if (c.deviceType === 'channel') {
    if (c.targetType === 'guestfwd') {
      const addr = t.attrs.address;
      if (addr === undefined) throw xmlError('guestfwd channel does not define a target address');
      const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
      if (!m || m.slice(1).some((x) => Number(x) > 255 || (x.length > 1 && x.startsWith('0')))) throw notImplemented(`guestfwd target address '${addr}' other than a plain IPv4 address`);
      if (t.attrs.port === undefined) throw xmlError("Missing required attribute 'port' in element 'target'");
      const port = propUInt(t, 'port')!;
      if (port > 65535) throw notImplemented(`guestfwd target port ${port}`);
      c.fwd = { addr, port };
    } else if (c.targetType === 'virtio' || c.targetType === 'xen') {
      if (t.attrs.name !== undefined) c.name = t.attrs.name;
      // (state is read from live XML only)
    }
    return;
  }
  const port = t.attrs.port;
  if (port === undefined) return;
  const m = /^[ \t\n\v\f\r]*\+?([0-9]+)$/.exec(port);
  if (!m) {
    if (/^[ \t\n\v\f\r]*-[0-9]+$/.test(port)) throw notImplemented(`a negative target port '${port}'`);
    throw xmlError(`Invalid port number: ${port}`);
  }
  const n = Number(m[1]);
  if (n > 2147483647) throw notImplemented(`target port ${port} beyond INT_MAX`);
  c.port = n;
}

/** <address type='virtio-serial'> is read here; the others by info.ts. */
function parseChrInfo(e: XElement, c: ChrDef): void {
  const a = child(e, 'address');
  if (a?.attrs.type === 'virtio-serial') {
    const n = (k: string) => propUInt(a, k) ?? 0;
    c.vioserial = { controller: n('controller'), bus: n('bus'), port: n('port') };
    const rest: XElement = { ...e, children: e.children.filter((x) => x !== a) };
    c.info = parseDeviceInfo(rest, `<${c.deviceType}>`, false, ['usb']);
    return;
  }
  if (a?.attrs.type === 'isa') {
    // virDomainDeviceISAAddressParseXML: hexadecimal, with or without 0x
    const hex = (k: string) => {
      const v = a.attrs[k];
      if (v === undefined) return 0;
      const m = /^[ \t\n\v\f\r]*\+?(?:0[xX])?([0-9a-fA-F]+)$/.exec(v);
      const n = m ? parseInt(m[1]!, 16) : NaN;
      if (!(n <= 0xffffffff)) throw xmlError(`Invalid value for attribute '${k}' in element 'address': '${v}'. Expected non-negative integer value`);
      return n;
    };
    c.isa = { iobase: hex('iobase'), irq: hex('irq') };
    c.info = parseDeviceInfo({ ...e, children: e.children.filter((x) => x !== a) }, `<${c.deviceType}>`, false, ['usb']);
    return;
  }
  c.info = parseDeviceInfo(e, `<${c.deviceType}>`, false, ['usb']);
}

/** virDomainChrDefParseXML */
export function parseChr(e: XElement, deviceType: ChrDeviceType): ChrDef {
  const type = parseChrType(e);
  const c: ChrDef = { deviceType, source: { type }, targetType: 'none', targetModel: 'none', port: -1, info: {} };
  const t = child(e, 'target');
  if (t) parseTarget(c, t);
  else c.targetType = defaultTarget(deviceType);
  c.source = parseChrSource(e, type, true);
  if (type === 'spicevmc') {
    // (sic) libvirt compares the number of the target type with a virtio channel's
    if (targetIndex(c) !== CHANNEL_TARGETS.indexOf('virtio')) throw unsupportedConfig('spicevmc device type only supports virtio');
    c.source.spicevmc = 'vdagent';
  }
  parseChrInfo(e, c);
  if (deviceType === 'serial' && c.targetType === 'usb-serial' && c.info.address && c.info.address.type !== 'usb') {
    throw unsupportedConfig('usb-serial requires address of usb type');
  }
  if ((c.vioserial || c.isa) && deviceType === 'serial' && c.targetType === 'usb-serial') throw unsupportedConfig('usb-serial requires address of usb type');
  return c;
}

function formatTarget(w: Writer, c: ChrDef, port: number): void {
  switch (c.deviceType) {
    case 'channel':
      if (c.targetType === 'guestfwd') w.line(`<target type='guestfwd' address='${c.fwd!.addr}' port='${c.fwd!.port}'/>`);
      else w.line(`<target type='${c.targetType}'${c.targetType === 'virtio' || c.targetType === 'xen' ? attr('name', c.name) : ''}/>`);
      break;
    case 'console':
      w.line(`<target type='${c.targetType}' port='${port}'/>`);
      break;
    case 'serial': {
      const head = `target ${c.targetType !== 'none' ? `type='${c.targetType}' ` : ''}port='${port}'`;
      w.element(head, 'target', c.targetModel !== 'none' ? () => w.line(`<model name='${c.targetModel}'/>`) : undefined);
      break;
    }
    case 'parallel':
      w.line(`<target port='${port}'/>`);
      break;
  }
}

/** virDomainChrDefFormat. `as`: the device as which to write it (a console written
 *  from the serial it stands for). */
export function formatChr(w: Writer, c: ChrDef, as: { deviceType: ChrDeviceType; targetType: string } = c): void {
  w.open(`<${as.deviceType} type='${c.source.type}'>`);
  formatChrSource(w, c.source);
  formatTarget(w, { ...c, ...as }, c.port);
  if (c.vioserial) w.line(`<address type='virtio-serial' controller='${c.vioserial.controller}' bus='${c.vioserial.bus}' port='${c.vioserial.port}'/>`);
  if (c.isa) w.line(`<address type='isa'${c.isa.iobase > 0 ? ` iobase='0x${c.isa.iobase.toString(16)}'` : ''}${c.isa.irq > 0 ? ` irq='0x${c.isa.irq.toString(16)}'` : ''}/>`);
  if (hasInfo(c.info)) formatInfo(w, c.info);
  w.close(`</${as.deviceType}>`);
}
