// libxml2's own serialization (xmlNodeDump with format=1), which libvirt uses for the
// foreign XML it keeps verbatim: <metadata> content. Also libxml2's rules for which
// whitespace-only text survives parsing, and its namespace bookkeeping.
import { isElement, type XElement, type XNode } from './tree.js';

const escText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
// In attribute values libxml2 also writes non-ASCII characters as references.
export const escAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;')
    .replace(/[^\x00-\x7f]/gu, (c) => `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`);

const prefixOf = (name: string) => (name.includes(':') ? name.slice(0, name.indexOf(':')) : undefined);
const declKey = (prefix: string | undefined) => (prefix ? `xmlns:${prefix}` : 'xmlns');

function nsOf(e: XElement, scope: Record<string, string>): string | undefined {
  const key = declKey(prefixOf(e.name));
  return e.attrs[key] ?? scope[key];
}

/** Prefixes the kept content uses (elements, then attributes, in document order)
 *  without declaring them itself: libxml2 declares those on the copied <metadata>. */
export function undeclaredPrefixes(nodes: XNode[], declared: Set<string>, out: string[]): void {
  for (const n of nodes) {
    if (!isElement(n)) continue;
    const here = new Set(declared);
    for (const k of Object.keys(n.attrs)) if (k.startsWith('xmlns:')) here.add(k.slice(6));
    for (const name of [n.name, ...Object.keys(n.attrs).filter((k) => k !== 'xmlns' && !k.startsWith('xmlns:'))]) {
      const p = prefixOf(name);
      if (p && p !== 'xml' && !here.has(p) && !out.includes(p)) out.push(p);
    }
    undeclaredPrefixes(n.children, here, out);
  }
}

const isBlank = (n: XNode | undefined): n is string => typeof n === 'string' && /^[ \t\r\n]*$/.test(n);

/** libxml2 drops "ignorable" whitespace-only text when libvirt parses. Its heuristic
 *  keeps a blank node that is the element's only content, that follows text, or whose
 *  element starts with text; and (observed with libvirt 9.0.0) a trailing blank after
 *  an element that itself follows text. */
function dropBlanks(nodes: XNode[]): XNode[] {
  const kept: XNode[] = [];
  nodes.forEach((n, i) => {
    if (isBlank(n)) {
      const last = kept[kept.length - 1];
      const atEnd = i === nodes.length - 1;
      const keep =
        (kept.length === 0 && atEnd) ||
        typeof last === 'string' ||
        typeof kept[0] === 'string' ||
        (atEnd && last !== undefined && isElement(last) && typeof kept[kept.length - 2] === 'string');
      if (!keep) return;
    }
    kept.push(isElement(n) ? { ...n, children: dropBlanks(n.children) } : n);
  });
  return kept;
}

export function dumpNode(e: XElement, level: number, format: boolean): string {
  const entries = Object.entries(e.attrs);
  const ordered = [...entries.filter(([k]) => k === 'xmlns' || k.startsWith('xmlns:')),
    ...entries.filter(([k]) => k !== 'xmlns' && !k.startsWith('xmlns:'))];
  const attrs = ordered.map(([k, v]) => ` ${k}="${escAttr(v)}"`).join('');
  if (e.children.length === 0) return `<${e.name}${attrs}/>`;
  // libxml2 stops indenting inside an element that has any text (or CDATA) child.
  const fmt = format && e.children.every((c) => typeof c !== 'string' && !('cdata' in c));
  let s = `<${e.name}${attrs}>`;
  for (const c of e.children) {
    if (fmt) s += '\n' + '  '.repeat(level + 1);
    if (typeof c === 'string') s += escText(c);
    else if (isElement(c)) s += dumpNode(c, level + 1, fmt);
    else if ('cdata' in c) s += `<![CDATA[${c.cdata}]]>`;
    else if ('comment' in c) s += `<!--${c.comment}-->`;
  }
  if (fmt) s += '\n' + '  '.repeat(level);
  return s + `</${e.name}>`;
}

/** libvirt keeps only namespaced elements, the first one per namespace URI. */
export function sanitizeMetadata(elements: XElement[], scope: Record<string, string> = {}): XElement[] {
  const seen = new Set<string>();
  const out: XElement[] = [];
  for (const e of elements) {
    const ns = nsOf(e, scope);
    if (!ns || seen.has(ns)) continue;
    seen.add(ns);
    out.push({ ...e, children: dropBlanks(e.children) });
  }
  return out;
}

