// A disk on the QEMU command line (qemuBuildDisksCommandLine with -blockdev): the
// storage and format nodes of its source, named libvirt-N-storage/-format as libvirt
// numbers them, then its -device.
import type { StageContext } from '../devices/kind.js';
import { scsiController, type DiskCache, type DiskDef } from '../devices/disk-def.js';
import { addressProps, zpciDevice } from '../devices/info.js';
import { usbRemovable } from '../usb/disk.js';
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { BACKING_FORMATS, chainOf, isEmptySource, type StorageSource } from '../devices/disk-source.js';
import type { VhostUserSource } from '../devices/disk-source-net.js';
import { escapeComma } from '../argv.js';
import { prepareRemote, prepareRemoteAuth, remoteAuthObjects, remoteObjects, remoteStorageProps } from './net.js';
import { internalError, unsupportedConfig } from '../errors.js';
import { prManagerAlias, unmanagedPrObject } from '../devices/disk-reservations.js';
import { isBuiltin } from '../devices/controller-storage.js';
import type { DomainDef } from '../model.js';
import { formatDriverProps, imageExtras, jsonArg, prepareEncryptionSecret, prepareFDs } from './storage-extra.js';
import { isLegacyBus, noDevice, sdDrive } from './drive-legacy.js';

/** node-name ids of each image, given on the way to a command line */
const nodeIds = new WeakMap<StorageSource, number>();

/** qemuProcessPrepareDomainStorage numbers the sources from the last disk to the first
 *  (each source of a chain takes the next id); qemuProcessPrepareDeviceBootorder gives
 *  the first disk of each <os><boot dev> kind its boot index. */
export function prepareDiskCommand(list: DiskDef[], def: DomainDef, caps: QemuCaps): void {
  let id = 0;
  for (let i = list.length - 1; i >= 0; i--) {
    // an SD card is a legacy -drive: no node names; a vhost-user disk is a chardev
    if (list[i]!.bus === 'sd' || list[i]!.src.type === 'vhostuser') continue;
    for (const n of chainOf(list[i]!.src)) {
      nodeIds.set(n, ++id);
      const remote = n.type !== 'file' && n.type !== 'block' && n.type !== 'dir';
      if (remote) prepareRemoteAuth(n, `libvirt-${id}-storage`, caps);
      prepareEncryptionSecret(n, id, caps);
      if (remote) prepareRemote(n, `libvirt-${id}-storage`, caps);
      prepareFDs(n);
    }
  }
  const boot: Record<string, number> = {};
  def.os.bootDevs.forEach((dev, i) => {
    boot[dev] = i + 1;
  });
  const kind = { cdrom: 'cdrom', disk: 'hd', floppy: 'fd', lun: 'hd' } as const;
  for (const d of list) {
    if (d.info.bootIndex !== undefined) {
      d.effectiveBootIndex = d.info.bootIndex;
      continue;
    }
    const k = kind[d.device];
    const b = boot[k];
    if (b) {
      d.effectiveBootIndex = b;
      boot[k] = 0;
    } else {
      delete d.effectiveBootIndex;
    }
  }
}

/** qemuBuildFloppyCommandLineControllerOptions: floppies boot through their controller,
 *  an explicit isa-fdc on q35, the built-in one's globals elsewhere. */
export function floppyControllerArgs(list: DiskDef[], { machine }: StageContext): string[][] {
  const floppies = list.filter((d) => d.bus === 'fdc');
  if (!floppies.length) return [];
  let a = 0;
  let b = 0;
  for (const d of floppies) {
    if (d.drive?.unit) b = d.effectiveBootIndex ?? 0;
    else a = d.effectiveBootIndex ?? 0;
  }
  if (machine.family === 'q35') {
    const props: Record<string, unknown> = { driver: 'isa-fdc' };
    if (a) props.bootindexA = a;
    if (b) props.bootindexB = b;
    return [['-device', JSON.stringify(props)]];
  }
  const out: string[][] = [];
  if (a) out.push(['-global', `isa-fdc.bootindexA=${a}`]);
  if (b) out.push(['-global', `isa-fdc.bootindexB=${b}`]);
  return out;
}

