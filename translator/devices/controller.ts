// <controller>: USB controllers, the PCI topology's controllers (their own part is in
// pci/controller.ts) and q35's built-in SATA controller (libvirt's virDomainControllerDef).
// Controllers that libvirt accepts but virtgold does not implement are refused.
import { hasFlag, type CapsFlag } from '../capabilities.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import { propEnum, propInt, propUInt } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import { modelConnect } from '../pci/addrset.js';
import { pciFlags, pcieFlags } from '../pci/connect.js';
import { formatPciOpts, isPciModel, parsePciHole, parsePciOpts, pciHoleGlobal, pciDeviceProps, validatePci, validatePciConf } from '../pci/controller.js';
import { CONTROLLER_TYPES, type ControllerDef } from './controller-def.js';
import {
  checkModel, checkSingleChildren, formatControllerDriver, isBuiltin, parseControllerDriver, parseStorageController, postParseStorage,
  STORAGE_TYPES, storageCcw, storageDevProps, storagePciNeed, validateStorage,
} from './controller-storage.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { Collector, DeviceKind } from './kind.js';
import { checkCcidAddress } from './ccid.js';

export type { ControllerDef } from './controller-def.js';
export { addController, maybeAddController } from './controller-def.js';

const isStorage = (c: ControllerDef) => STORAGE_TYPES.includes(c.type);

const USB_MODELS = [
  'piix3-uhci', 'piix4-uhci', 'ehci', 'ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3', 'vt82c686b-uhci',
  'pci-ohci', 'nec-xhci', 'qusb1', 'qusb2', 'qemu-xhci', 'none',
];

/** QEMU's device for each implemented USB controller model. */
export const USB_DEVICE = {
  'piix3-uhci': 'piix3-usb-uhci',
  'piix4-uhci': 'piix4-usb-uhci',
  ehci: 'usb-ehci',
  'ich9-ehci1': 'ich9-usb-ehci1',
  'ich9-uhci1': 'ich9-usb-uhci1',
  'ich9-uhci2': 'ich9-usb-uhci2',
  'ich9-uhci3': 'ich9-usb-uhci3',
  'nec-xhci': 'nec-usb-xhci',
  'qemu-xhci': 'qemu-xhci',
} as const;
type UsbModel = keyof typeof USB_DEVICE;
/** The capability flag of each model (qemuControllerModelUSBToCaps): the ICH9 UHCIs go with the EHCI. */
const USB_CAP: Record<UsbModel, CapsFlag> = {
  ...USB_DEVICE,
  'ich9-uhci1': 'ich9-usb-ehci1',
  'ich9-uhci2': 'ich9-usb-ehci1',
  'ich9-uhci3': 'ich9-usb-ehci1',
};
/** IS_USB2_CONTROLLER: the ICH9 EHCI and its UHCI companions share one slot, at these functions. */
const USB2_FUNCTION: Record<string, number> = { 'ich9-ehci1': 7, 'ich9-uhci1': 0, 'ich9-uhci2': 1, 'ich9-uhci3': 2 };
/** The UHCI companions' default first port on their EHCI. */
const COMPANION_PORT: Record<string, number> = { 'ich9-uhci1': 0, 'ich9-uhci2': 2, 'ich9-uhci3': 4 };
const isImplementedUsb = (m: string): m is UsbModel => m in USB_DEVICE;
const isXhci = (m: string | undefined) => m === 'nec-xhci' || m === 'qemu-xhci';

