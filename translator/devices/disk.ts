// <disk> (libvirt's virDomainDiskDef) on the -blockdev path: local file and block
// sources, device disk/cdrom/floppy on the virtio, ide, sata and fdc buses. Every part
// of a disk that virtgold does not implement yet is refused by name.
import { notImplemented, unsupportedConfig } from '../errors.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';
import { diskCommand, floppyControllerArgs, prepareDiskCommand } from '../blockdev/disk-command.js';
import { defaultDriveAddress, diskInserter, diskNameParse, type DriveAddress } from '../stages/drive-address.js';
import { propEnum, propOnOff, propUInt, propYesNo } from '../xml/props.js';
import { child, elements, escapeXml, textOf, type XElement, type XNode } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { formatInfo, parseDeviceInfo } from './info.js';
import type { Collector, DeviceKind } from './kind.js';
import { chainOf, formatSource, parseFormat, parseSource } from './disk-source.js';
import { formatEncryption, postParseEncryption } from './disk-encryption.js';
import { expandGroupIoTune, formatIoTune, parseIoTune } from './disk-iotune.js';
import { formatTransient, hotpluggedAfterStart, parseTransient } from './disk-transient.js';
import { postParseRemote } from './disk-source-net.js';
import { validateDiskStart } from './disk-net-validate.js';
import { validateDiskConf, validateDiskQemu } from './disk-validate.js';
import { scsiController, type DiskBus, type DiskDef, type ErrorPolicy } from './disk-def.js';
import type { DomainDef } from '../model.js';
import { checkDiskAddressFree } from './hostdev-scsi.js';

export type { DiskBus, DiskDef, DiskDevice } from './disk-def.js';

const DEVICES = ['floppy', 'disk', 'cdrom', 'lun'] as const;
const BUSES = ['ide', 'fdc', 'scsi', 'virtio', 'xen', 'usb', 'uml', 'sata', 'sd'] as const;
const IMPLEMENTED_BUSES: readonly DiskBus[] = ['ide', 'fdc', 'scsi', 'virtio', 'sata', 'usb', 'sd', 'xen', 'uml'];
// (<throttlefilters> is newer than libvirt 9.0.0, <privateData> and <diskSecretsPlacement>
// belong to status XML: inactive parsing ignores all three, as it ignores unknown children)
const REFUSED_CHILDREN = ['rom'];
/** USER_ALIAS_CHARS */
/** virDomainSnapshotLocation */
const SNAPSHOTS = ['default', 'no', 'internal', 'external', 'manual'] as const;
const MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
const CACHES = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
const ERROR_POLICIES = ['default', 'stop', 'report', 'ignore', 'enospace'] as const;
const IO_MODES = ['default', 'native', 'threads', 'io_uring'] as const;
const DISCARDS = ['default', 'unmap', 'ignore'] as const;
const DETECT_ZEROES = ['default', 'off', 'on', 'unmap'] as const;

/** <address type='drive'> (virDomainDeviceDriveAddressParseXML) */
function parseDrive(a: XElement): DriveAddress {
  const f = (k: string) => propUInt(a, k) ?? 0;
  return { controller: f('controller'), bus: f('bus'), target: f('target'), unit: f('unit') };
}

