// What libxml2 refuses at the level of characters, found before the document is
// parsed and worded as libxml2 words it: invalid UTF-8, character references to
// characters XML does not allow, and raw characters XML does not allow (C0 controls
// other than tab, newline and carriage return; U+FFFE and U+FFFF), each by where it
// stands (text, attribute value, comment, CDATA section). libvirt reports such a
// document with the first line of libxml2's message: `(NAME):LINE: MESSAGE`.

export interface CharError {
  /** offset in the text (UTF-16 units), for ordering against structural errors */
  offset: number;
  line: number;
  message: string;
}

/** XML 1.0's Char production. */
const isXmlChar = (c: number) =>
  c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);

const lineAt = (text: string, offset: number) => {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
};

// Nothing to look at in the common document: no reference, no forbidden character, no
// '--' that does not end a comment.
const SUSPECT = /&#|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|--[^>]/;

/** The first character-level error in document order, if any. */
export function firstCharError(text: string): CharError | undefined {
  if (!SUSPECT.test(text)) return undefined;
  const found = (offset: number, message: string): CharError => ({ offset, line: lineAt(text, offset), message });
  const raw = (i: number, where: 'text' | 'attribute' | 'comment' | 'cdata'): CharError | undefined => {
    const c = text.charCodeAt(i);
    if (isXmlChar(c) || (c >= 0xd800 && c <= 0xdfff)) return undefined; // surrogate halves of a valid pair
    if (c === 0xfffe || c === 0xffff) return found(i, `Char 0x${c.toString(16).toUpperCase()} out of allowed range`);
    if (where === 'attribute') return found(i, 'invalid character in attribute value');
    if (where === 'comment') return found(i, `xmlParseComment: invalid xmlChar value ${c}`);
    if (where === 'cdata') return found(i, 'Unregistered error message'); // (sic) libxml2's words
    return found(i, `PCDATA invalid Char value ${c}`);
  };
  const charRef = (i: number): CharError | undefined => {
    const m = /^&#(x[0-9a-fA-F]+|[0-9]+);/.exec(text.slice(i, i + 16));
    if (!m) return undefined; // a malformed reference is a structural error
    const digits = m[1]!;
    const code = digits.startsWith('x') ? parseInt(digits.slice(1), 16) : parseInt(digits, 10);
    if (code > 0x10ffff) return found(i, 'xmlParseCharRef: character reference out of bounds');
    return isXmlChar(code) ? undefined : found(i, `xmlParseCharRef: invalid xmlChar value ${code}`);
  };
  const until = (from: number, end: string, where: 'comment' | 'cdata') => {
    const stop = text.indexOf(end, from);
    const last = stop === -1 ? text.length : stop;
    // A comment holds no '--' (nor ends in '--->'): libxml2 stops there, after the
    // characters before it.
    let hyphens = -1;
    if (where === 'comment') {
      const content = text.slice(from, last);
      hyphens = content.indexOf('--');
      if (hyphens === -1 && stop !== -1 && content.endsWith('-')) hyphens = content.length - 1;
    }
    for (let j = from; j < (hyphens === -1 ? last : from + hyphens); j++) {
      const e = raw(j, where);
      if (e) return { e, next: last };
    }
    if (hyphens !== -1) return { e: found(from + hyphens, doubleHyphen(text.slice(from, from + hyphens))), next: last };
    return { e: undefined, next: stop === -1 ? text.length : stop + end.length };
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '<') {
      if (text.startsWith('<!--', i)) {
        const r = until(i + 4, '-->', 'comment');
        if (r.e) return r.e;
        i = r.next;
      } else if (text.startsWith('<![CDATA[', i)) {
        const r = until(i + 9, ']]>', 'cdata');
        if (r.e) return r.e;
        i = r.next;
      } else if (text.startsWith('<?', i)) {
        const stop = text.indexOf('?>', i);
        i = stop === -1 ? text.length : stop + 2;
      } else {
        // A tag: names are structural; attribute values are checked.
        let quote: string | undefined;
        for (i++; i < text.length; i++) {
          const d = text[i];
          if (quote) {
            if (d === quote) quote = undefined;
            else {
              const e = d === '&' ? charRef(i) : raw(i, 'attribute');
              if (e) return e;
            }
          } else if (d === '"' || d === "'") quote = d;
          else if (d === '>') break;
        }
        i++;
      }
      continue;
    }
    const e = c === '&' ? charRef(i) : raw(i, 'text');
    if (e) return e;
    i++;
  }
  return undefined;
}

/** libxml2's words for a '--' in a comment, given what came before it: its fast path
 *  (ASCII so far) quotes up to 50 of those characters, its other path does not. */
function doubleHyphen(before: string): string {
  if (before === '') return 'Double hyphen within comment';
  if (/[^\x00-\x7f]/.test(before)) return "Comment must not contain '--' (double-hyphen)";
  return `Double hyphen within comment: <!--${before.slice(0, 50)}`.split('\n')[0]!;
}

/** Strict UTF-8: the decoded text, or the line of the first byte that is not UTF-8. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(bytes: Uint8Array): { text: string } | { badLine: number } {
  try {
    return { text: strictUtf8.decode(bytes) };
  } catch {
    // Find the first bad byte: decode ever shorter prefixes is too slow; walk the sequences.
    let line = 1;
    for (let i = 0; i < bytes.length; ) {
      const b = bytes[i]!;
      const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
      let ok = need >= 0 && i + need < bytes.length;
      for (let k = 1; ok && k <= need; k++) ok = (bytes[i + k]! & 0xc0) === 0x80;
      if (ok && need === 2) {
        const cp = ((b & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6);
        ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
      }
      if (ok && need === 3) {
        const cp = ((b & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12);
        ok = cp >= 0x10000 && cp <= 0x10ffff;
      }
      if (!ok) return { badLine: line };
      if (b === 0x0a) line++;
      i += need + 1;
    }
    return { badLine: line };
  }
}
