// USB redirection: <redirdev bus='usb'> over a character device (libvirt's
// virDomainRedirdevDef) and the domain's one <redirfilter>, which every usb-redir
// device on the command line carries as its filter property.
import { hasFlag } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { propYesNo, required } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { chardevArgs, CHR_TYPES, type ChrSource, type ChrType, formatChrSource, parseChrSource, validateChrSourceConf, validateChrSourceQemu } from './chardev-source.js';
import { hasSpice, nextFdset } from './chardev.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo } from './info.js';
import type { DeviceKind } from './kind.js';

export interface RedirdevDef {
  bus: 'usb';
  source: ChrSource;
  info: DeviceInfo;
}

export interface RedirFilterUsbDev {
  /** -1: any */
  usbClass: number;
  vendor: number;
  product: number;
  /** BCD (0xJJMN); -1: any */
  version: number;
  allow: boolean;
}

export interface RedirFilterDef {
  usbdevs: RedirFilterUsbDev[];
}

declare module '../model.js' {
  interface Devices {
    redirdev: RedirdevDef[];
    redirfilter: RedirFilterDef[];
  }
}

/** virDomainRedirdevDefParseXML */
function parse(e: XElement): RedirdevDef {
  const bus = e.attrs.bus ?? 'usb';
  if (bus !== 'usb') throw unsupportedConfig(`unknown redirdev bus '${bus}'`);
  const type = e.attrs.type;
  if (type === undefined) throw internalError('missing type in redirdev');
  if (!(CHR_TYPES as readonly string[]).includes(type)) throw unsupportedConfig(`unknown redirdev character device type '${type}'`);
  const source = parseChrSource(e, type as ChrType);
  if (source.type === 'spicevmc') source.spicevmc = 'usbredir';
  if (source.type === 'dbus' && source.channel === undefined) source.channel = 'org.qemu.usbredir';
  // libvirt reads <boot> here, not <rom>
  if (child(e, 'rom')) throw notImplemented('<rom> in <redirdev>');
  const info = parseDeviceInfo(e, '<redirdev>', true, ['usb']);
  if (info.address && info.address.type !== 'usb') throw xmlError('Invalid address for a USB device');
  return { bus, source, info };
}

/** strtol with base 0 (virXMLPropInt base 0), -1 when absent. */
function propIntBase0(e: XElement, name: string): number {
  const v = e.attrs[name];
  if (v === undefined) return -1;
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(v);
  const abs = m ? (/^0[xX]/.test(m[2]!) ? parseInt(m[2]!.slice(2), 16) : m[2]!.length > 1 && m[2]!.startsWith('0') ? parseInt(m[2]!, 8) : parseInt(m[2]!, 10)) : NaN;
  const n = m?.[1] === '-' ? -abs : abs;
  if (!Number.isSafeInteger(n) || n > 2147483647 || n < -2147483648) {
    throw xmlError(`Invalid value for attribute '${name}' in element '${e.name}': '${v}'. Expected integer value`);
  }
  return n;
}

/** virDomainRedirFilterUSBVersionHelper: "JJ.MN" as BCD 0xJJMN ("JJ.M" is JJ.M0). */
function parseVersion(v: string): number {
  if (v === '-1') return -1;
  const m = /^([0-9]+)\.([0-9]+)$/.exec(v);
  if (!m) {
    if (/^[ \t\n\v\f\r]*[+-]/.test(v) || /^[ \t\n\v\f\r]/.test(v)) throw notImplemented(`USB device version '${v}' with a sign or blanks`);
    throw xmlError(`Cannot parse USB device version ${v}`);
  }
  const major = Number(m[1]);
  let minor = Number(m[2]);
  if (major >= 100 || minor >= 100) throw xmlError(`Cannot parse USB device version ${v}`);
  if (m[2]!.length === 1) minor *= 10;
  return (Math.floor(major / 10) << 12) | ((major % 10) << 8) | (Math.floor(minor / 10) << 4) | (minor % 10);
}