function parse(e: XElement): ControllerDef {
  const type = propEnum(e, 'type', CONTROLLER_TYPES) ?? 'ide';
  const model = e.attrs.model;
  if (type !== 'usb' && type !== 'pci') {
    // virDomainControllerDefParseXML's order: model, index, <driver>, <model>/<target>, address, type's attributes.
    checkModel(type, model);
    const c: ControllerDef = { type, index: propInt(e, 'index', { nonNegative: true }) ?? -1, info: {} };
    if (model !== undefined) c.model = model;
    const driver = parseControllerDriver(e);
    if (driver) c.driver = driver;
    checkSingleChildren(e);
    c.info = parseDeviceInfo(e, `<controller type='${type}'>`, false, type === 'ccid' ? ['spapr-vio', 'usb'] : ['spapr-vio']);
    if (type === 'ccid') checkCcidAddress(c);
    parseStorageController(e, c);
    return c;
  }
  const index = propInt(e, 'index', { nonNegative: true }) ?? -1;
  for (const c of elements(e)) {
    if (c.name === 'driver' || (c.name === 'master' && type !== 'usb') || (type !== 'pci' && ['target', 'model', 'pcihole64'].includes(c.name))) {
      throw notImplemented(`<${c.name}> in <controller type='${type}'>`);
    }
  }
  if (type === 'usb') {
    const def: ControllerDef = { type, index, info: parseDeviceInfo(e, `<controller type='${type}'>`, false) };
    if (model !== undefined) {
      if (!USB_MODELS.includes(model)) throw unsupportedConfig(`Unknown model type '${model}'`);
      if (model !== 'none' && !isImplementedUsb(model)) throw notImplemented(`USB controller model '${model}'`);
      def.model = model;
    }
    const ports = propInt(e, 'ports');
    if (ports !== undefined) def.ports = ports;
    // A companion names the port of its master where its own start; a UHCI without <master> gets the default.
    const master = child(e, 'master');
    if (master) def.master = propUInt(master, 'startport') ?? 0;
    else if (model !== undefined && model in COMPANION_PORT) def.master = COMPANION_PORT[model];
    return def;
  }
  if (model !== undefined && !isPciModel(model)) throw unsupportedConfig(`Unknown model type '${model}'`);
  const pci = parsePciOpts(e);
  if (model === 'pci-root' || model === 'pcie-root') parsePciHole(e, pci);
  const def: ControllerDef = { type, index, pci, info: parseDeviceInfo(e, `<controller type='${type}'>`, false) };
  if (model !== undefined) def.model = model;
  // qemuDomainControllerDefPostParse and virDomainControllerDefValidate, checked early.
  if ((model === 'pci-root' || model === 'pcie-root') && index > 0) throw xmlError('pci-root and pcie-root controllers should have index 0');
  if (model === undefined && index !== 0) throw notImplemented("<controller type='pci'> without a model");
  if ((model === 'pci-root' || model === 'pcie-root') && def.info.address) throw unsupportedConfig('pci-root and pcie-root controllers should not have an address');
  return def;
}

/** virDomainControllerInsertPreAlloced, one controller at a time as libvirt parses them:
 *  a controller without an index goes after the last of its type; one with an index goes
 *  before the first of its type (anywhere in the run, not only at its end) with a higher
 *  index or, for a master, before the first companion with the same index; otherwise
 *  after the last of its type; a type not seen yet goes at the end. So each type's
 *  controllers stay together, types in the order they first appear. Each controller is
 *  ranked 2·index (+1 for a companion): the place is before the first of its type ranked
 *  above 2·index (+1 for a companion). Each type's run is kept in chunks that know their
 *  highest rank, so a domain of many controllers in any order is gathered in near-linear
 *  time. */
function controllerCollector(): Collector<ControllerDef> {
  const CHUNK = 256;
  const rank = (o: ControllerDef) => 2 * o.index + (o.master !== undefined ? 1 : 0);
  const maxRank = (items: ControllerDef[]) => items.reduce((m, o) => Math.max(m, rank(o)), -Infinity);
  const runs = new Map<ControllerDef['type'], { items: ControllerDef[]; max: number }[]>();
  let usbNone = false;
  let usbOther = false;
  let usbMaster = false;
  return {
    add(c) {
      // A USB controller of model 'none' disables USB: it must be the only one.
      if (c.type === 'usb') {
        if (usbNone || (usbOther && c.model === 'none')) {
          throw new TranslationError('bare', "Can't add another USB controller: USB is disabled for this domain");
        }
        if (c.model === 'none') usbNone = true;
        else usbOther = true;
        if (c.master === undefined) usbMaster = true;
      }
      const chunks = runs.get(c.type) ?? runs.set(c.type, []).get(c.type)!;
      let chunk = chunks[chunks.length - 1];
      let at = chunk?.items.length ?? 0;
      if (c.index !== -1) {
        const above = rank(c);
        const first = chunks.find((ch) => ch.max > above);
        if (first) {
          chunk = first;
          at = first.items.findIndex((o) => rank(o) > above);
        }
      }
      if (!chunk) chunks.push((chunk = { items: [], max: -Infinity }));
      chunk.items.splice(at, 0, c);
      chunk.max = Math.max(chunk.max, rank(c));
      if (chunk.items.length > 2 * CHUNK) {
        const rest = chunk.items.splice(CHUNK);
        chunk.max = maxRank(chunk.items);
        chunks.splice(chunks.indexOf(chunk) + 1, 0, { items: rest, max: maxRank(rest) });
      }
    },
    list: () => {
      if (usbOther && !usbMaster) throw new TranslationError('bare', 'No master USB controller specified');
      return [...runs.values()].flatMap((chunks) => chunks.flatMap((ch) => ch.items));
    },
  };
}

