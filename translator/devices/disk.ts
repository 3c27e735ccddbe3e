// <disk> (libvirt's virDomainDiskDef) on the -blockdev path: local file and block
// sources, device disk/cdrom/floppy on the virtio, ide, sata and fdc buses. Every part
// of a disk that virtgold does not implement yet is refused by name.
import { hasFlag } from '../capabilities.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig } from '../errors.js';
import { virtioFlags } from '../pci/connect.js';
import { diskCommand, floppyControllerArgs, prepareDiskCommand } from '../blockdev/disk-command.js';
import { defaultDriveAddress, diskInsertAt, diskNameParse, type DriveAddress } from '../stages/drive-address.js';
import { propEnum, propUInt } from '../xml/props.js';
import { child, elements, escapeXml, textOf, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { formatInfo, parseDeviceInfo } from './info.js';
import type { Collector, DeviceKind } from './kind.js';
import { formatSource, parseSource } from './disk-source.js';
import type { DiskBus, DiskDef, ErrorPolicy } from './disk-def.js';

export type { DiskBus, DiskDef, DiskDevice } from './disk-def.js';

const DEVICES = ['floppy', 'disk', 'cdrom', 'lun'] as const;
const BUSES = ['ide', 'fdc', 'scsi', 'virtio', 'xen', 'usb', 'uml', 'sata', 'sd'] as const;
const IMPLEMENTED_BUSES: readonly DiskBus[] = ['ide', 'fdc', 'virtio', 'sata'];
const REFUSED_CHILDREN = [
  'geometry', 'blockio', 'mirror', 'auth', 'encryption', 'transient', 'iotune', 'backenddomain', 'wwn',
  'vendor', 'product', 'rom', 'throttlefilters', 'privateData', 'diskSecretsPlacement',
];
const REFUSED_DISK_ATTRS = ['model', 'snapshot', 'rawio', 'sgio'];
const REFUSED_DRIVER_ATTRS = ['ioeventfd', 'event_idx', 'copy_on_read', 'iothread', 'queues', 'queue_size', 'packed', 'ats', 'iommu', 'page_per_vq'];
const CACHES = ['default', 'none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
const ERROR_POLICIES = ['default', 'stop', 'report', 'ignore', 'enospace'] as const;
const IO_MODES = ['default', 'native', 'threads', 'io_uring'] as const;
const DISCARDS = ['default', 'unmap', 'ignore'] as const;
const DETECT_ZEROES = ['default', 'off', 'on', 'unmap'] as const;
/** QEMU_SERIAL_PARAM_ACCEPTED_CHARS */
const SERIAL_RE = /^[a-zA-Z0-9\-_ .+]*$/;

/** <address type='drive'> (virDomainDeviceDriveAddressParseXML) */
function parseDrive(a: XElement): DriveAddress {
  const f = (k: string) => propUInt(a, k) ?? 0;
  return { controller: f('controller'), bus: f('bus'), target: f('target'), unit: f('unit') };
}

function parse(e: XElement): DiskDef {
  for (const a of REFUSED_DISK_ATTRS) if (e.attrs[a] !== undefined) throw notImplemented(`<disk ${a}>`);
  for (const c of elements(e)) {
    if (REFUSED_CHILDREN.includes(c.name)) throw notImplemented(`<${c.name}> in <disk>`);
  }
  const src = parseSource(e);
  const device = propEnum(e, 'device', DEVICES) ?? 'disk';
  if (device === 'lun') throw notImplemented("<disk device='lun'>");
  const disk: DiskDef = { device, src, info: {} };
  const source = child(e, 'source');
  if (source?.attrs.startupPolicy !== undefined) throw notImplemented('<source startupPolicy> in <disk>');
  const target = child(e, 'target');
  if (target) {
    if (target.attrs.dev !== undefined) disk.dst = target.attrs.dev;
    const bus = propEnum(target, 'bus', BUSES);
    if (bus !== undefined) {
      if (!IMPLEMENTED_BUSES.includes(bus)) throw notImplemented(`<target bus='${bus}'> in <disk>`);
      disk.bus = bus;
    }
    for (const a of ['tray', 'removable', 'rotation_rate']) if (target.attrs[a] !== undefined) throw notImplemented(`<target ${a}> in <disk>`);
  }
  const driver = child(e, 'driver');
  if (driver) {
    for (const a of REFUSED_DRIVER_ATTRS) if (driver.attrs[a] !== undefined) throw notImplemented(`<driver ${a}> in <disk>`);
    if (child(driver, 'metadata_cache')) throw notImplemented('<driver><metadata_cache> in <disk>');
    if (driver.attrs.name !== undefined) disk.driverName = driver.attrs.name;
    parseDriver(driver, disk);
  }
  // virXPathString: an empty <serial/> is no serial
  const serial = child(e, 'serial');
  const serialText = serial ? textOf(serial) : '';
  if (serialText !== '') disk.serial = serialText;
  // The drive address is this kind's own; the rest of the device info is shared.
  const addr = child(e, 'address');
  const infoEl = addr?.attrs.type === 'drive' ? { ...e, children: e.children.filter((c) => c !== addr) } : e;
  if (addr?.attrs.type === 'drive') disk.drive = parseDrive(addr);
  disk.info = parseDeviceInfo(infoEl, '<disk>', true);
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
  const discard = propEnum(driver, 'discard', DISCARDS, { nonZero: true });
  if (discard) disk.discard = discard as NonNullable<DiskDef['discard']>;
  const dz = propEnum(driver, 'detect_zeroes', DETECT_ZEROES, { nonZero: true });
  if (dz) disk.detectZeroes = dz as NonNullable<DiskDef['detectZeroes']>;
}

/** virDomainDiskInsert, one disk at a time as libvirt parses them. */
function diskCollector(): Collector<DiskDef> {
  const list: DiskDef[] = [];
  return {
    add(d) {
      list.splice(diskInsertAt(list, d), 0, d);
    },
    list: () => list,
  };
}

/** qemuAssignDeviceDiskAlias */
function alias(d: DiskDef): string | undefined {
  if (d.bus === 'virtio') return `virtio-disk${diskNameParse(d.dst!)!.index}`;
  if (d.drive) return `${d.bus}${d.drive.controller}-${d.drive.bus}-${d.drive.unit}`;
  return undefined;
}

export const disk: DeviceKind<DiskDef> = {
  element: 'disk',
  parse,
  collector: diskCollector,
  info: (d) => d.info,
  // virDomainDiskDefPostParse, then the qemu driver's qemuDomainDeviceDiskDefPostParse
  postParse(d) {
    if (d.dst?.startsWith('ioemu:')) d.dst = d.dst.slice('ioemu:'.length);
    if (d.device === 'cdrom') d.src.readonly = true;
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
    if (!d.drive && !d.info.address && d.dst !== undefined) d.drive = defaultDriveAddress(d.dst, d.bus);
    d.driverName ??= 'qemu';
    d.src.format ??= 'raw';
  },
  pci(d, { def, caps, machine }) {
    if (d.bus !== 'virtio' || machine.virtioCcw) return undefined;
    return { info: d.info, connect: virtioFlags(def, caps), function: -1 };
  },
  ccw: (d, { machine }) => d.bus === 'virtio' && machine.virtioCcw,
  // virDomainDiskDefValidate
  validateConf(d) {
    if (d.dst === undefined) throw new TranslationError('bare', d.src.path !== undefined ? `missing target information for device ${d.src.path}` : 'missing target information for device');
    if (d.drive && (d.bus === 'virtio')) {
      throw unsupportedConfig("virtio disk cannot have an address of type 'drive'");
    }
  },
  // qemuValidateDomainDeviceDefDisk
  validate(d, { machine, caps }) {
    const dst = d.dst!;
    if (d.info.address && d.bus !== 'virtio') {
      throw notImplemented(`a ${d.info.address.type} address on a disk on bus '${d.bus}'`);
    }
    if (d.device === 'cdrom' && d.bus === 'virtio') throw unsupportedConfig(`disk type of '${dst}' does not support ejectable media`);
    if (d.bus !== 'virtio' && !d.drive) throw internalError(`unexpected address type for ${d.bus} disk`);
    if (d.src.readonly && d.device === 'disk' && (d.bus === 'ide' || d.bus === 'sata')) throw unsupportedConfig(`readonly ${d.bus} disks are not supported`);
    if (d.io === 'native' && d.cache !== 'directsync' && d.cache !== 'none') throw unsupportedConfig("io='native' needs either no disk cache or directsync cache mode");
    if (d.io === 'io_uring' && !hasFlag(caps, 'aio.io_uring')) throw unsupportedConfig('io uring is not supported by this QEMU binary');
    if (d.serial !== undefined && !SERIAL_RE.test(d.serial)) throw internalError(`driver serial '${d.serial}' contains unsafe characters`);
    if (d.src.shared && !d.src.readonly && d.src.format !== 'raw') {
      throw unsupportedConfig(`shared access for disk '${dst}' requires use of supported storage format`);
    }
    if (d.driverName !== 'qemu') throw unsupportedConfig(`unsupported driver name '${d.driverName}' for disk '${dst}'`);
    const name = diskNameParse(dst);
    if (!name || name.partition < 0) throw unsupportedConfig(`invalid disk target '${dst}'`);
    if (name.partition !== 0) throw unsupportedConfig(`invalid disk target '${dst}', partitions can't appear in disk targets`);
    validateFormat(d.src.format!);
    // What virtgold has no model of yet: other controllers, odd buses per machine.
    if (d.device === 'floppy' && d.bus !== 'fdc') throw notImplemented(`a floppy on bus '${d.bus}'`);
    if (d.bus === 'fdc' && d.device !== 'floppy') throw notImplemented(`a ${d.device} on bus 'fdc'`);
    if (d.bus === 'ide' && machine.family !== 'i440fx') throw notImplemented(`an IDE disk on a ${machine.family} machine`);
    if (d.bus === 'sata' && machine.family !== 'q35') throw notImplemented(`a SATA disk on a ${machine.family} machine`);
    if (d.bus === 'fdc' && machine.family === 's390-ccw') throw notImplemented('a floppy on an s390-ccw machine');
    const a = d.drive;
    if (a) {
      const ok = a.controller === 0 && a.target === 0 && (d.bus === 'ide' ? a.bus <= 1 && a.unit <= 1 : a.bus === 0 && a.unit <= (d.bus === 'sata' ? 5 : 1));
      if (!ok) throw notImplemented(`<address type='drive' controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}'/> on a ${d.bus} disk`);
    }
    if (d.src.type === 'block' && d.device === 'cdrom' && d.src.path !== undefined && !caps.hostCdroms) {
      // libvirt asks the host whether the block device is a CD-ROM drive.
      throw notImplemented("<disk type='block' device='cdrom'> on a snapshot without the host's CD-ROM drives (host/<snapshot>.json)");
    }
  },
  alias: (d) => alias(d),
  format(w: Writer, d: DiskDef) {
    w.open(`<disk type='${d.src.type}' device='${d.device}'>`);
    const drv = [attr('cache', d.cache), attr('error_policy', d.errorPolicy), attr('rerror_policy', d.rerrorPolicy), attr('io', d.io), attr('discard', d.discard), attr('detect_zeroes', d.detectZeroes)].join('');
    w.line(`<driver name='${d.driverName}'${attr('type', d.src.format)}${drv}/>`);
    formatSource(w, d.src);
    w.line(`<target dev='${d.dst}' bus='${d.bus}'/>`);
    if (d.src.readonly) w.line('<readonly/>');
    if (d.src.shared) w.line('<shareable/>');
    if (d.serial !== undefined) w.line(`<serial>${escapeXml(d.serial)}</serial>`);
    formatInfo(w, d.info);
    if (d.drive) {
      const a = d.drive;
      w.line(`<address type='drive' controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}'/>`);
    }
    w.close('</disk>');
  },
  commandBefore: (list, ctx) => {
    prepareDiskCommand(list, ctx.def);
    return floppyControllerArgs(list, ctx);
  },
  command: (d, ctx) => diskCommand(d, ctx),
};

/** qemuDomainValidateStorageSource, the format part */
function validateFormat(format: string): void {
  if (format === 'cow') throw unsupportedConfig("'cow' storage format is not supported");
  if (format === 'dir') throw unsupportedConfig("'directory' storage format is not directly supported by QEMU, use 'dir' disk type instead");
  if (format === 'iso') throw unsupportedConfig("storage format 'iso' is not directly supported by QEMU, use 'raw' instead");
  if (format === 'fat') throw unsupportedConfig("storage format 'fat' is supported only with 'dir' storage type");
}