/** virDomainRedirFilterDefParseXML */
function parseFilter(e: XElement): RedirFilterDef {
  return {
    usbdevs: elements(e, 'usbdev').map((u) => {
      const usbClass = propIntBase0(u, 'class');
      if (usbClass !== -1 && (usbClass & ~0xff) !== 0) throw internalError(`Invalid USB Class code 0x${(usbClass >>> 0).toString(16)}`);
      const vendor = propIntBase0(u, 'vendor');
      const product = propIntBase0(u, 'product');
      const version = u.attrs.version === undefined ? -1 : parseVersion(u.attrs.version);
      required(u, 'allow');
      const allow = propYesNo(u, 'allow') === 'yes';
      return { usbClass, vendor, product, version, allow };
    }),
  };
}

const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');

function formatFilter(w: Writer, f: RedirFilterDef): void {
  if (!f.usbdevs.length) return;
  w.open('<redirfilter>');
  for (const u of f.usbdevs) {
    let s = '<usbdev';
    if (u.usbClass >= 0) s += ` class='0x${hex(u.usbClass, 2)}'`;
    if (u.vendor >= 0) s += ` vendor='0x${hex(u.vendor, 4)}'`;
    if (u.product >= 0) s += ` product='0x${hex(u.product, 4)}'`;
    if (u.version >= 0) {
      const major = ((u.version & 0xf000) >> 12) * 10 + ((u.version & 0x0f00) >> 8);
      const minor = ((u.version & 0x00f0) >> 4) * 10 + (u.version & 0x000f);
      s += ` version='${major}.${String(minor).padStart(2, '0')}'`;
    }
    w.line(`${s} allow='${u.allow ? 'yes' : 'no'}'/>`);
  }
  w.close('</redirfilter>');
}

/** The filter property of qemuBuildRedirdevDevProps. */
function filterProp(f: RedirFilterDef | undefined): string | undefined {
  // (an empty buffer is no string at all: no property)
  if (!f?.usbdevs.length) return undefined;
  const part = (n: number, width: number) => (n >= 0 ? `0x${hex(n, width)}` : '-1');
  return f.usbdevs.map((u) => `${part(u.usbClass, 2)}:${part(u.vendor, 4)}:${part(u.product, 4)}:${part(u.version, 4)}:${u.allow ? 1 : 0}`).join('|');
}

export const redirdev: DeviceKind<RedirdevDef> = {
  element: 'redirdev',
  parse,
  info: (r) => r.info,
  usb: (r) => ({ info: r.info }),
  // virDomainRedirdevDefValidate
  validateConf(r, { def }) {
    if (!def.devices.controller.some((c) => c.type === 'usb' && c.model !== 'none')) {
      throw unsupportedConfig('cannot add redirected USB device: USB is disabled for this domain');
    }
    validateChrSourceConf(r.source, false, def);
  },
  // qemuValidateDomainRedirdevDef
  validate(r, { def, caps }) {
    validateChrSourceQemu(r.source, caps, hasSpice(def));
    if (!hasFlag(caps, 'usb-redir')) throw unsupportedConfig('USB redirection is not supported by this version of QEMU');
    if (def.devices.redirfilter[0]?.usbdevs.length && !hasFlag(caps, 'usb-redir.filter')) {
      throw unsupportedConfig('USB redirection filter is not supported by this version of QEMU');
    }
  },
  alias: (_r, i) => `redir${i}`,
  format(w, r) {
    w.open(`<redirdev bus='${r.bus}' type='${r.source.type}'>`);
    formatChrSource(w, r.source);
    if (hasInfo(r.info)) formatInfo(w, r.info);
    w.close('</redirdev>');
  },
  // qemuBuildRedirdevCommandLine
  command(r, { def, caps }) {
    const alias = r.info.alias!;
    const props: Record<string, unknown> = { driver: 'usb-redir', chardev: `char${alias}`, id: alias };
    const filter = filterProp(def.devices.redirfilter[0]);
    if (filter !== undefined) props.filter = filter;
    if (r.info.bootIndex !== undefined) props.bootindex = r.info.bootIndex;
    return [...chardevArgs(r.source, { caps, alias, nextFdset: nextFdset(def) }), ['-device', JSON.stringify({ ...props, ...addressProps(r.info, def) })]];
  },
};

export const redirfilter: DeviceKind<RedirFilterDef> = {
  element: 'redirfilter',
  parse: parseFilter,
  format: formatFilter,
};