/** The -blockdev pair of each image of the disk's chain, the deepest first
 *  (qemuBuildStorageSourceChainAttachPrepareBlockdev prepares them top first). */
function blockdevs(d: DiskDef, caps: QemuCaps): string[][] {
  const chain = chainOf(d.src);
  const pairs = chain.map((n) => blockdevPair(d, n, caps));
  return pairs.reverse().flat();
}

/** qemuBlockStorageSourceGetBackendProps + qemuBlockStorageSourceGetBlockdevProps */
function blockdevPair(d: DiskDef, src: StorageSource, caps: QemuCaps): string[][] {
  const id = nodeIds.get(src)!;
  const storage = `libvirt-${id}-storage`;
  const format = `libvirt-${id}-format`;
  const top = src === d.src;
  // qemuDomainDetermineDiskChain: a raw CD-ROM on a host CD-ROM drive is QEMU's host_cdrom
  const hostCdrom = top && d.device === 'cdrom' && src.type === 'block' && src.format === 'raw' && !!caps.hostCdroms?.includes(src.path!);
  const driver = src.type === 'block' ? (hostCdrom ? 'host_cdrom' : 'host_device') : 'file';
  const mode = cacheMode(d);
  const cache = mode ? { cache: { direct: CACHE_FLAGS[mode].direct, 'no-flush': CACHE_FLAGS[mode].noFlush } } : {};
  // qemuBlockStorageSourceGetVvfatProps for a directory (floppyimg: the disk is a floppy)
  const local = src.type === 'dir' ? { driver: 'vvfat', dir: src.path, floppy: d.device === 'floppy', rw: !src.readonly } : { driver, filename: src.path, ...(d.io ? { aio: d.io } : {}), ...(src.pr ? { 'pr-manager': prManagerAlias(src.pr, storage) } : {}) };
  const own = src.type === 'file' || src.type === 'block' || src.type === 'dir' ? local : remoteStorageProps(src);
  const storageProps = { ...own, 'node-name': storage, ...cache, 'auto-read-only': true, discard: 'unmap' };
  const formatProps: Record<string, unknown> = { 'node-name': format, 'read-only': src.readonly };
  // (qemuDomainPrepareDiskSourceData: discard, cache and io for the whole chain, detect_zeroes for the top)
  if (d.discard) formatProps.discard = d.discard;
  // virDomainDiskGetDetectZeroesMode: 'unmap' without discard='unmap' is 'on'
  const dz = d.detectZeroes === 'unmap' && d.discard !== 'unmap' ? 'on' : d.detectZeroes;
  if (dz && top) formatProps['detect-zeroes'] = dz;
  Object.assign(formatProps, cache);
  formatDriverProps(src, formatProps, (f) => FORMAT_DRIVER[f] ?? f);
  const extras = imageExtras(src, id, cache);
  formatProps.file = extras.file;
  const backing = src.backing;
  if (backing !== undefined) {
    if (BACKING_FORMATS.includes(src.format!)) formatProps.backing = backing ? `libvirt-${nodeIds.get(backing)!}-format` : null;
    else if (backing) throw unsupportedConfig(`storage format '${src.format}' does not support backing store`);
  }
  // the reservations' manager object, then qemuBuildBlockStorageSourceAttachDataCommandline's
  // order: the auth secret, the
  // the encryption secret, the cookie secret and TLS objects, then storage, slice, format
  return [
    ...unmanagedPrObject(src.pr, storage), ...remoteAuthObjects(src), ...extras.objects, ...remoteObjects(src),
    ['-blockdev', JSON.stringify(storageProps)], ...(extras.slice ? [extras.slice] : []), ['-blockdev', jsonArg(formatProps)],
  ];
}

/** qemuDomainPrepareDiskCachemode: a shared writable disk without a cache mode gets 'none' */
const cacheMode = (d: DiskDef): DiskCache | undefined => d.cache ?? (d.src.shared && !d.src.readonly ? 'none' : undefined);

