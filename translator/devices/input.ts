// <input>: the PS/2 mouse and keyboard every PC has (added by machines/common.ts) and
// mice, tablets and keyboards on USB ports (usb-mouse, usb-tablet, usb-kbd); other
// input devices are not implemented.
import { hasFlag } from '../capabilities.js';
import { notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { elements, type XElement } from '../xml/tree.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo } from './info.js';
import type { DeviceKind, ParseContext } from './kind.js';

export interface InputDef {
  type: 'mouse' | 'keyboard' | 'tablet';
  bus: 'ps2' | 'usb';
  /** a USB device's port (PS/2 devices have no address) */
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    input: InputDef[];
  }
}

const USB_DRIVER = { mouse: 'usb-mouse', tablet: 'usb-tablet', keyboard: 'usb-kbd' } as const;

// virDomainInputDefParseXML, for the devices in scope
function parse(e: XElement, { def }: ParseContext): InputDef {
  const type = e.attrs.type;
  if (type !== undefined && !['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'].includes(type)) {
    throw unsupportedConfig(`unknown input device type '${type}'`);
  }
  // without a bus: PS/2 for x86 mice and keyboards, USB for an x86 tablet
  const x86 = def.os.arch === undefined || def.os.arch === 'x86_64' || def.os.arch === 'i686';
  const bus = e.attrs.bus ?? (x86 && type === 'tablet' ? 'usb' : x86 ? 'ps2' : '');
  if (bus !== '' && !['ps2', 'usb', 'xen', 'parallels', 'virtio', 'none'].includes(bus)) throw unsupportedConfig(`unknown input bus type '${bus}'`);
  const simple = elements(e).every((c) => c.name === 'alias' || (bus === 'usb' && c.name === 'address'));
  if ((type === 'mouse' || type === 'keyboard') && bus === 'ps2' && e.attrs.model === undefined && simple) return { type, bus, info: {} };
  if ((type === 'mouse' || type === 'keyboard' || type === 'tablet') && bus === 'usb' && e.attrs.model === undefined && simple) {
    const info = parseDeviceInfo(e, `<input bus='usb'>`, false, false, true);
    if (info.address && info.address.type !== 'usb') throw xmlError('Invalid address for a USB device');
    // (virDomainDefParseXML: the controllers are parsed before the inputs)
    if (def.devices.controller.some((c) => c.type === 'usb' && c.model === 'none')) throw unsupportedConfig("Can't add USB input device. USB bus is disabled");
    return { type, bus, info };
  }
  throw notImplemented(`<input type='${type ?? ''}' bus='${bus}'${e.attrs.model !== undefined ? ` model='${e.attrs.model}'` : ''}>`);
}

export const input: DeviceKind<InputDef> = {
  element: 'input',
  parse,
  info: (i) => i.info,
  usb: (i) => (i.bus === 'usb' ? { info: i.info } : undefined),
  // qemuValidateDomainDeviceDefInput
  validate(i, { caps }) {
    if (i.bus === 'usb' && i.type === 'keyboard' && !hasFlag(caps, 'usb-kbd')) throw unsupportedConfig('usb keyboard is not supported by this QEMU binary');
  },
  // qemuAssignDeviceInputAlias: the position among all inputs
  alias: (_i, index) => `input${index}`,
  format(w, i) {
    const head = `input type='${i.type}' bus='${i.bus}'`;
    w.element(head, 'input', hasInfo(i.info) ? () => formatInfo(w, i.info) : undefined);
  },
  // PS/2 devices are part of the machine: nothing on the command line.
  command: (i, { def }) => (i.bus === 'usb' ? [['-device', JSON.stringify({ driver: USB_DRIVER[i.type], id: i.info.alias, ...addressProps(i.info, def) })]] : []),
};
