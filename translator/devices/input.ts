// <input> (libvirt's virDomainInputDef): mice, tablets and keyboards on PS/2 (part of
// the PC: nothing on the command line; machines/common.ts adds a mouse and keyboard),
// on USB ports (usb-mouse, usb-tablet, usb-kbd) and virtio (virtio-mouse/-tablet/
// -keyboard on PCI or CCW); passthrough of a host evdev device to a virtio-input-host,
// and evdev (an input-linux object that grabs a host device for the guest).
import { hasFlag, type CapsFlag } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef, TriState } from '../model.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';
import { sanitizePath } from '../domain/os.js';
import { propEnum, propOnOff } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { DeviceKind, ParseContext } from './kind.js';

const TYPES = ['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'] as const;
const BUSES = ['ps2', 'usb', 'xen', 'parallels', 'virtio', 'none'] as const;
const MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
const GRABS = ['default', 'all'] as const;
const GRAB_TOGGLES = ['default', 'ctrl-ctrl', 'alt-alt', 'shift-shift', 'meta-meta', 'scrolllock', 'ctrl-scrolllock'] as const;
export type InputType = (typeof TYPES)[number];
export type InputBus = (typeof BUSES)[number];

export interface InputDef {
  type: InputType;
  bus: InputBus;
  model?: Exclude<(typeof MODELS)[number], 'default'>;
  /** <source>: the host device (evdev of passthrough, dev of evdev) and evdev's grab settings */
  source?: { evdev?: string; grab?: 'all'; grabToggle?: string; repeat?: TriState };
  /** <driver> (virDomainVirtioOptions) */
  virtio?: { iommu?: TriState; ats?: TriState; packed?: TriState; pagePerVq?: TriState };
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    input: InputDef[];
  }
}

const USB_DRIVER: Partial<Record<InputType, string>> = { mouse: 'usb-mouse', tablet: 'usb-tablet', keyboard: 'usb-kbd' };
/** the virtio device and the capabilities it needs (qemuValidateDomainDeviceDefInput) */
const VIRTIO: Partial<Record<InputType, { base: string; cap: CapsFlag; ccwCap?: CapsFlag }>> = {
  mouse: { base: 'virtio-mouse', cap: 'virtio-mouse', ccwCap: 'virtio-mouse-ccw' },
  tablet: { base: 'virtio-tablet', cap: 'virtio-tablet', ccwCap: 'virtio-tablet-ccw' },
  keyboard: { base: 'virtio-keyboard', cap: 'virtio-keyboard', ccwCap: 'virtio-keyboard-ccw' },
  passthrough: { base: 'virtio-input-host', cap: 'virtio-input-host' },
  evdev: { base: 'input-linux', cap: 'input-linux' },
};

const isX86 = (arch: string | undefined) => arch === undefined || arch === 'x86_64' || arch === 'i686';

/** The bus of an <input> without one (virDomainInputDefParseXML). */
function defaultBus(type: InputType, def: DomainDef): InputBus {
  const os = def.os.type;
  if (os === 'hvm') {
    if ((type === 'mouse' || type === 'keyboard') && isX86(def.os.arch)) return 'ps2';
    if (def.os.arch === 's390x' || type === 'passthrough') return 'virtio';
    return type === 'evdev' ? 'none' : 'usb';
  }
  // (the qemu driver refuses these OS types; the enum's 0 stands for 'unset')
  return os === 'xen' || os === 'xenpvh' ? 'xen' : 'ps2';
}

function parseVirtio(d: XElement | undefined): InputDef['virtio'] {
  if (!d) return undefined;
  const v: NonNullable<InputDef['virtio']> = {};
  for (const [k, a] of [['iommu', 'iommu'], ['ats', 'ats'], ['packed', 'packed'], ['pagePerVq', 'page_per_vq']] as const) {
    const x = propOnOff(d, a);
    if (x) v[k] = x;
  }
  return v;
}

