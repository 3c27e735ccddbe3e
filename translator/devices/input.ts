// <input>: the PS/2 mouse and keyboard every PC has (added by machines/i440fx.ts);
// other input devices are not implemented.
import { notImplemented, unsupportedConfig } from '../errors.js';
import { elements, type XElement } from '../xml/tree.js';
import type { DeviceKind } from './kind.js';

export interface InputDef {
  type: 'mouse' | 'keyboard';
  bus: 'ps2';
}

declare module '../model.js' {
  interface Devices {
    input: InputDef[];
  }
}

function parse(e: XElement): InputDef {
  const type = e.attrs.type;
  const bus = e.attrs.bus ?? 'ps2';
  if (type !== undefined && !['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'].includes(type)) {
    throw unsupportedConfig(`unknown input device type '${type}'`);
  }
  if (!['ps2', 'usb', 'xen', 'parallels', 'virtio', 'none'].includes(bus)) throw unsupportedConfig(`unknown input bus type '${bus}'`);
  if ((type === 'mouse' || type === 'keyboard') && bus === 'ps2' && elements(e).every((c) => c.name === 'alias')) return { type, bus };
  throw notImplemented(`<input type='${type ?? ''}' bus='${bus}'>`);
}

export const input: DeviceKind<InputDef> = {
  element: 'input',
  parse,
  format: (w, i) => w.line(`<input type='${i.type}' bus='${i.bus}'/>`),
  // PS/2 devices are part of the machine: nothing on the command line.
};
