// The -blockdev parts of an image beyond its storage and format nodes: the secret
// object of an encrypted image (with the LUKS format driver or qcow2's 'encrypt'), the
// storage slice (offsets in a raw format node, or a raw 'slice-sto' node of its own) and
// the qcow2 metadata cache size, as qemuBlockStorageSourceGetBlockdevProps builds them.
import type { QemuCaps } from '../capabilities.js';
import { isEmptySource, type StorageSource } from '../devices/disk-source.js';
import { internalError, TranslationError } from '../errors.js';
import { secretObjectProps, secretValue } from '../secrets.js';

/** the secret -object of each encrypted image, found while libvirt prepares the storage */
const secrets = new WeakMap<StorageSource, Record<string, unknown>>();

/** qemuDomainSecretStorageSourcePrepare, the encryption part: an image with a medium and
 *  an <encryption><secret> gets its secret (or libvirt's error for a missing one). */
export function prepareEncryptionSecret(src: StorageSource, id: number, caps: QemuCaps): void {
  const enc = src.encryption;
  secrets.delete(src);
  if (isEmptySource(src) || !enc?.secrets.length) return;
  const what = '<encryption><secret> of a disk';
  const value = secretValue(caps, enc.secrets[0]!, 'volume', what);
  secrets.set(src, secretObjectProps(caps, `libvirt-${id}-format-encryption-secret0`, value, what));
}

/** the id of an image's encryption secret object (the rbd driver's own encryption takes it) */
export const encryptionSecretId = (src: StorageSource): string | undefined => secrets.get(src)?.id as string | undefined;

/** qemuDomainPrepareStorageSourceFDs: a file descriptor group comes from the API
 *  (virDomainFDAssociate) of a session that starts the domain; neither domxml-to-native
 *  nor a define has one, so libvirt fails. */
export function prepareFDs(src: StorageSource): void {
  if (src.fdgroup !== undefined) throw new TranslationError('invalid argument', `file descriptor group '${src.fdgroup}' was not associated with the domain`);
}

/** JSON as libvirt writes it, with 64-bit numbers (bigint) written exactly. */
export function jsonArg(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(jsonArg).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${jsonArg(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** libvirt's JSON writer ("U:" values) prints an unsigned 64-bit number above
 *  LLONG_MAX as the signed number of the same bits */
const u64 = (v: bigint) => (v > 2n ** 63n - 1n ? v - 2n ** 64n : v);

/** qemuBlockStorageSourceNeedsStorageSliceLayer */
const needsSliceLayer = (src: StorageSource) => !!src.slice && (src.format !== 'raw' || src.encryption?.format === 'luks');

/** The objects before an image's nodes (its secret), and the raw slice node between its
 *  storage and format nodes (qemuBlockStorageSourceGetBlockdevStorageSliceProps). */
export function imageExtras(src: StorageSource, id: number, cache: Record<string, unknown>): { objects: string[][]; slice?: string[]; file: string } {
  const objects: string[][] = [];
  const secret = secrets.get(src);
  if (secret) objects.push(['-object', JSON.stringify(secret)]);
  const storage = `libvirt-${id}-storage`;
  if (!needsSliceLayer(src)) return { objects, file: storage };
  const node = `libvirt-${id}-slice-sto`;
  const { offset, size } = src.slice!;
  const props = { driver: 'raw', 'node-name': node, offset: u64(offset), size: u64(size), file: storage, 'auto-read-only': true, discard: 'unmap', ...cache };
  return { objects, slice: ['-blockdev', jsonArg(props)], file: node };
}

/** qemuBlockStorageSourceGetBlockdevFormatProps after the common properties: the driver
 *  and what it takes (LUKS key, qcow2 encryption and cache size, raw slice offsets). */
export function formatDriverProps(src: StorageSource, props: Record<string, unknown>, driverOf: (format: string) => string): void {
  const enc = src.encryption?.engine === 'qemu' ? src.encryption : undefined;
  const secret = secrets.get(src)?.id as string | undefined;
  const format = src.format!;
  if (format === 'raw' || format === 'fat') {
    if (enc?.format === 'luks') {
      if (!secret) throw internalError("missing secret info for 'luks' driver");
      Object.assign(props, { driver: 'luks', 'key-secret': secret });
    } else {
      props.driver = 'raw';
      if (src.slice) Object.assign(props, { offset: u64(src.slice.offset), size: u64(src.slice.size) });
    }
    return;
  }
  props.driver = driverOf(format);
  if (format === 'qcow2' || format === 'qcow') {
    // qemuBlockStorageSourceGetCryptoProps: nothing without a secret
    if (enc && secret) props.encrypt = { format: enc.format === 'qcow' ? 'aes' : 'luks', 'key-secret': secret };
    if (format === 'qcow2' && src.metadataCacheMaxSize) props['cache-size'] = u64(src.metadataCacheMaxSize);
  }
}
