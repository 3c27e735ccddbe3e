// A disk's <transient> (changes are thrown away when the domain stops): parsed and
// written back as libvirt does, with qemuValidateDomainDeviceDefDiskTransient's checks.
// On the command line a transient disk is an ordinary disk (libvirt adds the overlay
// over QMP once QEMU runs), except one that shares its backing image: libvirt hotplugs
// that one after the start, so it is not on the command line at all.
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { unsupportedConfig } from '../errors.js';
import type { DomainDef } from '../model.js';
import { propYesNo } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';

export interface Transient {
  /** shareBacking='yes' (an explicit 'no' is the default and not kept) */
  shareBacking: boolean;
}

/** the parts of a disk (DiskDef) the checks read */
interface TransientDisk {
  transient?: Transient;
  src: { type: string; path?: string; readonly: boolean };
  dst?: string;
  device: string;
  bus?: string;
}

/** the <transient> part of virDomainDiskDefParseXML */
export function parseTransient(disk: XElement): Transient | undefined {
  const e = child(disk, 'transient');
  if (!e) return undefined;
  return { shareBacking: propYesNo(e, 'shareBacking') === 'yes' };
}

export function formatTransient(w: Writer, t: Transient | undefined): void {
  if (t) w.line(`<transient${t.shareBacking ? " shareBacking='yes'" : ''}/>`);
}

/** qemuProcessRebootAllowed */
const rebootAllowed = (def: DomainDef) =>
  def.onReboot !== 'destroy' || def.onPoweroff !== 'destroy' || (def.onCrash !== 'destroy' && def.onCrash !== 'coredump-destroy');

/** qemuValidateDomainDeviceDefDiskTransient */
export function validateTransient(d: TransientDisk, def: DomainDef, caps: QemuCaps): void {
  const t = d.transient;
  if (!t) return;
  if (d.src.path === undefined) throw unsupportedConfig(`transient disk '${d.dst}' must not be empty`);
  if (d.src.readonly) throw unsupportedConfig(`transient disk '${d.dst}' must not be read-only`);
  if (d.src.type !== 'file') throw unsupportedConfig(`transient disk supported only with 'file' type (${d.dst})`);
  if (d.device !== 'disk') throw unsupportedConfig(`transient disk supported only with 'disk' device (${d.dst})`);
  if (!t.shareBacking) return;
  if (!hasFlag(caps, 'set-action') && !rebootAllowed(def)) {
    throw unsupportedConfig("transient disk backing image sharing with destroy action of lifecycle isn't supported by this QEMU binary");
  }
  // sharing the backing image needs the disk hotplugged (sic: libvirt's 'transiend')
  if (d.bus !== 'usb' && d.bus !== 'virtio' && d.bus !== 'scsi') throw unsupportedConfig(`disk bus '${d.bus}' doesn't support transiend disk backing image sharing`);
}

/** qemuBuildDisksCommandLine: a disk sharing its backing image comes later, by hotplug */
export const hotpluggedAfterStart = (d: TransientDisk) => !!d.transient?.shareBacking;
