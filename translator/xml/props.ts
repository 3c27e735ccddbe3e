// Attribute readers that behave like libvirt's virXMLProp* helpers (util/virxml.c),
// with their messages in one place. Each takes the element and the attribute name and
// returns undefined when the attribute is absent (unless it is required).
import { xmlError } from '../errors.js';
import type { XElement } from './tree.js';

const invalid = (e: XElement, attr: string, value: string, expected?: string) =>
  xmlError(`Invalid value for attribute '${attr}' in element '${e.name}': '${value}'.${expected ? ` Expected ${expected}` : ''}`);

export function required(e: XElement, attr: string): string {
  const v = e.attrs[attr];
  if (v === undefined) throw xmlError(`Missing required attribute '${attr}' in element '${e.name}'`);
  return v;
}

/** virXMLPropEnum and friends: one of a fixed set of strings. With `nonZero`, the first
 *  value (the enum's 0, usually 'default') is what absence means and may not be written. */
export function propEnum<T extends string>(e: XElement, attr: string, values: readonly T[], opts: { nonZero?: boolean } = {}): T | undefined {
  const v = e.attrs[attr];
  if (v === undefined) return undefined;
  if (!values.includes(v as T) || (opts.nonZero && v === values[0])) throw invalid(e, attr, v);
  return v as T;
}

export const YES_NO = ['yes', 'no'] as const;
export const ON_OFF = ['on', 'off'] as const;
export const propYesNo = (e: XElement, attr: string) => propEnum(e, attr, YES_NO);
export const propOnOff = (e: XElement, attr: string) => propEnum(e, attr, ON_OFF);

const UINT_MAX = 4294967295;
const INT_MAX = 2147483647;

/** strtoul with base 0, as virStrToLong_uip: decimal, 0x hex or 0 octal, whole string. */
export function parseUintBase0(s: string): number | undefined {
  const t = s.trim();
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^0[0-7]*$/.test(t)) n = parseInt(t, 8);
  else if (/^[1-9][0-9]*$/.test(t)) n = parseInt(t, 10);
  else return undefined;
  return Number.isSafeInteger(n) && n <= UINT_MAX ? n : undefined;
}

/** virXMLPropUInt (base 10 unless base0), optionally rejecting zero. */
export function propUInt(e: XElement, attr: string, opts: { base0?: boolean; nonZero?: boolean } = {}): number | undefined {
  const v = e.attrs[attr];
  if (v === undefined) return undefined;
  // strtoul skips leading blanks and takes a '+' (virStrToLong_uip).
  const dec = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(v);
  const n = opts.base0 ? parseUintBase0(v) : dec && Number(dec[1]) <= UINT_MAX ? Number(dec[1]) : undefined;
  if (n === undefined) throw invalid(e, attr, v, 'non-negative integer value');
  if (opts.nonZero && n === 0) throw xmlError(`Invalid value for attribute '${attr}' in element '${e.name}': Zero is not permitted`);
  return n;
}

/** virXMLPropInt (base 10), optionally rejecting negative values. */
export function propInt(e: XElement, attr: string, opts: { nonNegative?: boolean } = {}): number | undefined {
  const v = e.attrs[attr];
  if (v === undefined) return undefined;
  // strtol skips leading blanks (virStrToLong_i).
  const t = v.replace(/^[ \t\n\v\f\r]+/, '');
  if (!/^[+-]?\d+$/.test(t) || Number(t) > INT_MAX || Number(t) < -INT_MAX - 1) throw invalid(e, attr, v, 'integer value');
  const n = Number(t);
  if (opts.nonNegative && n < 0) throw invalid(e, attr, v, 'non-negative value');
  return n;
}