// virDomainInputDefParseXML
function parse(e: XElement, { def }: ParseContext): InputDef {
  const typeAttr = e.attrs.type;
  if (typeAttr === undefined) throw internalError('missing input device type');
  if (!TYPES.includes(typeAttr as InputType)) throw unsupportedConfig(`unknown input device type '${typeAttr}'`);
  const type = typeAttr as InputType;
  const modelAttr = e.attrs.model;
  if (modelAttr !== undefined && (!MODELS.includes(modelAttr as never) || modelAttr === 'default')) throw unsupportedConfig(`unknown input model '${modelAttr}'`);
  const busAttr = e.attrs.bus;
  if (busAttr !== undefined && !BUSES.includes(busAttr as InputBus)) throw unsupportedConfig(`unknown input bus type '${busAttr}'`);
  const bus = (busAttr as InputBus | undefined) ?? defaultBus(type, def);
  const input: InputDef = { type, bus, info: parseDeviceInfo(e, `<input type='${type}'>`, false, ['usb']) };
  if (modelAttr !== undefined) input.model = modelAttr as InputDef['model'];
  const a = input.info.address;
  if (bus === 'usb' && a && a.type !== 'usb') throw xmlError('Invalid address for a USB device');
  const source = child(e, 'source');
  if (source) {
    const path = type === 'passthrough' ? source.attrs.evdev : type === 'evdev' ? source.attrs.dev : undefined;
    const src: NonNullable<InputDef['source']> = {};
    if (path !== undefined) src.evdev = sanitizePath(path);
    if ((type === 'passthrough' || type === 'evdev') && src.evdev === undefined) throw xmlError('Missing evdev path for input device');
    if (type === 'evdev') {
      const grab = propEnum(source, 'grab', GRABS, { nonZero: true });
      if (grab) src.grab = grab as 'all';
      const toggle = propEnum(source, 'grabToggle', GRAB_TOGGLES, { nonZero: true });
      if (toggle) src.grabToggle = toggle;
      const repeat = propOnOff(source, 'repeat');
      if (repeat) src.repeat = repeat;
    }
    input.source = src;
  }
  const virtio = parseVirtio(child(e, 'driver'));
  if (virtio) input.virtio = virtio;
  // Addresses QEMU has no use for on this bus: not implemented rather than guessed.
  if (a && !(bus === 'usb' && a.type === 'usb') && !(bus === 'virtio' && (a.type === 'pci' || a.type === 'ccw'))) {
    throw notImplemented(`<address type='${a.type}'> on <input type='${type}' bus='${bus}'>`);
  }
  // (virDomainDefParseXML: the controllers are parsed before the inputs)
  if (bus === 'usb' && def.devices.controller.some((c) => c.type === 'usb' && c.model === 'none')) throw unsupportedConfig("Can't add USB input device. USB bus is disabled");
  return input;
}

/** virDomainInputDefValidate */
function validateConf(i: InputDef, def: DomainDef): void {
  const os = def.os.type;
  if (os === 'hvm') {
    if (i.bus === 'ps2' && i.type !== 'mouse' && i.type !== 'keyboard') throw internalError(`ps2 bus does not support ${i.type} input device`);
    if (i.bus === 'xen') throw internalError('unsupported input bus xen');
  } else if (os === 'xen' || os === 'xenpvh') {
    if (i.bus !== 'xen') throw internalError(`unsupported input bus ${i.bus}`);
    if (i.type !== 'mouse' && i.type !== 'keyboard') throw internalError(`xen bus does not support ${i.type} input device`);
  } else {
    throw internalError('Input devices are not supported by this virtualization driver.');
  }
  if (i.type === 'passthrough' && i.bus !== 'virtio') throw unsupportedConfig("only bus 'virtio' is supported for 'passthrough' input devices");
  if (i.type === 'evdev' && i.bus !== 'none') throw unsupportedConfig("input evdev doesn't support bus element");
  if (i.model && i.bus !== 'virtio') throw unsupportedConfig(`only bus 'virtio' is supported for input model '${i.model}'`);
}

/** The virtio device's QEMU driver (qemuBuildVirtioDevGetConfig: the base, then the bus). */
const virtioDriver = (i: InputDef) => `${VIRTIO[i.type]!.base}-${i.info.address?.type === 'ccw' ? 'ccw' : 'pci'}`;

