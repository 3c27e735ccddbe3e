// libvirt's textual bitmaps (virBitmapParse / virBitmapFormat): CPU and NUMA node sets
// such as '0-3,^2,8'. A set is kept as its members in ascending order.
import { TranslationError } from '../errors.js';

/** VIR_DOMAIN_CPUMASK_LEN: the size of every CPU or node set in a domain definition. */
export const CPUMASK_LEN = 16384;

const isSpace = (c: string | undefined) => c !== undefined && ' \t\n\v\f\r'.includes(c);

/** strtol's view of a decimal int at `i`: blanks, a sign, digits; undefined when no
 *  digit follows or the value leaves int's range (virStrToLong_i). */
function strtol(s: string, i: number): { value: number; end: number } | undefined {
  let j = i;
  while (isSpace(s[j])) j++;
  let neg = false;
  if (s[j] === '+' || s[j] === '-') neg = s[j++] === '-';
  const start = j;
  while (j < s.length && s[j]! >= '0' && s[j]! <= '9') j++;
  if (j === start) return undefined;
  const v = (neg ? -1 : 1) * Number(s.slice(start, j));
  if (v > 2147483647 || v < -2147483648) return undefined;
  return { value: v, end: j };
}

/** virBitmapParse with a fixed size: the members, or libvirt's error. */
export function parseBitmap(str: string, size = CPUMASK_LEN): number[] {
  const fail = () => new TranslationError('invalid argument', `Failed to parse bitmap '${str}'`);
  const bits = new Uint8Array(size);
  // Only the span some range touched is read back.
  let lo = size;
  let hi = -1;
  const touch = (a: number, b: number) => {
    if (a < lo) lo = a;
    if (b > hi) hi = b;
  };
  let i = 0;
  while (isSpace(str[i])) i++;
  if (i >= str.length) throw fail();
  while (i < str.length) {
    let neg = false;
    if (str[i] === '^') {
      i++;
      neg = true;
    }
    if (!(str[i]! >= '0' && str[i]! <= '9')) throw fail();
    const first = strtol(str, i);
    if (!first || first.value < 0) throw fail();
    const start = first.value;
    i = first.end;
    while (isSpace(str[i])) i++;
    if (str[i] === ',' || i >= str.length) {
      if (start >= size) throw fail();
      bits[start] = neg ? 0 : 1;
      touch(start, start);
    } else if (str[i] === '-') {
      if (neg) throw fail();
      i++;
      while (isSpace(str[i])) i++;
      const last = strtol(str, i);
      if (!last || last.value < start) throw fail();
      i = last.end;
      if (last.value >= size) throw fail();
      bits.fill(1, start, last.value + 1);
      touch(start, last.value);
      while (isSpace(str[i])) i++;
    }
    if (str[i] === ',') {
      i++;
      while (isSpace(str[i])) i++;
    } else if (i < str.length) {
      throw fail();
    }
  }
  const out: number[] = [];
  for (let n = lo; n <= hi; n++) if (bits[n]) out.push(n);
  return out;
}

/** virBitmapFormat: ascending ranges, '0-3,5'. */
export function formatBitmap(set: readonly number[]): string {
  const parts: string[] = [];
  for (let k = 0; k < set.length; ) {
    let e = k;
    while (e + 1 < set.length && set[e + 1] === set[e]! + 1) e++;
    parts.push(e === k ? `${set[k]}` : `${set[k]}-${set[e]}`);
    k = e + 1;
  }
  return parts.join(',');
}