const active = (c: ControllerDef) => c.type === 'usb' && c.model !== 'none';
const pciModel = (c: ControllerDef) => (c.type === 'pci' && c.model !== undefined && isPciModel(c.model) ? c.model : undefined);

/** Command-line order of controller types (qemuBuildControllersCommandLine). */
const COMMAND_TYPES: ControllerDef['type'][] = ['pci', 'usb', 'scsi', 'ide', 'sata', 'virtio-serial'];

export const controller: DeviceKind<ControllerDef> = {
  element: 'controller',
  parse,
  collector: controllerCollector,
  info: (c) => c.info,
  usb: (c) => (c.type === 'ccid' ? { info: c.info } : undefined),
  postParse(c, ctx) {
    const { machine } = ctx;
    // qemuDomainControllerDefPostParse: each expander bus belongs to one chipset.
    if (c.model === 'pci-expander-bus' && machine.family !== 'i440fx') {
      throw unsupportedConfig('pci-expander-bus controllers are only supported on 440fx-based machinetypes');
    }
    if (c.model === 'pcie-expander-bus' && machine.family !== 'q35') throw unsupportedConfig('pcie-expander-bus controllers are not supported with this machine type');
    // An expander bus's NUMA node must be one of the guest's cells.
    const node = c.type === 'pci' ? c.pci?.numaNode ?? -1 : -1;
    const cells = ctx.def.numa?.length ?? 0;
    if (node >= cells) {
      throw xmlError(`${c.model} with index ${c.index} is configured for a NUMA node (${node}) not present in the domain's <cpu><numa> array (${cells})`);
    }
    if (isStorage(c)) postParseStorage(c, ctx);
    if (c.type !== 'usb') return;
    // A disabled controller keeps no address; one without a model gets the machine's.
    if (c.model === 'none') delete c.info.address;
    if (c.model === undefined) {
      const model = machine.defaultUsbModel?.(c.info.address !== undefined, ctx.caps);
      if (model !== undefined) c.model = model;
    }
  },
  // qemuDomainDeviceCalculatePCIConnectFlags
  pci(c, ctx) {
    const { def } = ctx;
    const model = pciModel(c);
    if (model) {
      const connect = modelConnect(model);
      return connect ? { info: c.info, connect, function: -1, early: true } : undefined;
    }
    if (isStorage(c)) return storagePciNeed(c, ctx);
    if (!active(c)) return undefined;
    const connect = c.model === 'nec-xhci' || c.model === 'qemu-xhci' ? pcieFlags(def) : pciFlags;
    const usb2 = c.model !== undefined ? USB2_FUNCTION[c.model] : undefined;
    if (usb2 === undefined) return { info: c.info, connect, function: -1 };
    return { info: c.info, connect, function: usb2, usb2: { index: c.index, multi: c.model === 'ich9-uhci1' } };
  },
  ccw: (c, { machine }) => machine.virtioCcw && storageCcw(c),
  validateConf(c) {
    if (c.pci) validatePciConf(c.index, c.pci);
  },
  validate(c, ctx) {
    const { caps, def } = ctx;
    if (isStorage(c)) return validateStorage(c, ctx);
    const model = pciModel(c);
    if (model && c.pci) validatePci(c.index, model, c.pci, caps, def.os.machine!);
    if (!active(c) || c.model === undefined || !isImplementedUsb(c.model)) return;
    if (c.ports !== undefined && isXhci(c.model) && c.ports > 15) throw unsupportedConfig(`'${c.model}' controller only supports up to '15' ports`);
  },
  // qemuValidateDomainDeviceDefControllerUSB, run as the controller's -device is built.
  validateStart(c, { caps }) {
    if (!active(c) || c.model === undefined || !isImplementedUsb(c.model)) return;
    if (!hasFlag(caps, USB_CAP[c.model])) throw unsupportedConfig(`USB controller model '${c.model}' not supported in this QEMU binary`);
    if (c.ports !== undefined && !isXhci(c.model)) {
      throw unsupportedConfig(`usb controller type '${c.model}' doesn't support 'ports' with this QEMU binary`);
    }
  },
  alias(c, _i, def) {
    if (c.type === 'usb') return c.index === 0 ? 'usb' : `usb${c.index}`;
    if (c.type === 'pci') return c.model === 'pcie-root' ? `pcie.${c.index}` : `pci.${c.index}`;
    // QEMU calls q35's built-in SATA controller and the PIIX3's IDE "ide".
    return isBuiltin(c, def) ? 'ide' : `${c.type}${c.index}`;
  },
  format(w, c) {
    const head = `controller type='${c.type}' index='${c.index}'${attr('model', c.model)}${attr('ports', c.ports)}${attr('vectors', c.vectors)}` +
      `${attr('maxGrantFrames', c.maxGrantFrames)}${attr('maxEventChannels', c.maxEventChannels)}`;
    const pci = c.pci ? formatPciOpts(c.pci) : [];
    const hole = c.pci?.pcihole64;
    w.element(head, 'controller', pci.length || hasInfo(c.info) || hole !== undefined || c.master !== undefined || c.driver ? () => {
      for (const line of pci) w.line(line);
      formatControllerDriver(w, c.driver);
      formatInfo(w, c.info, () => c.master !== undefined && w.line(`<master startport='${c.master}'/>`));
      if (hole !== undefined) w.line(`<pcihole64 unit='KiB'>${hole}</pcihole64>`);
    } : undefined);
  },
  commandOrder: (list) => COMMAND_TYPES.flatMap((t) => list.filter((c) => c.type === t)),
  // qemuBuildLegacyUSBControllerCommandLine (no machine here gets -usb: each has a default
  // model, or is q35 or s390x)
  commandAfter(list) {
    const usb = list.filter((c) => c.type === 'usb');
    if (!usb.some((c) => c.model === 'none') && usb.filter((c) => c.model === undefined).length > 1) {
      throw unsupportedConfig('Multiple legacy USB controllers are not supported');
    }
    return [];
  },
  commandBefore: (list) => list.flatMap((c) => (pciModel(c) ? pciHoleGlobal(pciModel(c)!, c.pci) : [])),
  command(c, ctx) {
    const { def } = ctx;
    if (isStorage(c)) {
      const props = storageDevProps(c, ctx);
      return props ? [...zpciDevice(c.info), ['-device', JSON.stringify({ ...props, ...addressProps(c.info, def) })]] : [];
    }
    const model = pciModel(c);
    if (model) {
      const out: string[][] = [];
      // qemuBuildPMPCIRootHotplugCommandLine
      if (model === 'pci-root' && c.index === 0 && c.pci?.hotplug) out.push(['-global', `PIIX4_PM.acpi-root-pci-hotplug=${c.pci.hotplug}`]);
      const props = c.pci && pciDeviceProps(model, c.pci, c.info.alias);
      if (props) out.push(...zpciDevice(c.info), ['-device', JSON.stringify({ ...props, ...addressProps(c.info, def) })]);
      return out;
    }
    if (!active(c) || c.model === undefined || !isImplementedUsb(c.model)) return [];
    const dev: Record<string, unknown> = { driver: USB_DEVICE[c.model] };
    if (c.ports !== undefined) {
      dev.p2 = c.ports;
      dev.p3 = c.ports;
    }
    if (c.master !== undefined) {
      // A companion joins its master's bus instead of having an id of its own.
      const master = def.devices.controller.find((o) => o.type === 'usb' && o.index === c.index && o.master === undefined);
      if (!master?.info.alias) throw internalError('masterbus not found');
      dev.masterbus = `${master.info.alias}.0`;
      dev.firstport = c.master;
    } else {
      dev.id = c.info.alias;
    }
    Object.assign(dev, addressProps(c.info, def));
    return [...zpciDevice(c.info), ['-device', JSON.stringify(dev)]];
  },
};
