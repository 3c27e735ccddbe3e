// The storage source of a <disk> (libvirt's virStorageSource) and its explicit backing
// chain (<backingStore>): type, path and format, parsed and formatted. Local files and
// block devices here; network, volume, nvme and vhostuser sources and <auth> in
// disk-source-net.ts; other source types and options are refused by name.
import { notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import { elements, child, textOf, type XElement } from '../xml/tree.js';
import { scaledBytes, strToULL } from '../domain/units.js';
import { attr, Writer } from '../xml/writer.js';
import { formatEncryption, parseEncryption } from './disk-encryption.js';
import { formatSlices, parseSourceExtra, type SourceExtra } from './disk-source-extra.js';
import { formatDeviceSecLabels, parseDeviceSecLabels } from './disk-seclabel.js';
import { formatAuth, isRemoteType, parseAuth, parseRemoteSource, remoteSourceParts, type AuthDef, type RemoteParts, type RemoteType } from './disk-source-net.js';
import { formatReservations, parseReservations, type Reservations } from './disk-reservations.js';

export interface StorageSource extends SourceExtra, RemoteParts {
  /** 'dir': a host directory QEMU shows as a FAT disk (vvfat) */
  type: 'file' | 'block' | 'dir' | RemoteType;
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
  /** <source fdgroup>: file descriptors the domain's user passes (host state: the API) */
  fdgroup?: string;
  /** the <encryption> was the disk's child, not its <source>'s (def->diskElementEnc) */
  encryptionOnDisk?: boolean;
  /** <source><reservations> (disk-reservations.ts) */
  pr?: Reservations;
  auth?: AuthDef;
  /** the <auth> was a child of <disk>, not of <source> (libvirt writes it back there) */
  authAtDisk?: boolean;
}

/** virStorageSourceIsEmpty: a local source without a path (no medium) */
export const isEmptySource = (s: StorageSource): boolean => (s.type === 'file' || s.type === 'block' || s.type === 'dir') && s.path === undefined;

/** a non-local source with its <auth> (virDomainStorageSourceParse's ./auth) */
export function parseRemote(source: XElement, type: RemoteType, src: StorageSource): void {
  Object.assign(src, parseRemoteSource(source, type));
  const auth = child(source, 'auth');
  if (auth) src.auth = parseAuth(auth);
  parseSourceExtra(source, src);
}

const TYPES = ['file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'];
/** virStorageFileFormat, without 'none' */
const FORMATS = ['raw', 'dir', 'bochs', 'cloop', 'dmg', 'iso', 'vpc', 'vdi', 'fat', 'vhd', 'ploop', 'cow', 'qcow', 'qcow2', 'qed', 'vmdk'];
/** VIR_STORAGE_FILE_BACKING and above: formats that can have a backing image */
export const BACKING_FORMATS = ['cow', 'qcow', 'qcow2', 'qed', 'vmdk'];

/** the local path of a <source> (virDomainStorageSourceParse for file and block) */
const PATH_ATTR = { file: 'file', block: 'dev', dir: 'dir' } as const;

type LocalType = keyof typeof PATH_ATTR;

function parseLocalSource(source: XElement, type: LocalType, src: StorageSource): void {
  for (const c of elements(source)) if (!['encryption', 'slices', 'seclabel'].includes(c.name)) throw notImplemented(`<${c.name}> in <disk><source>`);
  const key = PATH_ATTR[type];
  // (fdgroup: file descriptors handed to libvirt for a file source, virDomainFDAssociate)
  const known = (a: string) => a === key || a === 'startupPolicy' || a === 'index' || (a === 'fdgroup' && type === 'file');
  for (const a of Object.keys(source.attrs)) if (!known(a)) throw notImplemented(`<source ${a}> in <disk type='${type}'>`);
  if (type === 'file' && source.attrs.fdgroup !== undefined) src.fdgroup = source.attrs.fdgroup;
  const path = source.attrs[key];
  if (path === '') throw notImplemented(`an empty <source ${key}=''> in <disk>`);
  if (path !== undefined) src.path = path;
  parseSourceExtra(source, src);
  const labels = parseDeviceSecLabels(source);
  if (labels.length) src.seclabels = labels;
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
  if (type !== 'file' && type !== 'block' && type !== 'network') throw notImplemented(`<backingStore type='${type}'>`);
  // a backing image is always read-only
  const src: StorageSource = { type, format, readonly: true, shared: false };
  parseMetadataCache(child(b, 'format')!, src);
  if (type === 'network') parseRemote(source, type, src);
  else parseLocalSource(source, type, src);
  const next = parseBacking(b);
  if (next !== undefined) src.backing = next;
  return src;
}

/** virDomainDiskDefParseSourceXML and the source parts of <driver> (type) and of the
 *  disk (<readonly>, <shareable>) */
export function parseSource(e: XElement): StorageSource {
  let type = e.attrs.type ?? 'file';
  if (!TYPES.includes(type)) throw notImplemented(`<disk type='${type}'>`);
  if (type !== 'file' && type !== 'block' && type !== 'dir' && !isRemoteType(type)) throw notImplemented(`<disk type='${type}'>`);
  const source = child(e, 'source');
  // without a <source> libvirt takes the disk for a file
  if (!source) type = 'file';
  const src: StorageSource = { type: type as StorageSource['type'], readonly: !!child(e, 'readonly'), shared: !!child(e, 'shareable') };
  if (source && isRemoteType(type)) parseRemote(source, type, src);
  else if (source) {
    const pr = parseReservations(source);
    if (pr) src.pr = pr;
    parseLocalSource({ ...source, children: source.children.filter((c) => c !== child(source, 'reservations')) }, type as LocalType, src);
  }
  const auth = child(e, 'auth');
  if (auth) {
    if (src.auth) throw unsupportedConfig('an <auth> definition already found for disk source');
    src.auth = parseAuth(auth);
    src.authAtDisk = true;
  }
  if (src.auth && !isRemoteType(src.type)) throw notImplemented(`<auth> on a <disk type='${src.type}'>`);
  const enc = child(e, 'encryption');
  if (enc) {
    // one <encryption>: the disk's own is the legacy place
    if (src.encryption) throw unsupportedConfig('an <encryption> definition already found for disk source');
    src.encryption = parseEncryption(enc);
    src.encryptionOnDisk = true;
  }
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
  // (virStrToLong_ullp: leading blanks and a '+' are fine; the overflow message has the number)
  const v = strToULL(text);
  const bytes = scaledBytes(v === undefined ? text : v.toString(), './metadata_cache/max_size', max!.attrs.unit, 1);
  if (bytes > 0n) src.metadataCacheMaxSize = bytes;
}

const pathAttr = (src: StorageSource) => `${attr(PATH_ATTR[src.type as LocalType], src.path)}${attr('fdgroup', src.fdgroup)}`;

/** virDomainDiskSourceFormat: the <source> element, in libvirt's order of children (the
 *  source's own, slices, security labels but for a network source, the auth but for a
 *  volume (its pool holds it) and unless the disk carries it, the encryption unless the
 *  disk carries it, the reservations); none when it would be empty (virXMLFormatElement) */
export function formatSourceElement(w: Writer, src: StorageSource, startupPolicy: string | undefined, skipEncryption: boolean): void {
  const inner = new Writer();
  let attrs: string;
  if (isRemoteType(src.type)) {
    const parts = remoteSourceParts(src);
    attrs = parts.attrs;
    parts.children(inner);
  } else {
    attrs = pathAttr(src);
  }
  formatSlices(inner, src.slice);
  if (src.type !== 'network') formatDeviceSecLabels(inner, src.seclabels);
  if (src.auth && !src.authAtDisk && src.type !== 'volume') formatAuth(inner, src.auth);
  if (!skipEncryption) formatEncryption(inner, src.encryption);
  if (src.pr) formatReservations(inner, src.pr);
  if (src.type !== 'network') attrs += attr('startupPolicy', startupPolicy);
  if (!inner.lines.length) {
    if (attrs) w.line(`<source${attrs}/>`);
    return;
  }
  w.open(`<source${attrs}>`);
  for (const l of inner.lines) w.line(l);
  w.close('</source>');
}

/** virDomainDiskDefFormat from a <disk>-level <auth> to the chain: the auth, the
 *  source, then the chain (virDomainDiskBackingStoreFormat) */
export function formatSource(w: Writer, src: StorageSource, startupPolicy?: string): void {
  if (src.auth && src.authAtDisk) formatAuth(w, src.auth);
  formatSourceElement(w, src, startupPolicy, !!src.encryptionOnDisk);
  formatBacking(w, src.backing);
}

function formatBacking(w: Writer, b: StorageSource | null | undefined): void {
  if (b === undefined) return;
  if (b === null) {
    w.line('<backingStore/>');
    return;
  }
  w.open(`<backingStore type='${b.type}'>`);
  const mc = b.metadataCacheMaxSize;
  w.element(`format type='${b.format}'`, 'format', mc !== undefined ? () => {
    w.open('<metadata_cache>');
    w.line(`<max_size unit='bytes'>${mc}</max_size>`);
    w.close('</metadata_cache>');
  } : undefined);
  formatSourceElement(w, b, undefined, false);
  formatBacking(w, b.backing);
  w.close('</backingStore>');
}

/** The images of a disk's chain, top first (virStorageSourceIsBacking: the terminator is none). */
export function chainOf(src: StorageSource): StorageSource[] {
  const out: StorageSource[] = [];
  for (let n: StorageSource | null | undefined = src; n; n = n.backing) out.push(n);
  return out;
}
