// <hostdev mode='subsystem' type='usb'>: a host USB device given to the guest as QEMU's
// usb-host (libvirt's virDomainHostdevSubsysUSB). The host device is named by its bus and
// device numbers, or by vendor and product ids, which libvirt turns into bus/device by
// looking at the host only when a domain really starts: a command line for such a device
// fails as domxml-to-native's does. No other host state is read.
import { hasFlag } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef } from '../model.js';
import { propEnum, propUInt, required } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { addressProps, formatInfo, parseDeviceInfo } from './info.js';
import type { StageContext } from './kind.js';

const STARTUP = ['default', 'mandatory', 'requisite', 'optional'] as const;
const RESET = ['default', 'off', 'uninitialized', 'on'] as const;

export interface UsbHostdevDef {
  subsys: 'usb';
  managed: boolean;
  startupPolicy?: Exclude<(typeof STARTUP)[number], 'default'>;
  guestReset?: Exclude<(typeof RESET)[number], 'default'>;
  /** 0: not given (a vendor id may not be 0, a product id may) */
  vendor: number;
  product: number;
  bus: number;
  device: number;
  info: DeviceInfo;
}

/** virDomainHostdevSubsysUSBDefParseXML and the rest of virDomainHostdevDefParseXML */
export function parseUsbHostdev(e: XElement, managed: boolean): UsbHostdevDef {
  const src = child(e, 'source');
  if (!src) throw xmlError('Missing <source> element in hostdev device');
  const h: UsbHostdevDef = { subsys: 'usb', managed, vendor: 0, product: 0, bus: 0, device: 0, info: {} };
  const startup = propEnum(src, 'startupPolicy', STARTUP, { nonZero: true });
  if (startup) h.startupPolicy = startup as UsbHostdevDef['startupPolicy'];
  // (autoAddress is only written for migration: read and forgotten)
  propEnum(src, 'autoAddress', ['yes', 'no'] as const);
  const reset = propEnum(src, 'guestReset', RESET, { nonZero: true });
  if (reset) h.guestReset = reset as UsbHostdevDef['guestReset'];
  const vendor = child(src, 'vendor');
  const product = child(src, 'product');
  if (vendor) {
    required(vendor, 'id');
    h.vendor = propUInt(vendor, 'id', { base0: true, nonZero: true })!;
    if (!product) throw internalError('missing product');
  }
  if (product) {
    required(product, 'id');
    h.product = propUInt(product, 'id', { base0: true })!;
    if (!vendor) throw internalError('missing vendor');
  }
  const addr = child(src, 'address');
  if (addr) {
    required(addr, 'bus');
    h.bus = propUInt(addr, 'bus', { base0: true })!;
    required(addr, 'device');
    h.device = propUInt(addr, 'device', { base0: true })!;
  }
  h.info = parseDeviceInfo(e, "<hostdev type='usb'>", true, ['usb', 'unassigned']);
  if (h.info.rom) throw notImplemented("<rom> on <hostdev type='usb'>");
  return h;
}

/** virDomainHostdevMatchSubsysUSB: the same host device (by bus/device, else by ids) */
export function sameUsbSource(a: UsbHostdevDef, b: UsbHostdevDef): boolean {
  if (a.bus && a.device) return a.bus === b.bus && a.device === b.device;
  return a.product === b.product && a.vendor === b.vendor;
}

/** virDomainHostdevDefValidate */
export function validateConfUsbHostdev(h: UsbHostdevDef): void {
  const type = h.info.address?.type;
  if (type !== undefined && type !== 'usb') throw unsupportedConfig("USB host device must use 'usb' address type");
}

/** qemuValidateDomainDeviceDefHostdev */
export function validateUsbHostdev(h: UsbHostdevDef, { caps }: StageContext): void {
  if (h.guestReset && !hasFlag(caps, 'usb-host.guest-resets-all')) throw unsupportedConfig('guestReset is not supported with this version of QEMU');
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

export function formatUsbHostdev(w: Writer, h: UsbHostdevDef): void {
  w.open(`<hostdev mode='subsystem' type='usb' managed='${h.managed ? 'yes' : 'no'}'>`);
  const attrs = `${h.startupPolicy ? ` startupPolicy='${h.startupPolicy}'` : ''}${h.guestReset ? ` guestReset='${h.guestReset}'` : ''}`;
  const body = h.vendor !== 0 || h.bus !== 0 || h.device !== 0;
  // (virXMLFormatElement leaves out an element with neither attributes nor content)
  if (attrs || body) w.element(`source${attrs}`, 'source', body ? () => {
    if (h.vendor) {
      w.line(`<vendor id='0x${hex4(h.vendor)}'/>`);
      w.line(`<product id='0x${hex4(h.product)}'/>`);
    }
    if (h.bus || h.device) w.line(`<address bus='${h.bus}' device='${h.device}'/>`);
  } : undefined);
  formatInfo(w, h.info);
  w.close('</hostdev>');
}

/** qemuBuildUSBHostdevDevProps: its check, made as the command line is built */
export function validateStartUsbHostdev(h: UsbHostdevDef): void {
  // (libvirt looks a vendor/product up on the host only when a domain really starts)
  if (h.bus === 0 && h.device === 0) throw internalError('USB host device is missing bus/device information');
}

export function usbHostdevCommand(h: UsbHostdevDef, def: DomainDef, { caps }: StageContext): string[][] {
  const dev: Record<string, unknown> = { driver: 'usb-host' };
  if (hasFlag(caps, 'usb-host.hostdevice')) dev.hostdevice = `/dev/bus/usb/${String(h.bus).padStart(3, '0')}/${String(h.device).padStart(3, '0')}`;
  else {
    if (h.bus) dev.hostbus = h.bus;
    if (h.device) dev.hostaddr = h.device;
  }
  dev.id = h.info.alias;
  if (h.info.bootIndex !== undefined) dev.bootindex = h.info.bootIndex;
  if (h.guestReset) {
    dev['guest-reset'] = h.guestReset !== 'off';
    if (h.guestReset !== 'off') dev['guest-resets-all'] = h.guestReset === 'on';
  }
  return [['-device', JSON.stringify({ ...dev, ...addressProps(h.info, def) })]];
}
