// <hostdev mode='subsystem' type='mdev'>: a mediated device (a vGPU slice, an s390 channel
// I/O or crypto adapter) given to the guest as vfio-pci, vfio-ccw or vfio-ap, named by its
// UUID under /sys/bus/mdev/devices (libvirt's virDomainHostdevSubsysMediatedDev). Neither
// domxml-to-native nor libvirt's test harness looks at the host for it.
import { hasFlag } from '../capabilities.js';
import { parseUuid } from '../domain/ids.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef, TriState } from '../model.js';
import { pcieFlags } from '../pci/connect.js';
import { propEnum, propOnOff, propUInt, required } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { addressProps, formatInfo, parseDeviceInfo } from './info.js';
import type { PciNeed, StageContext } from './kind.js';

const MODELS = ['vfio-pci', 'vfio-ccw', 'vfio-ap'] as const;

export interface MdevHostdevDef {
  subsys: 'mdev';
  managed: boolean;
  model: (typeof MODELS)[number];
  display?: TriState;
  ramfb?: TriState;
  uuid: string;
  info: DeviceInfo;
  /** the XML gave a drive address, which post-parse refuses */
  driveAddress?: boolean;
}

/** virDomainHostdevDefParseXMLSubsys and virDomainHostdevSubsysMediatedDevDefParseXML */
export function parseMdevHostdev(e: XElement, managed: boolean): MdevHostdevDef {
  required(e, 'model');
  const model = propEnum(e, 'model', MODELS)!;
  const display = propOnOff(e, 'display');
  const ramfb = propOnOff(e, 'ramfb');
  const addr = child(child(e, 'source')!, 'address');
  if (!addr) throw unsupportedConfig('Missing <address> element');
  const raw = addr.attrs.uuid;
  if (raw === undefined) throw unsupportedConfig("Missing 'uuid' attribute for element <address>");
  const uuid = parseUuid(raw);
  if (!uuid) throw internalError('Cannot parse uuid attribute of element <address>');
  // A drive address is read (and checked) like any, for post-parse to refuse it.
  const devAddr = child(e, 'address');
  let drive = false;
  if (devAddr?.attrs.type === 'drive' && model !== 'vfio-ap') {
    for (const k of ['controller', 'bus', 'target', 'unit']) propUInt(devAddr, k);
    drive = true;
  }
  const infoEl = drive ? { ...e, children: e.children.filter((c) => c !== devAddr) } : e;
  const h: MdevHostdevDef = { subsys: 'mdev', managed, model, uuid, info: parseDeviceInfo(infoEl, "<hostdev type='mdev'>", true, ['unassigned']) };
  if (drive) h.driveAddress = true;
  // (libvirt drops a vfio-ap device's address on s390x machines and keeps it elsewhere)
  if (model === 'vfio-ap' && h.info.address) throw notImplemented("<address> on <hostdev type='mdev' model='vfio-ap'>");
  if (display) h.display = display;
  if (ramfb) h.ramfb = ramfb;
  return h;
}

/** virDomainHostdevDefPostParse, then qemuDomainHostdevDefMdevPostParse */
export function postParseMdevHostdev(h: MdevHostdevDef, { caps }: StageContext): void {
  const type = h.driveAddress ? 'drive' : h.info.address?.type;
  if (type !== undefined && ((h.model === 'vfio-pci' && type !== 'pci') || (h.model === 'vfio-ccw' && type !== 'ccw'))) {
    throw xmlError(`Unsupported address type '${type}' with mediated device model '${h.model}'`);
  }
  if (hasFlag(caps, 'vfio-pci.display') && h.model === 'vfio-pci' && !h.display) h.display = 'off';
}

/** qemuDomainPrimeVfioDeviceAddresses: vfio-ccw devices sit on the channel subsystem */
export const mdevCcw = (h: MdevHostdevDef, { machine }: StageContext) => machine.virtioCcw && h.model === 'vfio-ccw';

/** mdevs are taken for PCI Express devices (libvirt cannot look at them) */
export const mdevPci = (h: MdevHostdevDef, { def }: StageContext): PciNeed | undefined =>
  (h.model === 'vfio-pci' ? { info: h.info, connect: pcieFlags(def), function: -1 } : undefined);

/** qemuValidateDomainMdevDef */
export function validateMdevHostdev(h: MdevHostdevDef, { def, caps }: StageContext): void {
  if (h.model === 'vfio-ccw') {
    if (!hasFlag(caps, 'vfio-ccw')) throw unsupportedConfig('VFIO CCW device assignment is not supported by this version of QEMU');
    return;
  }
  const pci = h.model === 'vfio-pci';
  if (!hasFlag(caps, pci ? 'vfio-pci' : 'vfio-ap')) throw unsupportedConfig(`VFIO ${pci ? 'PCI' : 'AP'} device assignment is not supported by this version of QEMU`);
  if (h.info.bootIndex !== undefined) throw unsupportedConfig(`booting from assigned devices is not supported by mediated devices of model ${h.model}`);
  if (!pci) {
    const aps = def.devices.hostdev.filter((o) => o.subsys === 'mdev' && o.model === 'vfio-ap');
    if (aps.length > 1) throw unsupportedConfig('Only one hostdev of model vfio-ap is supported');
    return;
  }
  if (!h.display) return;
  if (!hasFlag(caps, 'vfio-pci.display')) throw unsupportedConfig('display property of device vfio-pci is not supported by this version of QEMU');
  const graphics = (def.devices as unknown as Record<string, unknown[] | undefined>).graphics?.length ?? 0;
  if (h.display === 'on' && !graphics) throw unsupportedConfig("graphics device is needed for attribute value 'display=on' in <hostdev>");
}

export const sameMdevSource = (a: MdevHostdevDef, b: MdevHostdevDef) => a.uuid === b.uuid;

export function formatMdevHostdev(w: Writer, h: MdevHostdevDef): void {
  w.open(`<hostdev mode='subsystem' type='mdev' managed='${h.managed ? 'yes' : 'no'}' model='${h.model}'${attr('display', h.display)}${attr('ramfb', h.ramfb)}>`);
  w.open('<source>');
  w.line(`<address uuid='${h.uuid}'/>`);
  w.close('</source>');
  formatInfo(w, h.info);
  w.close('</hostdev>');
}

/** qemuBuildHostdevMediatedDevProps */
export function mdevHostdevCommand(h: MdevHostdevDef, def: DomainDef): string[][] {
  // (with a ramfb libvirt needs the variant QEMU cannot hot-unplug)
  const dev: Record<string, unknown> = { driver: h.model === 'vfio-pci' && h.ramfb === 'on' ? 'vfio-pci-nohotplug' : h.model, id: h.info.alias, sysfsdev: `/sys/bus/mdev/devices/${h.uuid}` };
  if (h.display) dev.display = h.display;
  if (h.ramfb === 'on') dev.ramfb = true;
  if (h.info.bootIndex !== undefined) dev.bootindex = h.info.bootIndex;
  // (unlike other PCI devices, no zpci device goes before it on s390x)
  return [['-device', JSON.stringify({ ...dev, ...addressProps(h.info, def) })]];
}