function parse(e: XElement): DiskDef {
  for (const c of elements(e)) {
    if (REFUSED_CHILDREN.includes(c.name)) throw notImplemented(`<${c.name}> in <disk>`);
  }
  const src = parseSource(e);
  const device = propEnum(e, 'device', DEVICES) ?? 'disk';
  const disk: DiskDef = { device, src, info: {} };
  const model = propEnum(e, 'model', MODELS);
  if (model !== undefined && model !== 'default') disk.model = model;
  const snapshot = propEnum(e, 'snapshot', SNAPSHOTS, { nonZero: true });
  if (snapshot) disk.snapshot = snapshot as NonNullable<DiskDef['snapshot']>;
  // rawio and sgio: for device='lun' (libvirt refuses them on other devices)
  const rawio = propYesNo(e, 'rawio');
  if (rawio) disk.rawio = rawio;
  const sgio = propEnum(e, 'sgio', ['default', 'filtered', 'unfiltered'] as const, { nonZero: true });
  if (sgio) disk.sgio = sgio as NonNullable<DiskDef['sgio']>;
  const source = child(e, 'source');
  const policy = source ? propEnum(source, 'startupPolicy', ['default', 'mandatory', 'requisite', 'optional'] as const, { nonZero: true }) : undefined;
  if (policy) disk.startupPolicy = policy as NonNullable<DiskDef['startupPolicy']>;
  const target = child(e, 'target');
  if (target) {
    if (target.attrs.dev !== undefined) disk.dst = target.attrs.dev;
    const bus = propEnum(target, 'bus', BUSES);
    if (bus !== undefined) {
      if (!IMPLEMENTED_BUSES.includes(bus)) throw notImplemented(`<target bus='${bus}'> in <disk>`);
      disk.bus = bus;
    }
    if (propEnum(target, 'tray', ['closed', 'open'] as const) === 'open') disk.trayOpen = true;
    const removable = propOnOff(target, 'removable');
    if (removable) disk.removable = removable;
    const rate = propUInt(target, 'rotation_rate');
    if (rate) disk.rotationRate = rate;
  }
  const geometry = child(e, 'geometry');
  if (geometry) {
    const g: NonNullable<DiskDef['geometry']> = {};
    const cyls = propUInt(geometry, 'cyls');
    const heads = propUInt(geometry, 'heads');
    const secs = propUInt(geometry, 'secs');
    const trans = propEnum(geometry, 'trans', ['default', 'none', 'auto', 'lba'] as const, { nonZero: true });
    if (cyls) g.cyls = cyls;
    if (heads) g.heads = heads;
    if (secs) g.secs = secs;
    if (trans) g.trans = trans as NonNullable<typeof g.trans>;
    disk.geometry = g;
  }
  const blockio = child(e, 'blockio');
  if (blockio) {
    const logical = propUInt(blockio, 'logical_block_size');
    const physical = propUInt(blockio, 'physical_block_size');
    disk.blockio = { ...(logical ? { logical } : {}), ...(physical ? { physical } : {}) };
  }
  const driver = child(e, 'driver');
  if (driver) {
    // virDomainVirtioOptionsParseXML, then virDomainDiskDefDriverParseXML, then the format
    const virtio: NonNullable<DiskDef['virtio']> = {};
    for (const [k, a] of [['iommu', 'iommu'], ['ats', 'ats'], ['packed', 'packed'], ['pagePerVq', 'page_per_vq']] as const) {
      const v = propOnOff(driver, a);
      if (v) virtio[k] = v;
    }
    if (Object.keys(virtio).length) disk.virtio = virtio;
    if (driver.attrs.name !== undefined) disk.driverName = driver.attrs.name;
    parseDriver(driver, disk);
    parseFormat(driver, src);
  }
  // (<mirror> is read from live XML only: inactive XML drops it)
  const transient = parseTransient(e);
  if (transient) disk.transient = transient;
  const iotune = parseIoTune(e);
  if (iotune) disk.iotune = iotune;
  // <backenddomain name> (Xen's driver domain): kept, nothing for QEMU
  const backend = child(e, 'backenddomain')?.attrs.name;
  if (backend) disk.backendDomain = backend;
  // virXPathString: an empty element is none
  for (const k of ['serial', 'wwn', 'vendor', 'product'] as const) {
    const el = child(e, k);
    const text = el ? textOf(el) : '';
    if (text !== '') disk[k] = text;
  }
  // The drive address is this kind's own; the rest of the device info is shared.
  const addr = child(e, 'address');
  const own = (c: XNode) => c === addr && addr.attrs.type === 'drive';
  const infoEl = { ...e, children: e.children.filter((c) => !own(c)) };
  if (addr?.attrs.type === 'drive') disk.drive = parseDrive(addr);
  disk.info = parseDeviceInfo(infoEl, '<disk>', true, ['usb']);
  if (disk.info.rom) throw notImplemented('<rom> in <disk>');
  return disk;
}

