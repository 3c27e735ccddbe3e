// Numbers and scaled sizes as libvirt reads them (virStrToLong_ull/_ll, virParseScaledValue,
// virScaleInteger).
import { notImplemented, TranslationError, xmlError } from '../errors.js';
import { child, textOf, type XElement } from '../xml/tree.js';

const ULLONG_MAX = 2n ** 64n - 1n;
const LLONG_MIN = -(2n ** 63n);
const LLONG_MAX = 2n ** 63n - 1n;

/** strtoull/strtoll in base 10 over the whole string, as virStrToLong_ullp/_ll read it
 *  (leading blanks and a sign allowed; a minus refused for the unsigned reading). */
export function strToULL(s: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(s);
  if (!m) return undefined;
  const v = BigInt(m[1]!);
  return v <= ULLONG_MAX ? v : undefined;
}
export function strToLL(s: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (!m) return undefined;
  const v = (m[1] === '-' ? -1n : 1n) * BigInt(m[2]!);
  return v >= LLONG_MIN && v <= LLONG_MAX ? v : undefined;
}

/** VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: a memory limit at or above it means "no limit". */
export const UNLIMITED_KIB = 2n ** 53n - 1n;

/** The size in the `name` child of `parent` (default unit KiB), rounded up to KiB;
 *  undefined when absent or empty. `maxBytes` is libvirt's limit on the scaled value. */
export function parseScaledKiB(parent: XElement, name: string, xpath: string, maxBytes: bigint): bigint | undefined {
  const el = child(parent, name);
  const raw = el ? textOf(el) : '';
  if (raw === '') return undefined;
  const value = strToULL(raw);
  if (value === undefined) throw xmlError(`Invalid value '${raw}' for element or attribute '${xpath}'`);
  const unit = el!.attrs.unit;
  const scale = BigInt(unitScale(unit, 1024));
  if (value && value > maxBytes / scale) throw new TranslationError('bare', `numerical overflow: value too large: ${value}${unit ?? ''}`);
  return (value * scale + 1023n) / 1024n;
}

/** virScaleInteger: a unit suffix to a multiplier, or libvirt's error. */
export function unitScale(unit: string | undefined, defaultScale: number): number {
  if (unit === undefined || unit === '') return defaultScale;
  const u = unit.toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return 1;
  let base: number;
  if (u.length === 1 || u.slice(1) === 'ib') base = 1024;
  else if (u.slice(1) === 'b') base = 1000;
  else throw new TranslationError('invalid argument', `unknown suffix '${unit}'`);
  const power = 'kmgtpe'.indexOf(u[0]!) + 1;
  if (power === 0) throw new TranslationError('invalid argument', `unknown suffix '${unit}'`);
  return base ** power;
}

/** virParseScaledValue in bytes, up to ULLONG_MAX: `raw` (non-empty) read at `where`
 *  (its XPath, for messages) times its unit (default `dflt`), or libvirt's errors. */
export function scaledBytes(raw: string, where: string, unit: string | undefined, dflt: number): bigint {
  if (!/^\+?\d+$/.test(raw) || BigInt(raw) > 2n ** 64n - 1n) throw xmlError(`Invalid value '${raw}' for element or attribute '${where}'`);
  const bytes = BigInt(raw) * BigInt(unitScale(unit, dflt));
  if (bytes > 2n ** 64n - 1n) throw new TranslationError('bare', `numerical overflow: value too large: ${raw}${unit ?? ''}`);
  return bytes;
}

/** Bytes to KiB, rounded up as virDomainParseMemory does. Beyond 2^53 KiB (what QEMU or
 *  libvirt accept on these platforms, and exact doubles) it is refused, naming `what`. */
export function roundedKiB(bytes: bigint, what: string): number {
  const kib = (bytes + 1023n) / 1024n;
  if (kib > BigInt(Number.MAX_SAFE_INTEGER)) throw notImplemented(`${what} larger than 2^53 KiB`);
  return Number(kib);
}

/** virDomainParseMemory: value with unit → KiB, rounded up. Returns undefined when absent. */
export function parseMemory(domain: XElement, name: string): { kib: number; el: XElement } | undefined {
  const el = child(domain, name);
  if (!el) return undefined;
  const raw = textOf(el);
  if (raw === '') return undefined; // an empty <memory/> counts as no memory
  const bytes = scaledBytes(raw, `./${name}[1]`, el.attrs.unit, 1024);
  return { kib: roundedKiB(bytes, `<${name}>`), el };
}

