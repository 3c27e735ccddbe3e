// <controller>: USB controllers and the PCI root (libvirt's virDomainControllerDef).
// Controllers that libvirt accepts but virtgold does not implement are refused.
import { hasFlag } from '../capabilities.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import { propEnum, propInt } from '../xml/props.js';
import { elements, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import type { DeviceInfo } from '../model.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo } from './info.js';
import type { Collector, DeviceKind } from './kind.js';

export interface ControllerDef {
  type: 'usb' | 'pci';
  /** -1 until post-parse gives an unindexed controller the lowest free index */
  index: number;
  model?: string;
  ports?: number;
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    controller: ControllerDef[];
  }
}

const TYPES = ['ide', 'fdc', 'scsi', 'sata', 'virtio-serial', 'ccid', 'usb', 'pci', 'xenbus', 'isa'] as const;
const USB_MODELS = [
  'piix3-uhci', 'piix4-uhci', 'ehci', 'ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3', 'vt82c686b-uhci',
  'pci-ohci', 'nec-xhci', 'qusb1', 'qusb2', 'qemu-xhci', 'none',
];

/** QEMU's device for each implemented USB controller model; its capability flag has the same name. */
export const USB_DEVICE = {
  'piix3-uhci': 'piix3-usb-uhci',
  'piix4-uhci': 'piix4-usb-uhci',
  ehci: 'usb-ehci',
  'ich9-ehci1': 'ich9-usb-ehci1',
  'nec-xhci': 'nec-usb-xhci',
  'qemu-xhci': 'qemu-xhci',
} as const;
type UsbModel = keyof typeof USB_DEVICE;
const isImplementedUsb = (m: string): m is UsbModel => m in USB_DEVICE;
const isXhci = (m: string | undefined) => m === 'nec-xhci' || m === 'qemu-xhci';

function parse(e: XElement): ControllerDef {
  const type = propEnum(e, 'type', TYPES) ?? 'ide';
  if (type !== 'usb' && type !== 'pci') throw notImplemented(`<controller type='${type}'>`);
  const index = propInt(e, 'index', { nonNegative: true }) ?? -1;
  for (const c of elements(e)) {
    if (['driver', 'target', 'master', 'model', 'pcihole64'].includes(c.name)) throw notImplemented(`<${c.name}> in <controller type='${type}'>`);
  }
  const model = e.attrs.model;
  const def: ControllerDef = { type, index, info: parseDeviceInfo(e, `<controller type='${type}'>`, false) };
  if (type === 'usb') {
    if (model !== undefined) {
      if (!USB_MODELS.includes(model)) throw unsupportedConfig(`Unknown model type '${model}'`);
      if (model !== 'none' && !isImplementedUsb(model)) throw notImplemented(`USB controller model '${model}'`);
      def.model = model;
    }
    const ports = propInt(e, 'ports');
    if (ports !== undefined) def.ports = ports;
    return def;
  }
  if (model !== undefined && model !== 'pci-root') throw notImplemented(`<controller type='pci' model='${model}'>`);
  if (model === 'pci-root' && index > 0) throw xmlError('pci-root and pcie-root controllers should have index 0');
  if (index > 0) throw notImplemented(`<controller type='pci' index='${index}'>`);
  if (model === undefined) {
    throw xmlError("The PCI controller with index='0' must be model='pci-root' for this machine type, but model='(null)' was found instead");
  }
  def.model = 'pci-root';
  if (def.info.address) throw unsupportedConfig('pci-root and pcie-root controllers should not have an address');
  return def;
}

/** virDomainControllerInsertPreAlloced, one controller at a time as libvirt parses them:
 *  a controller without an index goes after the last of its type; one with an index goes
 *  after the last of its type when that one's index is not higher, else before the first
 *  of its type with a higher index; a type not seen yet goes at the end. So each type's
 *  controllers stay together, types in the order they first appear. Each type's run is
 *  kept in chunks that know their highest index, so a domain of many controllers in any
 *  order is gathered in near-linear time. */
