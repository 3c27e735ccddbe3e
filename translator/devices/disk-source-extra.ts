// The parts of a storage source beyond its type, path and format: a storage slice
// (<source><slices><slice type='storage'>), the qcow2 metadata cache size
// (<driver>/<format><metadata_cache><max_size>) and <encryption>, as libvirt parses,
// writes back and checks them.
import type { QemuCaps } from '../capabilities.js';
import { unsupportedConfig, xmlError } from '../errors.js';
import { scaledBytes, strToULL } from '../domain/units.js';
import { child, elements, textOf, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { formatEncryption, parseEncryption, validateEncryptionQemu, type Encryption } from './disk-encryption.js';

export interface SourceExtra {
  /** <slices><slice type='storage'>: the part of the storage the image is */
  slice?: { offset: bigint; size: bigint };
  /** bytes; only a positive size is kept */
  metadataCacheMaxSize?: bigint;
  encryption?: Encryption;
}

/** virDomainStorageSourceParseSlices: the first storage slice (other types are ignored) */
export function parseSlices(source: XElement): SourceExtra['slice'] {
  const slice = elements(source, 'slices').flatMap((s) => elements(s, 'slice')).find((s) => s.attrs.type === 'storage');
  if (!slice) return undefined;
  const offset = slice.attrs.offset;
  const size = slice.attrs.size;
  if (!offset || !size) throw xmlError('missing offset or size attribute of slice');
  const o = strToULL(offset);
  if (o === undefined) throw xmlError(`malformed value '${offset}' of 'offset' attribute of slice`);
  const s = strToULL(size);
  if (s === undefined) throw xmlError(`malformed value '${size}' of 'size' attribute of slice`);
  return { offset: o, size: s };
}

/** The <encryption> and <slices> of a <source> (virDomainStorageSourceParse, in its order). */
export function parseSourceExtra(source: XElement, into: SourceExtra): void {
  const enc = child(source, 'encryption');
  if (enc) into.encryption = parseEncryption(enc);
  const slice = parseSlices(source);
  if (slice) into.slice = slice;
}

/** virParseScaledValue("./metadata_cache/max_size", scale 1, up to ULLONG_MAX) under
 *  `parent` (<driver> or a backing store's <format>) */
export function parseMetadataCache(parent: XElement, into: SourceExtra): void {
  const max = elements(parent, 'metadata_cache').flatMap((m) => elements(m, 'max_size'))[0];
  const raw = max ? textOf(max) : '';
  if (raw === '') return;
  const v = strToULL(raw);
  if (v === undefined) throw xmlError(`Invalid value '${raw}' for element or attribute './metadata_cache/max_size'`);
  const bytes = scaledBytes(v.toString(), './metadata_cache/max_size', max!.attrs.unit, 1);
  if (bytes > 0n) into.metadataCacheMaxSize = bytes;
}

/** The <metadata_cache> child of <driver> or <format> (virDomainDiskDefFormatDriver,
 *  virDomainDiskBackingStoreFormat); nothing without a size. */
export function formatMetadataCache(w: Writer, src: SourceExtra): void {
  if (!src.metadataCacheMaxSize) return;
  w.open('<metadata_cache>');
  w.line(`<max_size unit='bytes'>${src.metadataCacheMaxSize}</max_size>`);
  w.close('</metadata_cache>');
}

/** The children of <source> this module owns, in virDomainDiskSourceFormat's order
 *  (slices, then encryption unless the disk element carries it). */
export function formatSourceExtra(w: Writer, src: SourceExtra, skipEncryption: boolean): void {
  if (src.slice) {
    w.open('<slices>');
    w.line(`<slice type='storage' offset='${src.slice.offset}' size='${src.slice.size}'/>`);
    w.close('</slices>');
  }
  if (!skipEncryption) formatEncryption(w, src.encryption);
}

export const hasSourceExtra = (src: SourceExtra, skipEncryption: boolean) => !!src.slice || (!skipEncryption && !!src.encryption);

/** qemuDomainValidateStorageSource, the metadata cache and encryption parts */
export function validateSourceExtraQemu(src: SourceExtra & { format?: string }, caps: QemuCaps): void {
  if (src.metadataCacheMaxSize && src.format !== 'qcow2') throw unsupportedConfig('metadata cache max size control is supported only with qcow2 images');
  validateEncryptionQemu(src.encryption, src.format!, caps);
}
