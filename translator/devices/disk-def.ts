// The model of a <disk> (libvirt's virDomainDiskDef), shared by its parser and
// formatter (disk.ts) and its command line (blockdev/disk-command.ts).
import type { DeviceInfo } from '../model.js';
import type { DriveAddress } from '../stages/drive-address.js';
import type { StorageSource } from './disk-source.js';
import type { IoTune } from './disk-iotune.js';
import type { Transient } from './disk-transient.js';
import type { DomainDef } from '../model.js';

export type DiskCache = 'none' | 'writethrough' | 'writeback' | 'directsync' | 'unsafe';
export type ErrorPolicy = 'stop' | 'report' | 'ignore' | 'enospace';
export type DiskBus = 'ide' | 'fdc' | 'scsi' | 'virtio' | 'xen' | 'usb' | 'uml' | 'sata' | 'sd';
export type DiskDevice = 'disk' | 'cdrom' | 'floppy' | 'lun';

export interface DiskDef {
  device: DiskDevice;
  src: StorageSource;
  /** <driver name> ('qemu' after post-parse) */
  driverName?: string;
  dst?: string;
  /** undefined until post-parse picks one from the device and the target name */
  bus?: DiskBus;
  /** <address type='drive'>, given or assigned */
  drive?: DriveAddress;
  info: DeviceInfo;
  startupPolicy?: 'mandatory' | 'requisite' | 'optional';
  /** <driver> attributes (virDomainDiskDef's cachemode, error policies, …) */
  cache?: DiskCache;
  errorPolicy?: ErrorPolicy;
  rerrorPolicy?: ErrorPolicy;
  io?: 'native' | 'threads' | 'io_uring';
  discard?: 'unmap' | 'ignore';
  detectZeroes?: 'off' | 'on' | 'unmap';
  serial?: string;
  rawio?: 'yes' | 'no';
  sgio?: 'filtered' | 'unfiltered';
  /** <disk snapshot> (XML only) */
  snapshot?: 'no' | 'internal' | 'external' | 'manual';
  /** <disk model> */
  model?: 'virtio' | 'virtio-transitional' | 'virtio-non-transitional';
  ioeventfd?: 'on' | 'off';
  eventIdx?: 'on' | 'off';
  copyOnRead?: 'on' | 'off';
  iothread?: number;
  queues?: number;
  queueSize?: number;
  /** <driver iommu ats packed page_per_vq> (virDomainVirtioOptions) */
  virtio?: { iommu?: 'on' | 'off'; ats?: 'on' | 'off'; packed?: 'on' | 'off'; pagePerVq?: 'on' | 'off' };
  wwn?: string;
  vendor?: string;
  product?: string;
  /** <target tray='open'> (closed is the default and not kept) */
  trayOpen?: boolean;
  removable?: 'on' | 'off';
  rotationRate?: number;
  geometry?: { cyls?: number; heads?: number; secs?: number; trans?: 'none' | 'auto' | 'lba' };
  blockio?: { logical?: number; physical?: number };
  /** <iotune> */
  iotune?: IoTune;
  /** <backenddomain name> */
  backendDomain?: string;
  /** <transient> */
  transient?: Transient;
  /** set on the way to a command line: the boot index <os><boot dev> gives the disk */
  effectiveBootIndex?: number;
}

declare module '../model.js' {
  interface Devices {
    disk: DiskDef[];
  }
}


/** virDomainDeviceFindSCSIController: the SCSI controller a drive address names */
export const scsiController = (def: DomainDef, a: DriveAddress) => def.devices.controller.find((c) => c.type === 'scsi' && c.index === a.controller);