/** qemuDomainDiskCachemodeFlags */
const CACHE_FLAGS: Record<DiskCache, { writeback: boolean; direct: boolean; noFlush: boolean }> = {
  none: { writeback: true, direct: true, noFlush: false },
  writethrough: { writeback: false, direct: false, noFlush: false },
  writeback: { writeback: true, direct: false, noFlush: false },
  directsync: { writeback: false, direct: true, noFlush: false },
  unsafe: { writeback: true, direct: false, noFlush: true },
};

const WWN_MARK = '@wwn@';

/** (a FAT image is emulated by the storage node: a raw format node goes on top) */
const FORMAT_DRIVER: Record<string, string> = { vhd: 'vhdx', ploop: 'parallels', fat: 'raw' };

/** qemuBuildChardevCommand for a vhost-user disk's unix socket */
function vhostUserChardev(id: string, v: VhostUserSource): string {
  const r = v.reconnect;
  const reconnect = r?.enabled === 'yes' ? `,reconnect=${r.timeout}` : r?.enabled === 'no' ? ',reconnect=0' : '';
  return `socket,id=${id},path=${escapeComma(v.path)}${reconnect}`;
}

/** qemuBuildDiskCommandLine */
export function diskCommand(d: DiskDef, { def, caps }: StageContext): string[][] {
  if (d.bus === 'sd') return [['-drive', sdDrive(d, cacheMode(d))]];
  const id = nodeIds.get(d.src)!;
  const out: string[][] = [];
  const vhostuser = d.src.vhostuser;
  // qemuBuildStorageSourceAttachPrepareChardev: a vhost-user disk is a socket chardev
  if (vhostuser) out.push(['-chardev', vhostUserChardev(`chr-vu-${d.info.alias}`, vhostuser)]);
  if (!isEmptySource(d.src) && !vhostuser) {
    out.push(...blockdevs(d, caps));
    // qemuBlockStorageGetCopyOnReadProps: a copy-on-read layer on top of the chain
    if (d.copyOnRead === 'on') out.push(['-blockdev', JSON.stringify({ driver: 'copy-on-read', 'node-name': `libvirt-CoR-${d.dst}`, file: `libvirt-${id}-format`, discard: 'unmap' })]);
  }
  out.push(...zpciDevice(d.info));
  if (isLegacyBus(d.bus)) throw noDevice(d);
  let props: Record<string, unknown>;
  if (d.bus === 'virtio') {
    const ccw = d.info.address?.type === 'ccw';
    // qemuBuildVirtioDevGetConfig: the (non-)transitional models on PCI
    const suffix = !ccw && d.model && d.model !== 'virtio' && hasFlag(caps, 'virtio-pci-non-transitional') ? d.model.slice('virtio'.length) : '';
    if (!ccw && d.model === 'virtio-non-transitional' && !suffix) throw unsupportedConfig('virtio non-transitional model not supported for this qemu');
    props = { driver: `${vhostuser ? 'vhost-user-blk' : 'virtio-blk'}${ccw ? '-ccw' : '-pci'}${suffix}` };
    const v = d.virtio;
    if (v?.iommu) props.iommu_platform = v.iommu === 'on';
    if (v?.ats) props.ats = v.ats === 'on';
    if (v?.packed) props.packed = v.packed === 'on';
    if (v?.pagePerVq) props['page-per-vq'] = v.pagePerVq === 'on';
    if (d.iothread) props.iothread = `iothread${d.iothread}`;
    if (d.ioeventfd) props.ioeventfd = d.ioeventfd === 'on';
    if (d.eventIdx) props.event_idx = d.eventIdx === 'on';
    // a LUN takes SCSI requests (SG_IO); other disks turn them off where QEMU has them on
    if (!vhostuser && hasFlag(caps, 'virtio-blk-pci.scsi')) {
      if (d.device === 'lun') props.scsi = true;
      else if (!hasFlag(caps, 'virtio-blk-pci.scsi.default.disabled')) props.scsi = false;
    }
    if (d.queues) props['num-queues'] = d.queues;
    if (d.queueSize) props['queue-size'] = d.queueSize;
    Object.assign(props, addressProps(d.info, def));
  } else if (d.bus === 'usb') {
    props = { driver: 'usb-storage', ...addressProps(d.info, def) };
  } else if (d.bus === 'scsi') {
    props = { driver: d.device === 'lun' ? 'scsi-block' : d.device === 'cdrom' ? 'scsi-cd' : 'scsi-hd' };
    const a = d.drive!;
    const c = scsiController(def, a);
    if (!c?.info.alias) throw internalError(`unable to find a SCSI controller for idx=${a.controller}`);
    // qemuBuildDeviceAddresDriveProps: lsilogic names the unit, the others channel/target/lun
    if (c.model === 'lsilogic') Object.assign(props, { bus: `${c.info.alias}.${a.bus}`, 'scsi-id': a.unit });
    else Object.assign(props, { bus: `${c.info.alias}.0`, channel: a.bus, 'scsi-id': a.target, lun: a.unit });
    // the Vital Product Data's device id: the serial, else what QEMU named the drive
    if (d.device !== 'lun') props.device_id = d.serial ?? `drive-${d.info.alias}`;
  } else {
    props = { driver: d.bus === 'fdc' ? 'floppy' : d.device === 'cdrom' ? 'ide-cd' : 'ide-hd' };
    const a = d.drive!;
    // qemuBuildDeviceAddressProps: the bus of an IDE or SATA disk is named by its controller's
    // alias; a built-in controller is not on the command line, so a user alias cannot name it
    const ctrl = () => {
      const c = def.devices.controller.find((o) => o.type === d.bus && o.index === a.controller);
      if (c?.info.alias === undefined) throw internalError(`unable to find ${d.bus} controller with index ${a.controller}`);
      return isBuiltin(c, def) ? 'ide' : c.info.alias;
    };
    if (d.bus === 'ide') Object.assign(props, { bus: `${ctrl()}.${a.bus}`, unit: a.unit });
    else if (d.bus === 'sata') props.bus = `${ctrl()}.${a.unit}`;
    else props.unit = a.unit;
  }
  if (d.src.shared) props['share-rw'] = true;
  if (vhostuser) props.chardev = `chr-vu-${d.info.alias}`;
  else if (!isEmptySource(d.src)) props.drive = d.copyOnRead === 'on' ? `libvirt-CoR-${d.dst}` : `libvirt-${id}-format`;
  props.id = d.info.alias;
  if (d.device !== 'floppy' && d.effectiveBootIndex) props.bootindex = d.effectiveBootIndex;
  if (d.blockio?.logical) props.logical_block_size = d.blockio.logical;
  if (d.blockio?.physical) props.physical_block_size = d.blockio.physical;
  // the WWN is a 64-bit number: JSON.stringify cannot write it, so it is spliced in below
  if (d.wwn !== undefined) props.wwn = WWN_MARK;
  if (d.rotationRate) props.rotation_rate = d.rotationRate;
  if (d.vendor !== undefined) props.vendor = d.vendor;
  if (d.product !== undefined) props.product = d.product;
  const removable = usbRemovable(d, caps);
  if (removable !== undefined) props.removable = removable;
  const mode = cacheMode(d);
  // (a LUN: scsi-block or virtio-blk's SG_IO, where a cache setting makes no sense)
  if (mode && d.device !== 'lun') props['write-cache'] = CACHE_FLAGS[mode].writeback ? 'on' : 'off';
  const g = d.geometry;
  if (g?.cyls) props.cyls = g.cyls;
  if (g?.heads) props.heads = g.heads;
  if (g?.secs) props.secs = g.secs;
  if (g?.trans) props['bios-chs-trans'] = g.trans;
  if (d.serial !== undefined) props.serial = d.serial.replace(/ /g, '\\ ');
  // qemuBuildDiskGetErrorPolicy: enospace is QEMU's enospc, for writes only
  const werror = d.errorPolicy === 'enospace' ? 'enospc' : d.errorPolicy;
  const rerror = d.rerrorPolicy ?? (d.errorPolicy === 'enospace' ? undefined : d.errorPolicy);
  if (werror) props.werror = werror;
  if (rerror) props.rerror = rerror;
  let json = JSON.stringify(props);
  if (d.wwn !== undefined) json = json.replace(`"${WWN_MARK}"`, BigInt(`0x${d.wwn.replace(/^0x/, '')}`).toString());
  out.push(['-device', json]);
  return out;
}
