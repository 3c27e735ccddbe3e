// A small, ordered XML tree on top of fast-xml-parser. Order matters (metadata is
// re-serialized, device order is kept), and entities are decoded here so that only
// XML's own five and character references are accepted: no DTD, no expansion.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { TranslationError, xmlError } from '../errors.js';
import { tick } from '../deadline.js';
import { firstCharError } from './chars.js';

export interface XElement {
  name: string;
  attrs: Record<string, string>;
  children: XNode[];
}
/** Comments and CDATA sections are kept: <metadata> is written back with them. */
export interface XComment { comment: string }
export interface XCData { cdata: string }
/** A processing instruction inside an element; only its target is kept. */
export interface XPi { pi: string }
export type XNode = XElement | string | XComment | XCData | XPi;

export const isElement = (n: XNode): n is XElement => typeof n === 'object' && 'name' in n;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  allowBooleanAttributes: false,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  cdataPropName: '#cdata',
  commentPropName: '#comment',
});

/** Size limit on input documents: generous for domain XML, bounded against abuse. */
export const MAX_XML_BYTES = 4 * 1024 * 1024;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

export function decodeEntities(s: string, where: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&\s]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw xmlError(`malformed entity reference in ${where}`);
    if (name in PREDEFINED) return PREDEFINED[name]!;
    const m = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(name);
    if (m) {
      const code = m[1]!.startsWith('x') ? parseInt(m[1]!.slice(1), 16) : parseInt(m[1]!, 10);
      if (code > 0x10ffff || code === 0) throw xmlError(`invalid character reference &${name}; in ${where}`);
      return String.fromCodePoint(code);
    }
    throw xmlError(`undefined entity &${name}; in ${where}`);
  });
}

type Raw = Record<string, unknown>;

function convert(raw: Raw[], parent: string): XNode[] {
  const out: XNode[] = [];
  for (const item of raw) {
    if ('#text' in item) {
      out.push(decodeEntities(String(item['#text']), `<${parent}>`));
      continue;
    }
    if ('#comment' in item) {
      out.push({ comment: (item['#comment'] as Raw[]).map((t) => String(t['#text'] ?? '')).join('') });
      continue;
    }
    if ('#cdata' in item) {
      out.push({ cdata: (item['#cdata'] as Raw[]).map((t) => String(t['#text'] ?? '')).join('') });
      continue;
    }
    tick();
    const name = Object.keys(item).find((k) => k !== ':@')!;
    if (name.startsWith('?')) {
      if (parent !== '') out.push({ pi: name.slice(1) }); // the XML declaration is top-level
      continue;
    }
    const rawAttrs = (item[':@'] ?? {}) as Record<string, unknown>;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(rawAttrs)) attrs[k] = decodeEntities(String(v), `attribute '${k}' of <${name}>`);
    out.push({ name, attrs, children: convert(item[name] as Raw[], name) });
  }
  // Adjacent text pieces form one text node, as in libxml2.
  const merged: XNode[] = [];
  for (const n of out) {
    const last = merged[merged.length - 1];
    if (typeof n === 'string' && typeof last === 'string') merged[merged.length - 1] = last + n;
    else merged.push(n);
  }
  return merged;
}

// One document is often parsed many times over (a case on every snapshot, in both modes,
// and again to check the round trip), so the trees of the last documents are kept. They
// are frozen: nothing downstream may change a tree another translation will read.
const recent = new Map<string, XElement>();
const RECENT_MAX = 256;

function freeze(e: XElement): XElement {
  for (const c of e.children) if (typeof c === 'object') isElement(c) ? freeze(c) : Object.freeze(c);
  Object.freeze(e.attrs);
  Object.freeze(e.children);
  return Object.freeze(e);
}

/** Parse a document; returns its root element, frozen. Structural errors are `XML error`s
 *  with line and column; errors at the level of characters read as libxml2's, under the
 *  name libvirt gives the document (`(domain_definition):2: PCDATA invalid Char value 1`). */
export function parseXml(text: string, what = 'document', libxmlName?: string): XElement {
  const hit = recent.get(text);
  if (hit) return hit;
  const root = freeze(parseFresh(text, what, libxmlName));
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(text, root);
  return root;
}

function parseFresh(text: string, what: string, libxmlName: string | undefined): XElement {
  if (Buffer.byteLength(text, 'utf8') > MAX_XML_BYTES) {
    throw xmlError(`${what} is larger than the ${MAX_XML_BYTES} byte limit`);
  }
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw xmlError(`${what}: DOCTYPE and entity declarations are not accepted`);
  }
  // A raw NUL ends the document where libvirt reads it (a C string).
  const nul = text.indexOf('\0');
  if (nul !== -1) text = text.slice(0, nul);
  const charError = firstCharError(text);
  const v = XMLValidator.validate(text, { allowBooleanAttributes: false });
  // libxml2 stops at the first error in document order, whichever kind it is.
  const charFirst = charError && (v === true || charError.line < v.err.line ||
    (charError.line === v.err.line && charError.offset - text.lastIndexOf('\n', charError.offset - 1) <= v.err.col));
  if (charError && charFirst) {
    throw libxmlName ? new TranslationError('bare', `${libxmlName}:${charError.line}: ${charError.message}`) : xmlError(`${what}, line ${charError.line}: ${charError.message}`);
  }
  if (v !== true) {
    // The commonest slip, a closing tag that does not match, in libxml2's own words.
    const mismatch = /^Expected closing tag '([^']+)' \(opened in line (\d+), col \d+\) instead of closing tag '([^']+)'\.$/.exec(v.err.msg);
    if (mismatch && libxmlName) {
      throw new TranslationError('bare', `${libxmlName}:${v.err.line}: Opening and ending tag mismatch: ${mismatch[1]} line ${mismatch[2]} and ${mismatch[3]}`);
    }
    // (an empty document has no column to name)
    const at = v.err.col === undefined ? `line ${v.err.line}` : `line ${v.err.line}, column ${v.err.col}`;
    throw xmlError(text.trim() ? `${what} is not well-formed at ${at}: ${v.err.msg}` : `${what} is empty`);
  }
  let raw: Raw[];
  try {
    raw = parser.parse(text) as Raw[];
  } catch (e) {
    // The validator lets a few broken documents through; the parser then throws.
    throw xmlError(`${what} is not well-formed: ${(e as Error).message.split('\n')[0]}`);
  }
  const roots = convert(raw, '').filter(isElement);
  if (roots.length !== 1) throw xmlError(`${what} must have exactly one root element`);
  return roots[0]!;
}

export const elements = (e: XElement, name?: string): XElement[] =>
  e.children.filter((c): c is XElement => isElement(c) && (name === undefined || c.name === name));

export function child(e: XElement, name: string): XElement | undefined {
  for (const c of e.children) if (typeof c === 'object' && 'name' in c && c.name === name) return c;
  return undefined;
}

/** Text content of an element (all descendant text, as libxml2's xmlNodeGetContent). */
export function textOf(e: XElement): string {
  return e.children
    .map((c) => (typeof c === 'string' ? c : isElement(c) ? textOf(c) : 'cdata' in c ? c.cdata : ''))
    .join('');
}

/** libvirt escapes text and attribute values the same way (virBufferEscapeString). */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
