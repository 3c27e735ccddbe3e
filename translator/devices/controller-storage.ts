// The controllers of storage and of other buses: scsi, ide, sata, fdc, virtio-serial,
// plus xenbus and isa, which the qemu driver accepts in the XML but cannot place
// (libvirt 9.0.0's virDomainControllerDefParseXML, qemuDomainControllerDefPostParse,
// qemuDomainDeviceCalculatePCIConnectFlags, qemuValidateDomainDeviceDefController,
// qemuBuildControllerDevProps). USB and PCI controllers are in controller.ts.
import { isI440fxMachine, isQ35Machine } from '../arch.js';
import { hasFlag, type CapsFlag, type QemuCaps } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef, TriState } from '../model.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';
import { propInt, propOnOff, propUInt } from '../xml/props.js';
import { child, elements, textOf, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import type { ControllerDef, ControllerDriver, ControllerType } from './controller-def.js';
import type { PciNeed, StageContext } from './kind.js';

/** The types this module handles. */
export const STORAGE_TYPES: readonly ControllerType[] = ['scsi', 'ide', 'sata', 'fdc', 'virtio-serial', 'xenbus', 'isa'];

const SCSI_MODELS = [
  'auto', 'buslogic', 'lsilogic', 'lsisas1068', 'vmpvscsi', 'ibmvscsi', 'virtio-scsi', 'lsisas1078',
  'virtio-transitional', 'virtio-non-transitional', 'ncr53c90', 'dc390', 'am53c974',
];
const MODELS: Partial<Record<ControllerType, readonly string[]>> = {
  scsi: SCSI_MODELS,
  ide: ['piix3', 'piix4', 'ich6'],
  'virtio-serial': ['virtio', 'virtio-transitional', 'virtio-non-transitional'],
  isa: [],
};
const VIRTIO_SCSI = ['virtio-scsi', 'virtio-transitional', 'virtio-non-transitional'];
const isVirtioScsi = (c: ControllerDef) => c.type === 'scsi' && VIRTIO_SCSI.includes(c.model ?? '');

/** Each SCSI model's QEMU device and the capability it needs (qemuValidateCheckSCSIControllerModel). */
const SCSI_DEVICE: Record<string, { driver: string; cap?: CapsFlag; what: string }> = {
  ibmvscsi: { driver: 'spapr-vscsi', what: 'the IBM vSCSI controller' },
  lsilogic: { driver: 'lsi', cap: 'lsi', what: 'the LSI 53C895A SCSI controller' },
  lsisas1068: { driver: 'mptsas1068', cap: 'mptsas1068', what: 'the LSI SAS1068 (MPT Fusion) controller' },
  lsisas1078: { driver: 'megasas', cap: 'megasas', what: 'the LSI SAS1078 (MegaRAID) controller' },
  vmpvscsi: { driver: 'pvscsi', cap: 'pvscsi', what: 'the pvscsi (VMware paravirtual SCSI) controller' },
};

/** virDomainControllerModelTypeFromString for the types with models. */
export function checkModel(type: ControllerType, model: string | undefined): void {
  if (model === undefined) return;
  const known = MODELS[type];
  if (!known || !known.includes(model)) throw unsupportedConfig(`Unknown model type '${model}'`);
}

/** The <driver> element (any controller type may have one; only virtio-scsi uses it). */
export function parseControllerDriver(e: XElement): ControllerDriver | undefined {
  const d = child(e, 'driver');
  if (!d) return undefined;
  const out: ControllerDriver = {
    queues: propUInt(d, 'queues') ?? 0,
    cmdPerLun: propUInt(d, 'cmd_per_lun') ?? 0,
    maxSectors: propUInt(d, 'max_sectors') ?? 0,
    iothread: 0,
  };
  const set = (key: 'ioeventfd' | 'iommu' | 'ats' | 'packed' | 'pagePerVq', v: TriState | undefined) => {
    if (v) out[key] = v;
  };
  set('ioeventfd', propOnOff(d, 'ioeventfd'));
  out.iothread = propUInt(d, 'iothread') ?? 0;
  set('iommu', propOnOff(d, 'iommu'));
  set('ats', propOnOff(d, 'ats'));
  set('packed', propOnOff(d, 'packed'));
  set('pagePerVq', propOnOff(d, 'page_per_vq'));
  return out;
}

/** The attributes of <driver>, in virDomainControllerDriverFormat's order ('' when none). */
export function formatControllerDriver(w: Writer, d: ControllerDriver | undefined): void {
  if (!d) return;
  const a =
    (d.queues ? ` queues='${d.queues}'` : '') +
    (d.cmdPerLun ? ` cmd_per_lun='${d.cmdPerLun}'` : '') +
    (d.maxSectors ? ` max_sectors='${d.maxSectors}'` : '') +
    attr('ioeventfd', d.ioeventfd) +
    (d.iothread ? ` iothread='${d.iothread}'` : '') +
    attr('iommu', d.iommu) + attr('ats', d.ats) + attr('packed', d.packed) + attr('page_per_vq', d.pagePerVq);
  if (a) w.line(`<driver${a}/>`);
}

/** The type-specific parts of virDomainControllerDefParseXML for this module's types
 *  (model, index, <driver> and the address are parsed by the caller). */
export function parseStorageController(e: XElement, c: ControllerDef): void {
  if (child(e, 'master')) throw notImplemented(`<master> in <controller type='${c.type}'>`);
  // <model>, <target> and <pcihole64> mean nothing here, but libvirt reads a
  // <target><node> of any controller (virXPathInt: an empty one is absent).
  const node = elements(e, 'target').flatMap((t) => elements(t, 'node'))[0];
  const raw = node ? textOf(node) : '';
  if (raw !== '' && !(/^[ \t\n\v\f\r]*\+?\d+$/.test(raw) && Number(raw) <= 2147483647) && !/^[ \t\n\v\f\r]*-0+$/.test(raw)) {
    throw xmlError('invalid NUMA node in target');
  }
  const ports = propInt(e, 'ports', { nonNegative: true });
  if (c.type === 'virtio-serial') {
    const vectors = propInt(e, 'vectors', { nonNegative: true });
    if (ports !== undefined) c.ports = ports;
    if (vectors !== undefined) c.vectors = vectors;
  }
  if (c.type === 'xenbus') {
    const frames = propInt(e, 'maxGrantFrames', { nonNegative: true });
    const channels = propInt(e, 'maxEventChannels', { nonNegative: true });
    if (frames !== undefined) c.maxGrantFrames = frames;
    if (channels !== undefined) c.maxEventChannels = channels;
  }
  // libvirt turns the address of an ibmvscsi into a spapr-vio one, whatever it was.
  if (c.model === 'ibmvscsi' && c.info.address && c.info.address.type !== 'spapr-vio') {
    throw notImplemented(`<controller type='scsi' model='ibmvscsi'> with an <address type='${c.info.address.type}'>`);
  }
}

/** qemuDomainAssignSpaprVIOAddresses for controllers (the only devices virtgold lets
 *  have such addresses): an ibmvscsi goes on the VIO bus; each VIO controller without
 *  a reg gets the first free one from 0x2000 up in steps of 0x1000. */
export function assignSpaprVioAddresses(def: DomainDef): void {
  const list = def.devices.controller;
  for (const c of list) if (c.type === 'scsi' && c.model === 'ibmvscsi') c.info.address ??= { type: 'spapr-vio' };
  const regs = () => list.flatMap((o) => (o.info.address?.type === 'spapr-vio' && o.info.address.reg !== undefined ? [o] : []));
  for (const c of list) {
    const a = c.info.address;
    if (a?.type !== 'spapr-vio') continue;
    const user = a.reg !== undefined;
    let reg = a.reg ?? 0x2000;
    const taken = (r: number) => regs().some((o) => o !== c && (o.info.address as { reg: number }).reg === r);
    while (taken(reg)) {
      if (user) throw xmlError(`spapr-vio address ${reg ? `0x${reg.toString(16)}` : '0'} already in use`);
      reg += 0x1000;
    }
    c.info.address = { type: 'spapr-vio', reg };
  }
}

/** qemuDomainGetSCSIControllerModel: the model of a SCSI controller without one ('auto'
 *  counts as none): virtio-scsi on s390x, else lsilogic, else virtio-scsi if the QEMU has them. */
export function defaultScsiModel(def: DomainDef, caps: QemuCaps, c: ControllerDef): string {
  if (c.model !== undefined && c.model !== 'auto') return c.model;
  if (def.os.arch === 's390x') return 'virtio-scsi';
  if (hasFlag(caps, 'lsi')) return 'lsilogic';
  if (hasFlag(caps, 'virtio-scsi-pci')) return 'virtio-scsi';
  throw notImplemented(`a SCSI controller without a model on a QEMU with neither lsi nor virtio-scsi`);
}

/** qemuDomainControllerDefPostParse for these types: the SCSI model. Call it again for
 *  implicit SCSI controllers added after the per-device post-parse, as libvirt does. */
export function postParseStorage(c: ControllerDef, { def, caps }: StageContext): void {
  if (c.type === 'scsi') c.model = defaultScsiModel(def, caps, c);
  // virDomainControllerDefPostParse, right after (it compares model numbers only, so
  // no other type of this module passes).
  if (c.driver?.iothread && !isVirtioScsi(c)) throw xmlError("'iothread' attribute only supported for virtio scsi controllers");
}

/** The chipset's own controllers: q35's first SATA and the PIIX3's first IDE
 *  (qemuBuildSkipController); they need no -device and are called "ide". */
export function isBuiltin(c: ControllerDef, def: DomainDef): boolean {
  return c.index === 0 && ((c.type === 'sata' && isQ35Machine(def.os.machine)) || (c.type === 'ide' && isI440fxMachine(def.os.machine)));
}

/** qemuDomainDeviceCalculatePCIConnectFlags and qemuDomainAssignDevicePCISlots for these
 *  types: FDC and the first IDE take no slot; xenbus and isa ask for one with no flags,
 *  which the allocator cannot give (as in libvirt). */
export function storagePciNeed(c: ControllerDef, { def, caps }: StageContext): PciNeed | undefined {
  const info = c.info;
  switch (c.type) {
    case 'fdc':
      return undefined;
    case 'ide':
      return c.index === 0 ? undefined : { info, connect: pciFlags, function: -1 };
    case 'sata':
      return { info, connect: pciFlags, function: -1 };
    case 'scsi':
      if (c.model === 'virtio-scsi' || c.model === 'virtio-non-transitional') return { info, connect: virtioFlags(def, caps), function: -1 };
      return { info, connect: pciFlags, function: -1 };
    case 'virtio-serial':
      return { info, connect: c.model === 'virtio-transitional' ? pciFlags : virtioFlags(def, caps), function: -1 };
    default:
      return { info, connect: 0, function: -1 };
  }
}

/** qemuDomainPrimeVirtioDeviceAddresses: on a CCW machine, every SCSI and virtio-serial controller. */
export const storageCcw = (c: ControllerDef) => c.type === 'scsi' || c.type === 'virtio-serial';

/** qemuValidateDomainDeviceDefController for these types (and the attribute checks for all). */
export function validateStorage(c: ControllerDef, { def, caps }: StageContext): void {
  if (c.type === 'scsi') {
    const m = c.model!;
    if (VIRTIO_SCSI.includes(m)) {
      if (!hasFlag(caps, 'virtio-scsi-pci')) throw unsupportedConfig("This QEMU doesn't support virtio scsi controller");
    } else if (SCSI_DEVICE[m]) {
      const cap = SCSI_DEVICE[m].cap;
      if (cap && !hasFlag(caps, cap)) throw unsupportedConfig(`This QEMU doesn't support ${SCSI_DEVICE[m].what}`);
    } else if (m === 'auto' || m === 'buslogic') {
      throw unsupportedConfig(`Unsupported controller model: ${m}`);
    } else {
      throw notImplemented(`<controller type='scsi' model='${m}'>`);
    }
  }
  const d = c.driver;
  if (d && !isVirtioScsi(c)) {
    if (d.queues) throw unsupportedConfig("'queues' is only supported by virtio-scsi controller");
    if (d.cmdPerLun) throw unsupportedConfig("'cmd_per_lun' is only supported by virtio-scsi controller");
    if (d.maxSectors) throw unsupportedConfig("'max_sectors' is only supported by virtio-scsi controller");
    if (d.ioeventfd) throw unsupportedConfig("'ioeventfd' is only supported by virtio-scsi controller");
    if (d.iothread) throw unsupportedConfig("'iothread' is only supported for virtio-scsi controller");
  }
  if (c.type === 'ide' && !isBuiltin(c, def)) {
    throw unsupportedConfig(isI440fxMachine(def.os.machine) ? 'Only a single IDE controller is supported for this machine type' : 'IDE controllers are unsupported for this QEMU binary or machine type');
  }
  if (c.type === 'scsi' && isVirtioScsi(c) && d?.iothread && !def.tuning.iothreads.some((t) => t.id === d.iothread)) {
    throw unsupportedConfig(`controller iothread '${d.iothread}' not defined in iothreadid`);
  }
  if (c.type === 'sata' && !isBuiltin(c, def) && !hasFlag(caps, 'ich9-ahci')) throw unsupportedConfig('SATA is not supported with this QEMU binary');
}

/** The virtio device name of a virtio controller on its bus (qemuBuildVirtioDevGetConfig). */
function virtioDriver(base: string, c: ControllerDef, caps: QemuCaps): string {
  if (c.info.address?.type === 'spapr-vio') throw internalError(`Unexpected address type for '${base}'`);
  const bus = c.info.address?.type === 'ccw' ? 'ccw' : 'pci';
  if (c.model === 'virtio-transitional') return `${base}-${bus}${hasFlag(caps, 'virtio-pci-non-transitional') ? '-transitional' : ''}`;
  if (c.model === 'virtio-non-transitional') {
    if (!hasFlag(caps, 'virtio-pci-non-transitional')) throw unsupportedConfig('virtio non-transitional model not supported for this qemu');
    return `${base}-${bus}-non-transitional`;
  }
  return `${base}-${bus}`;
}

/** The virtio options as QEMU properties (qemuBuildVirtioDevProps). */
function virtioProps(d: ControllerDriver | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const t = (k: string, v: TriState | undefined) => {
    if (v) out[k] = v === 'on';
  };
  t('iommu_platform', d?.iommu);
  t('ats', d?.ats);
  t('packed', d?.packed);
  t('page-per-vq', d?.pagePerVq);
  return out;
}

/** qemuBuildControllerDevProps for these types, without the address; undefined: no -device. */
export function storageDevProps(c: ControllerDef, { def, caps }: StageContext): Record<string, unknown> | undefined {
  if (isBuiltin(c, def)) return undefined;
  const id = c.info.alias;
  if (c.type === 'sata') return { driver: 'ahci', id };
  if (c.type === 'virtio-serial') {
    const p: Record<string, unknown> = { driver: virtioDriver('virtio-serial', c, caps), ...virtioProps(c.driver), id };
    if (c.ports !== undefined) p.max_ports = c.ports;
    if (c.vectors !== undefined) p.vectors = c.vectors;
    return p;
  }
  if (c.type !== 'scsi') return undefined;
  if (!isVirtioScsi(c)) return { driver: SCSI_DEVICE[c.model!]!.driver, id };
  const d = c.driver;
  const p: Record<string, unknown> = { driver: virtioDriver('virtio-scsi', c, caps), ...virtioProps(d) };
  if (d?.iothread) p.iothread = `iothread${d.iothread}`;
  p.id = id;
  if (d?.queues) p.num_queues = d.queues;
  if (d?.cmdPerLun) p.cmd_per_lun = d.cmdPerLun;
  if (d?.maxSectors) p.max_sectors = d.maxSectors;
  if (d?.ioeventfd) p.ioeventfd = d.ioeventfd === 'on';
  return p;
}

/** xml error for a repeated element, as virDomainControllerDefParseXML reports it. */
export function checkSingleChildren(e: XElement): void {
  if (elements(e, 'model').length > 1) throw xmlError('Multiple <model> elements in controller definition not allowed');
  if (elements(e, 'target').length > 1) throw xmlError('Multiple <target> elements in controller definition not allowed');
}
