// The children of a <source> beyond its path: a storage slice
// (<slices><slice type='storage'>) and <encryption>, as libvirt parses and writes them.
import { xmlError } from '../errors.js';
import { strToULL } from '../domain/units.js';
import { child, elements, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { parseEncryption, type Encryption } from './disk-encryption.js';

export interface SourceExtra {
  /** <slices><slice type='storage'>: the part of the storage the image is */
  slice?: { offset: bigint; size: bigint };
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

/** <slices>, as virDomainDiskSourceFormatSlices writes it */
export function formatSlices(w: Writer, slice: SourceExtra['slice']): void {
  if (!slice) return;
  w.open('<slices>');
  w.line(`<slice type='storage' offset='${slice.offset}' size='${slice.size}'/>`);
  w.close('</slices>');
}
