// The storage source of a <disk> (libvirt's virStorageSource): its type, path and
// format, parsed and formatted. Only local files and block devices so far; other
// source types and every source option are refused by name.
import { notImplemented, unsupportedConfig } from '../errors.js';
import { elements, child, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';

export interface StorageSource {
  type: 'file' | 'block';
  /** undefined: an empty drive (no medium) */
  path?: string;
  /** virStorageFileFormat by name; 'raw' after post-parse when not given */
  format?: string;
  readonly: boolean;
  shared: boolean;
}

const TYPES = ['file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'];
/** virStorageFileFormat, without 'none' */
const FORMATS = ['raw', 'dir', 'bochs', 'cloop', 'dmg', 'iso', 'vpc', 'vdi', 'fat', 'vhd', 'ploop', 'cow', 'qcow', 'qcow2', 'qed', 'vmdk'];

/** virDomainDiskDefParseSourceXML and the source parts of <driver> (type) and of the
 *  disk (<readonly>, <shareable>) */
export function parseSource(e: XElement): StorageSource {
  const type = e.attrs.type ?? 'file';
  if (!TYPES.includes(type)) throw notImplemented(`<disk type='${type}'>`);
  if (type !== 'file' && type !== 'block') throw notImplemented(`<disk type='${type}'>`);
  const src: StorageSource = { type, readonly: !!child(e, 'readonly'), shared: !!child(e, 'shareable') };
  if (child(e, 'backingStore')) throw notImplemented('<backingStore> in <disk>');
  const source = child(e, 'source');
  if (source) {
    for (const c of elements(source)) throw notImplemented(`<${c.name}> in <disk><source>`);
    for (const a of Object.keys(source.attrs)) {
      if (a !== (type === 'file' ? 'file' : 'dev') && a !== 'startupPolicy') throw notImplemented(`<source ${a}> in <disk type='${type}'>`);
    }
    const path = source.attrs[type === 'file' ? 'file' : 'dev'];
    if (path === '') throw notImplemented(`an empty <source ${type === 'file' ? 'file' : 'dev'}=''> in <disk>`);
    if (path !== undefined) src.path = path;
  }
  const driver = child(e, 'driver');
  const fmt = driver?.attrs.type;
  if (fmt !== undefined) {
    if (fmt === 'aio') src.format = 'raw'; // Xen back-compat
    else if (!FORMATS.includes(fmt)) throw unsupportedConfig(`unknown driver format value '${fmt}'`);
    else src.format = fmt;
  }
  return src;
}

/** virDomainDiskSourceFormat for a local source (nothing for an empty one) */
export function formatSource(w: Writer, src: StorageSource, startupPolicy?: string): void {
  if (src.path === undefined && startupPolicy === undefined) return;
  w.line(`<source${attr(src.type === 'file' ? 'file' : 'dev', src.path)}${attr('startupPolicy', startupPolicy)}/>`);
}