/** virDomainDiskDefDriverParseXML, in its order */
function parseDriver(driver: XElement, disk: DiskDef): void {
  const cache = propEnum(driver, 'cache', CACHES);
  if (cache !== undefined && cache !== 'default') disk.cache = cache;
  const ep = propEnum(driver, 'error_policy', ERROR_POLICIES, { nonZero: true });
  if (ep) disk.errorPolicy = ep as ErrorPolicy;
  const rp = propEnum(driver, 'rerror_policy', ERROR_POLICIES, { nonZero: true });
  if (rp) disk.rerrorPolicy = rp as ErrorPolicy;
  if (rp === 'enospace') throw unsupportedConfig("Invalid disk read error policy: 'enospace'");
  const io = propEnum(driver, 'io', IO_MODES, { nonZero: true });
  if (io) disk.io = io as NonNullable<DiskDef['io']>;
  for (const [k, a] of [['ioeventfd', 'ioeventfd'], ['eventIdx', 'event_idx'], ['copyOnRead', 'copy_on_read']] as const) {
    const v = propOnOff(driver, a);
    if (v) disk[k] = v;
  }
  const discard = propEnum(driver, 'discard', DISCARDS, { nonZero: true });
  if (discard) disk.discard = discard as NonNullable<DiskDef['discard']>;
  const iothread = propUInt(driver, 'iothread', { nonZero: true });
  if (iothread !== undefined) disk.iothread = iothread;
  const dz = propEnum(driver, 'detect_zeroes', DETECT_ZEROES, { nonZero: true });
  if (dz) disk.detectZeroes = dz as NonNullable<DiskDef['detectZeroes']>;
  const queues = propUInt(driver, 'queues');
  if (queues) disk.queues = queues;
  const queueSize = propUInt(driver, 'queue_size');
  if (queueSize) disk.queueSize = queueSize;
}

/** virDomainDiskInsert, one disk at a time as libvirt parses them. */
function diskCollector(): Collector<DiskDef> {
  return diskInserter<DiskDef>();
}

/** qemuAssignDeviceDiskAlias */
function alias(d: DiskDef, def: DomainDef): string | undefined {
  const a = d.drive;
  if (!a) return `${d.bus}-disk${diskNameParse(d.dst!)!.index}`;
  // SCSI disks name the target too, but not on an lsilogic controller
  if (d.bus === 'scsi' && scsiController(def, a)?.model !== 'lsilogic') return `scsi${a.controller}-${a.bus}-${a.target}-${a.unit}`;
  return `${d.bus}${a.controller}-${a.bus}-${a.unit}`;
  return undefined;
}