function controllerCollector(): Collector<ControllerDef> {
  const CHUNK = 256;
  const runs = new Map<ControllerDef['type'], { items: ControllerDef[]; max: number }[]>();
  let usbNone = false;
  let usbOther = false;
  return {
    add(c) {
      // A USB controller of model 'none' disables USB: it must be the only one.
      if (c.type === 'usb') {
        if (usbNone || (usbOther && c.model === 'none')) {
          throw new TranslationError('bare', "Can't add another USB controller: USB is disabled for this domain");
        }
        if (c.model === 'none') usbNone = true;
        else usbOther = true;
      }
      const chunks = runs.get(c.type) ?? runs.set(c.type, []).get(c.type)!;
      const last = chunks[chunks.length - 1];
      const lastIndex = last?.items[last.items.length - 1]?.index;
      let chunk = last;
      let at = last?.items.length ?? 0;
      if (c.index !== -1 && lastIndex !== undefined && lastIndex > c.index) {
        chunk = chunks.find((ch) => ch.max > c.index)!;
        at = chunk.items.findIndex((o) => o.index > c.index);
      }
      if (!chunk) chunks.push((chunk = { items: [], max: -1 }));
      chunk.items.splice(at, 0, c);
      chunk.max = Math.max(chunk.max, c.index);
      if (chunk.items.length > 2 * CHUNK) {
        const rest = chunk.items.splice(CHUNK);
        chunk.max = Math.max(...chunk.items.map((o) => o.index));
        chunks.splice(chunks.indexOf(chunk) + 1, 0, { items: rest, max: Math.max(...rest.map((o) => o.index)) });
      }
    },
    list: () => [...runs.values()].flatMap((chunks) => chunks.flatMap((ch) => ch.items)),
  };
}

const active = (c: ControllerDef) => c.type === 'usb' && c.model !== 'none';

export const controller: DeviceKind<ControllerDef> = {
  element: 'controller',
  parse,
  collector: controllerCollector,
  info: (c) => c.info,
  postParse(c, { machine }) {
    if (c.type !== 'usb') return;
    // A disabled controller keeps no address; one without a model gets the machine's.
    if (c.model === 'none') delete c.info.address;
    if (c.model === undefined && machine.defaultUsbModel) c.model = machine.defaultUsbModel;
  },
  pci(c, { machine }) {
    if (!active(c)) return undefined;
    if (machine.builtinUsb && c.model === 'piix3-uhci' && c.index === 0) return { info: c.info, kind: 'fixed', address: machine.builtinUsb };
    // An EHCI "ich9-ehci1" sits at function 7, where its UHCI companions would join it.
    return { info: c.info, kind: 'any', function: c.model === 'ich9-ehci1' ? 7 : 0 };
  },
  validate(c, { caps }) {
    if (!active(c) || c.model === undefined || !isImplementedUsb(c.model)) return;
    if (!hasFlag(caps, USB_DEVICE[c.model])) throw unsupportedConfig(`USB controller model '${c.model}' not supported in this QEMU binary`);
    if (c.ports !== undefined && isXhci(c.model) && c.ports > 15) throw unsupportedConfig(`'${c.model}' controller only supports up to '15' ports`);
  },
  validateStart(c) {
    if (c.type === 'usb' && c.ports !== undefined && !isXhci(c.model)) {
      throw unsupportedConfig(`usb controller type '${c.model}' doesn't support 'ports' with this QEMU binary`);
    }
  },
  alias: (c) => (c.type === 'usb' ? (c.index === 0 ? 'usb' : `usb${c.index}`) : `pci.${c.index}`),
  format(w, c) {
    const head = `controller type='${c.type}' index='${c.index}'${attr('model', c.model)}${attr('ports', c.ports)}`;
    w.element(head, 'controller', hasInfo(c.info) ? () => formatInfo(w, c.info) : undefined);
  },
  command(c) {
    if (!active(c) || c.model === undefined || !isImplementedUsb(c.model)) return [];
    const dev: Record<string, unknown> = { driver: USB_DEVICE[c.model] };
    if (c.ports !== undefined) {
      dev.p2 = c.ports;
      dev.p3 = c.ports;
    }
    dev.id = c.info.alias;
    Object.assign(dev, addressProps(c.info.address));
    return [['-device', JSON.stringify(dev)]];
  },
};

/** The PIIX3's USB function is fixed: a USB controller 0 of that model elsewhere is an error
 *  (qemuDomainValidateDevicePCISlotsPIIX3, during address assignment). */
export function checkPiix3Usb(list: ControllerDef[]): void {
  for (const c of list) {
    const a = c.info.address;
    if (c.type === 'usb' && c.model === 'piix3-uhci' && c.index === 0 && a?.type === 'pci' &&
        !(a.bus === 0 && a.slot === 1 && a.function === 2) && !(a.domain === 0 && a.bus === 0 && a.slot === 0 && a.function === 0)) {
      throw internalError('PIIX3 USB controller at index 0 must have PCI address 0:0:1.2');
    }
  }
}
