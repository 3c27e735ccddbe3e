// A storage source's <encryption> (libvirt's virStorageEncryption): parsed and written
// back as libvirt does, the engine the qemu driver defaults, and the checks of both
// (the cipher a domain may not give, old qcow encryption refused, formats and engines).
// The secret it names is looked up when a command line is built (blockdev/storage-extra.ts).
import type { QemuCaps } from '../capabilities.js';
import { hasFlag } from '../capabilities.js';
import { unsupportedConfig, xmlError } from '../errors.js';
import { parseUuid } from '../domain/ids.js';
import type { SecretLookup } from '../secrets.js';
import { propEnum, propUInt, required } from '../xml/props.js';
import { elements, escapeXml, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';

export type EncryptionFormat = 'default' | 'qcow' | 'luks' | 'luks2';

export interface Encryption {
  format: EncryptionFormat;
  /** 'qemu' after the qemu driver's post-parse when not given */
  engine?: 'qemu' | 'librbd';
  /** <secret type='passphrase'>: the only secret type */
  secrets: SecretLookup[];
  cipher?: { name: string; size: number; mode?: string; hash?: string };
  ivgen?: { name: string; hash?: string };
}

const FORMATS: readonly string[] = ['default', 'qcow', 'luks', 'luks2'];

/** virSecretLookupParseSecret */
function parseSecretLookup(e: XElement): SecretLookup {
  const uuid = e.attrs.uuid;
  const usage = e.attrs.usage;
  if (uuid === undefined && usage === undefined) throw xmlError('missing secret uuid or usage attribute');
  if (uuid !== undefined && usage !== undefined) throw xmlError('either secret uuid or usage expected');
  if (uuid !== undefined) {
    const u = parseUuid(uuid);
    if (!u) throw xmlError(`invalid secret uuid '${uuid}'`);
    return { uuid: u };
  }
  return { usage: usage! };
}

/** virStorageEncryptionParseNode */
export function parseEncryption(e: XElement): Encryption {
  const format = e.attrs.format;
  if (!format) throw xmlError('unknown volume encryption format');
  if (!FORMATS.includes(format)) throw unsupportedConfig(`unknown volume encryption format type ${format}`);
  const enc: Encryption = { format: format as EncryptionFormat, secrets: [] };
  const engine = propEnum(e, 'engine', ['default', 'qemu', 'librbd'] as const, { nonZero: true });
  if (engine) enc.engine = engine as NonNullable<Encryption['engine']>;
  for (const s of elements(e, 'secret')) {
    const type = s.attrs.type;
    if (!type) throw xmlError('unknown volume encryption secret type');
    if (type !== 'passphrase') throw unsupportedConfig(`unknown volume encryption secret type ${type}`);
    enc.secrets.push(parseSecretLookup(s));
  }
  if (format === 'luks') {
    const cipher = elements(e, 'cipher')[0];
    if (cipher) {
      const name = cipher.attrs.name;
      if (name === undefined) throw xmlError("cipher info missing 'name' attribute");
      required(cipher, 'size');
      enc.cipher = { name, size: propUInt(cipher, 'size')! };
      if (cipher.attrs.mode !== undefined) enc.cipher.mode = cipher.attrs.mode;
      if (cipher.attrs.hash !== undefined) enc.cipher.hash = cipher.attrs.hash;
    }
    const ivgen = elements(e, 'ivgen')[0];
    if (ivgen) {
      if (!enc.cipher) throw xmlError('ivgen element found, but cipher is missing');
      const name = ivgen.attrs.name;
      if (name === undefined) throw xmlError('missing ivgen info name string');
      enc.ivgen = { name };
      if (ivgen.attrs.hash !== undefined) enc.ivgen.hash = ivgen.attrs.hash;
    }
  }
  return enc;
}

const esc = (k: string, v: string | undefined) => (v === undefined ? '' : ` ${k}='${escapeXml(v)}'`);

/** virStorageEncryptionFormat */
export function formatEncryption(w: Writer, enc: Encryption | undefined): void {
  if (!enc) return;
  w.open(`<encryption format='${enc.format}'${enc.engine ? ` engine='${enc.engine}'` : ''}>`);
  for (const s of enc.secrets) w.line(`<secret type='passphrase'${'uuid' in s ? ` uuid='${s.uuid}'` : esc('usage', s.usage)}/>`);
  const c = enc.cipher;
  if (enc.format === 'luks' && c) {
    w.line(`<cipher${esc('name', c.name)} size='${c.size}'${esc('mode', c.mode)}${esc('hash', c.hash)}/>`);
    if (enc.ivgen) w.line(`<ivgen${esc('name', enc.ivgen.name)}${esc('hash', enc.ivgen.hash)}/>`);
  }
  w.close('</encryption>');
}

/** qemuDomainDeviceDiskDefPostParse: the default engine is QEMU's */
export function postParseEncryption(enc: Encryption | undefined): void {
  if (enc && !enc.engine) enc.engine = 'qemu';
}

/** virDomainDiskDefValidateSourceChainOne, the encryption part */
export function validateEncryptionConf(enc: Encryption | undefined): void {
  if (enc?.format === 'luks' && enc.cipher) throw unsupportedConfig('supplying <cipher> for domain disk definition is unnecessary');
}

/** qemuDomainValidateStorageSource, the encryption part (a local source: never RBD) */
export function validateEncryptionQemu(enc: Encryption | undefined, format: string, caps: QemuCaps, network = false): void {
  if (!enc) return;
  if (enc.format === 'default' || enc.format === 'qcow') throw unsupportedConfig('old qcow/qcow2 encryption is not supported');
  if (enc.engine === 'librbd') {
    if (!hasFlag(caps, 'rbd-encryption')) throw unsupportedConfig('librbd encryption is not supported by this QEMU binary');
    // (sic: libvirt 9.0.0 lets any network source through, not only rbd)
    if (!network) throw unsupportedConfig('librbd encryption is supported only with RBD backed disks');
    return;
  }
  if (enc.format === 'luks2') throw unsupportedConfig('luks2 is currently not supported by the qemu encryption engine');
  if (format !== 'qcow2' && format !== 'raw') throw unsupportedConfig("encryption is supported only with 'raw' and 'qcow2' image format");
}