export const disk: DeviceKind<DiskDef> = {
  element: 'disk',
  parse,
  collector: diskCollector,
  info: (d) => d.info,
  // a USB disk with a drive address is counted, never placed
  usb: (d) => (d.bus === 'usb' ? { info: d.info, other: d.drive !== undefined } : undefined),
  // virDomainDiskDefPostParse, then the qemu driver's qemuDomainDeviceDiskDefPostParse
  postParse(d, { def }) {
    if (d.dst?.startsWith('ioemu:')) d.dst = d.dst.slice('ioemu:'.length);
    if (d.device === 'cdrom') d.src.readonly = true;
    if (d.snapshot === undefined && d.src.readonly) d.snapshot = 'no';
    // a vhost-user disk cannot be snapshotted
    if (d.snapshot === undefined && d.src.type === 'vhostuser') d.snapshot = 'no';
    if (d.bus === undefined) {
      let bus: DiskBus = 'ide';
      if (d.device === 'floppy') bus = 'fdc';
      else if (d.dst?.startsWith('sd')) bus = 'scsi';
      else if (d.dst?.startsWith('vd')) bus = 'virtio';
      else if (d.dst?.startsWith('xvd')) bus = 'xen';
      else if (d.dst?.startsWith('ubd')) bus = 'uml';
      if (!IMPLEMENTED_BUSES.includes(bus)) throw notImplemented(`a disk on bus '${bus}' (from its target '${d.dst}')`);
      d.bus = bus;
    }
    if (!d.drive && !d.info.address && d.dst !== undefined) {
      d.drive = defaultDriveAddress(d.dst, d.bus);
      if (d.bus === 'scsi') checkDiskAddressFree(d.dst, d.drive, def);
    }
    expandGroupIoTune(d, def.devices.disk);
    d.driverName ??= 'qemu';
    if (d.src.type !== 'volume') d.src.format ??= 'raw';
    for (const n of chainOf(d.src)) postParseEncryption(n.encryption);
    postParseRemote(d.src);
  },
  pci(d, { def, caps, machine }) {
    if (d.bus !== 'virtio' || machine.virtioCcw) return undefined;
    // (qemuDomainAssignDevicePCISlots)
    if (d.info.address?.type === 'usb') throw unsupportedConfig("virtio disk cannot have an address of type 'usb'");
    // a transitional device only works in a conventional PCI slot
    return { info: d.info, connect: d.model === 'virtio-transitional' ? pciFlags : virtioFlags(def, caps), function: -1 };
  },
  ccw: (d, { machine }) => d.bus === 'virtio' && machine.virtioCcw,
  validateConf: validateDiskConf,
  validate: validateDiskQemu,
  validateStart: validateDiskStart,
  alias: (d, _i, def) => alias(d, def),
  format(w: Writer, d: DiskDef) {
    // (a read-only disk is never snapshotted: 'no' goes without saying)
    const snapshot = d.snapshot === 'no' && d.src.readonly ? undefined : d.snapshot;
    w.open(`<disk type='${d.src.type}' device='${d.device}'${attr('model', d.model)}${attr('rawio', d.rawio)}${attr('sgio', d.sgio)}${attr('snapshot', snapshot)}>`);
    const v = d.virtio;
    const drv = [
      attr('cache', d.cache), attr('error_policy', d.errorPolicy), attr('rerror_policy', d.rerrorPolicy), attr('io', d.io), attr('ioeventfd', d.ioeventfd),
      attr('event_idx', d.eventIdx), attr('copy_on_read', d.copyOnRead), attr('discard', d.discard), attr('iothread', d.iothread),
      attr('detect_zeroes', d.detectZeroes), attr('queues', d.queues), attr('queue_size', d.queueSize),
      attr('iommu', v?.iommu), attr('ats', v?.ats), attr('packed', v?.packed), attr('page_per_vq', v?.pagePerVq),
    ].join('');
    const mc = d.src.metadataCacheMaxSize;
    w.element(`driver name='${d.driverName}'${attr('type', d.src.format)}${drv}`, 'driver', mc !== undefined ? () => {
      w.open('<metadata_cache>');
      w.line(`<max_size unit='bytes'>${mc}</max_size>`);
      w.close('</metadata_cache>');
    } : undefined);
    formatSource(w, d.src, d.startupPolicy);
    if (d.backendDomain !== undefined) w.line(`<backenddomain name='${escapeXml(d.backendDomain)}'/>`);
    const g = d.geometry;
    if (g?.cyls && g.heads && g.secs) w.line(`<geometry cyls='${g.cyls}' heads='${g.heads}' secs='${g.secs}'${attr('trans', g.trans)}/>`);
    if (d.blockio?.logical || d.blockio?.physical) w.line(`<blockio${attr('logical_block_size', d.blockio.logical)}${attr('physical_block_size', d.blockio.physical)}/>`);
    const tray = d.trayOpen && (d.device === 'floppy' || d.device === 'cdrom') ? " tray='open'" : '';
    const removable = d.bus === 'usb' ? attr('removable', d.removable) : '';
    w.line(`<target dev='${d.dst}' bus='${d.bus}'${tray}${removable}${attr('rotation_rate', d.rotationRate)}/>`);
    formatIoTune(w, d.iotune);
    if (d.src.readonly) w.line('<readonly/>');
    if (d.src.shared) w.line('<shareable/>');
    formatTransient(w, d.transient);
    for (const k of ['serial', 'wwn', 'vendor', 'product'] as const) if (d[k] !== undefined) w.line(`<${k}>${escapeXml(d[k]!)}</${k}>`);
    if (d.src.encryptionOnDisk) formatEncryption(w, d.src.encryption);
    formatInfo(w, d.info);
    if (d.drive) {
      const a = d.drive;
      w.line(`<address type='drive' controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}'/>`);
    }
    w.close('</disk>');
  },
  commandBefore: (list, ctx) => {
    prepareDiskCommand(list, ctx.def, ctx.caps);
    return floppyControllerArgs(list, ctx);
  },
  command: (d, ctx) => (hotpluggedAfterStart(d) ? [] : diskCommand(d, ctx)),
};