function virtioProps(v: InputDef['virtio']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const t = (k: string, x: TriState | undefined) => {
    if (x) out[k] = x === 'on';
  };
  t('iommu_platform', v?.iommu);
  t('ats', v?.ats);
  t('packed', v?.packed);
  t('page-per-vq', v?.pagePerVq);
  return out;
}

export const input: DeviceKind<InputDef> = {
  element: 'input',
  parse,
  info: (i) => i.info,
  pci: (i, { def, caps, machine }) => {
    if (i.bus !== 'virtio' || machine.virtioCcw) return undefined;
    // Transitional devices only work in conventional PCI slots.
    return { info: i.info, connect: i.model === 'virtio-transitional' ? pciFlags : virtioFlags(def, caps), function: -1 };
  },
  ccw: (i, { machine }) => i.bus === 'virtio' && machine.virtioCcw,
  usb: (i) => (i.bus === 'usb' ? { info: i.info } : undefined),
  validateConf: (i, { def }) => validateConf(i, def),
  // qemuValidateDomainDeviceDefInput
  validate(i, { def, caps, machine }) {
    if (i.bus === 'ps2' && !isX86(def.os.arch) && !hasFlag(caps, 'i8042')) throw unsupportedConfig('ps2 is not supported by this QEMU binary');
    if (i.bus === 'usb' && i.type === 'keyboard' && !hasFlag(caps, 'usb-kbd')) throw unsupportedConfig('usb keyboard is not supported by this QEMU binary');
    if (i.bus !== 'virtio') return;
    if (i.model === 'virtio-transitional' || i.model === 'virtio-non-transitional') {
      throw unsupportedConfig(`virtio (non-)transitional models are not supported for input type=${i.type}`);
    }
    const v = VIRTIO[i.type]!;
    const ccw = i.info.address?.type === 'ccw';
    if (!hasFlag(caps, v.cap) || (ccw && (!v.ccwCap || !hasFlag(caps, v.ccwCap)))) throw unsupportedConfig(`${v.base} is not supported by this QEMU binary`);
    if (machine.virtioCcw && i.info.address?.type === 'pci') throw notImplemented('a PCI address for a virtio input device on s390x');
  },
  // qemuAssignDeviceInputAlias: the position among all inputs
  alias: (_i, index) => `input${index}`,
  format(w, i) {
    const head = `input type='${i.type}'${i.bus !== 'none' ? ` bus='${i.bus}'` : ''}${attr('model', i.model)}`;
    const v = i.virtio;
    const driver = v ? attr('iommu', v.iommu) + attr('ats', v.ats) + attr('packed', v.packed) + attr('page_per_vq', v.pagePerVq) : '';
    const s = i.source;
    const source = s ? attr(i.type === 'evdev' ? 'dev' : 'evdev', s.evdev) + attr('grab', s.grab) + attr('grabToggle', s.grabToggle) + attr('repeat', s.repeat) : '';
    w.element(head, 'input', driver || source || hasInfo(i.info) ? () => {
      if (driver) w.line(`<driver${driver}/>`);
      if (source) w.line(`<source${source}/>`);
      formatInfo(w, i.info);
    } : undefined);
  },
  // qemuBuildInputCommandLine
  command(i, { def }) {
    const id = i.info.alias;
    if (i.type === 'evdev') {
      const s = i.source ?? {};
      if (s.evdev === undefined) throw internalError("argument key 'evdev' must not have null value");
      const o: Record<string, unknown> = { 'qom-type': 'input-linux', id, evdev: s.evdev };
      if (s.repeat) o.repeat = s.repeat === 'on';
      if (s.grab === 'all') o.grab_all = true;
      if (s.grabToggle) o['grab-toggle'] = s.grabToggle;
      return [['-object', JSON.stringify(o)]];
    }
    if (i.bus === 'usb') return [['-device', JSON.stringify({ driver: USB_DRIVER[i.type], id, ...addressProps(i.info, def) })]];
    if (i.bus !== 'virtio') return []; // PS/2 devices are part of the machine
    const dev: Record<string, unknown> = { driver: virtioDriver(i), ...virtioProps(i.virtio), id };
    if (i.type === 'passthrough') dev.evdev = i.source?.evdev;
    return [...zpciDevice(i.info), ['-device', JSON.stringify({ ...dev, ...addressProps(i.info, def) })]];
  },
};
