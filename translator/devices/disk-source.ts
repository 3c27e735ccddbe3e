// The storage source of a <disk> (libvirt's virStorageSource) and its explicit backing
// chain (<backingStore>): type, path and format, parsed and formatted. Only local files
// and block devices so far; other source types and every source option are refused by
// name.
import { notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import { elements, child, textOf, type XElement } from '../xml/tree.js';
import { scaledBytes } from '../domain/units.js';
import { attr, type Writer } from '../xml/writer.js';
import { formatSourceWithReservations, parseReservations, type Reservations } from './disk-reservations.js';

export interface StorageSource {
  /** 'dir': a host directory QEMU shows as a FAT disk (vvfat) */
  type: 'file' | 'block' | 'dir';
  /** undefined: an empty drive (no medium) */
  path?: string;
  /** virStorageFileFormat by name; 'raw' after post-parse when not given */
  format?: string;
  readonly: boolean;
  shared: boolean;
  /** <driver><metadata_cache><max_size>, in bytes (qcow2's cache-size) */
  metadataCacheMaxSize?: bigint;
  /** <backingStore>: the next image of an explicit chain; null for <backingStore/> (the
   *  chain ends here); undefined when the XML says nothing (QEMU reads the image's own) */
  backing?: StorageSource | null;
  /** <source><reservations> (disk-reservations.ts) */
  pr?: Reservations;
}

const TYPES = ['file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'];
/** virStorageFileFormat, without 'none' */
const FORMATS = ['raw', 'dir', 'bochs', 'cloop', 'dmg', 'iso', 'vpc', 'vdi', 'fat', 'vhd', 'ploop', 'cow', 'qcow', 'qcow2', 'qed', 'vmdk'];
/** VIR_STORAGE_FILE_BACKING and above: formats that can have a backing image */
export const BACKING_FORMATS = ['cow', 'qcow', 'qcow2', 'qed', 'vmdk'];

/** the local path of a <source> (virDomainStorageSourceParse for file and block) */
const PATH_ATTR = { file: 'file', block: 'dev', dir: 'dir' } as const;

function parseLocalSource(source: XElement, type: StorageSource['type'], src: StorageSource): void {
  for (const c of elements(source)) throw notImplemented(`<${c.name}> in <disk><source>`);
  const key = PATH_ATTR[type];
  for (const a of Object.keys(source.attrs)) if (a !== key && a !== 'startupPolicy' && a !== 'index') throw notImplemented(`<source ${a}> in <disk type='${type}'>`);
  const path = source.attrs[key];
  if (path === '') throw notImplemented(`an empty <source ${key}=''> in <disk>`);
  if (path !== undefined) src.path = path;
}

/** virDomainDiskBackingStoreParse */
function parseBacking(e: XElement): StorageSource | null | undefined {
  const b = child(e, 'backingStore');
  if (!b) return undefined;
  const type = b.attrs.type;
  if (type === undefined) return null; // the terminator has no type
  const format = child(b, 'format')?.attrs.type;
  if (format === undefined || format === '') throw xmlError('missing disk backing store format');
  const source = child(b, 'source');
  if (!source) throw xmlError('missing disk backing store source');
  if (!TYPES.includes(type)) throw xmlError(`unknown storage source type '${type}'`);
  if (!FORMATS.includes(format)) throw xmlError(`unknown storage source format '${format}'`);
  if (type !== 'file' && type !== 'block') throw notImplemented(`<backingStore type='${type}'>`);
  if (child(child(b, 'format')!, 'metadata_cache')) throw notImplemented('<metadata_cache> in <backingStore><format>');
  // a backing image is always read-only
  const src: StorageSource = { type, format, readonly: true, shared: false };
  parseLocalSource(source, type, src);
  const next = parseBacking(b);
  if (next !== undefined) src.backing = next;
  return src;
}

/** virDomainDiskDefParseSourceXML and the source parts of <driver> (type) and of the
 *  disk (<readonly>, <shareable>) */
export function parseSource(e: XElement): StorageSource {
  const type = e.attrs.type ?? 'file';
  if (!TYPES.includes(type)) throw notImplemented(`<disk type='${type}'>`);
  if (type !== 'file' && type !== 'block' && type !== 'dir') throw notImplemented(`<disk type='${type}'>`);
  const src: StorageSource = { type, readonly: !!child(e, 'readonly'), shared: !!child(e, 'shareable') };
  const source = child(e, 'source');
  const pr = source && parseReservations(source);
  if (pr) src.pr = pr;
  if (source) parseLocalSource({ ...source, children: source.children.filter((c) => c !== child(source, 'reservations')) }, type, src);
  const backing = parseBacking(e);
  if (backing !== undefined) src.backing = backing;
  return src;
}

/** virDomainDiskDefDriverSourceParseXML: <driver type> */
export function parseFormat(driver: XElement, src: StorageSource): void {
  const fmt = driver.attrs.type;
  if (fmt === undefined) return parseMetadataCache(driver, src);
  if (fmt === 'aio') src.format = 'raw'; // Xen back-compat
  else if (!FORMATS.includes(fmt)) throw unsupportedConfig(`unknown driver format value '${fmt}'`);
  else src.format = fmt;
  parseMetadataCache(driver, src);
}

/** … and its ./metadata_cache/max_size (virParseScaledValue, bytes by default) */
export function parseMetadataCache(driver: XElement, src: StorageSource): void {
  const max = child(child(driver, 'metadata_cache') ?? { name: '', attrs: {}, children: [] }, 'max_size');
  const text = max ? textOf(max) : '';
  if (text === '') return;
  const bytes = scaledBytes(text, './metadata_cache/max_size', max!.attrs.unit, 1);
  if (bytes > 0n) src.metadataCacheMaxSize = bytes;
}

const pathAttr = (src: StorageSource) => attr(PATH_ATTR[src.type], src.path);

/** virDomainDiskSourceFormat for a local source (nothing for an empty one), then its
 *  chain (virDomainDiskBackingStoreFormat) */
export function formatSource(w: Writer, src: StorageSource, startupPolicy?: string): void {
  const head = `<source${pathAttr(src)}${attr('startupPolicy', startupPolicy)}`;
  if (src.pr) formatSourceWithReservations(w, head, src.pr);
  else if (src.path !== undefined || startupPolicy !== undefined) w.line(`${head}/>`);
  formatBacking(w, src.backing);
}

function formatBacking(w: Writer, b: StorageSource | null | undefined): void {
  if (b === undefined) return;
  if (b === null) {
    w.line('<backingStore/>');
    return;
  }
  w.open(`<backingStore type='${b.type}'>`);
  w.line(`<format type='${b.format}'/>`);
  w.line(`<source${pathAttr(b)}/>`);
  formatBacking(w, b.backing);
  w.close('</backingStore>');
}

/** The images of a disk's chain, top first (virStorageSourceIsBacking: the terminator is none). */
export function chainOf(src: StorageSource): StorageSource[] {
  const out: StorageSource[] = [];
  for (let n: StorageSource | null | undefined = src; n; n = n.backing) out.push(n);
  return out;
}
