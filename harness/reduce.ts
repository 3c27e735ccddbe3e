// `virtgold reduce`: shrink a domain on which two translators disagree to a small one on
// which they still disagree in the same way. Hierarchical delta debugging: ddmin over the
// elements of each depth in turn (an element goes with everything inside it), then over
// the attributes, until neither removes anything more. Every candidate is a well-formed
// document (comments are dropped, text and element order kept).
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from './classify.js';
import { ask } from './compare.js';
import { ddmin } from './ddmin.js';
import { UserError } from './errors.js';
import { scratchDir } from './scratch.js';
import type { Adapter, Class, MatrixEntry, Mode, SideOutcome, Snapshot } from './types.js';

interface El {
  id: number;
  name: string;
  attrs: [string, string][];
  children: (El | { text: string } | { cdata: string })[];
  depth: number;
  /** never removed, nor these attributes (see PINNED) */
  pinned?: { attrs: string[] };
}

// What makes a domain's output deterministic stays, as "Adding a case" asks of a case:
// without a <uuid> or an interface's <mac address> libvirt (and the reference translator)
// make up random ones, and the reduced domain's goldens would change on every run.
const PINNED: { path: string[]; attrs: string[] }[] = [
  { path: ['domain', 'name'], attrs: [] },
  { path: ['domain', 'uuid'], attrs: [] },
  { path: ['domain', 'devices', 'interface', 'mac'], attrs: ['address'] },
];
const pinnedBy = (path: string[]) => PINNED.find((p) => p.path.length === path.length && p.path.every((n, i) => n === path[i]));

export interface Tree {
  /** the XML declaration as written, if any */
  decl?: string;
  root: El;
  elements: El[];
}

const parser = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', processEntities: false, trimValues: true,
  parseTagValue: false, parseAttributeValue: false, commentPropName: '#comment', cdataPropName: '#cdata',
});

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

/** The domain as a tree of elements; throws UserError when it is not well-formed XML. */
export function parseTree(xml: string): Tree {
  const ok = XMLValidator.validate(xml);
  if (ok !== true) throw new UserError(`not well-formed XML at line ${ok.err.line}: ${ok.err.msg}`);
  const elements: El[] = [];
  let decl: string | undefined;
  const build = (name: string, node: Node, path: string[]): El => {
    const el: El = { id: elements.length, name, attrs: Object.entries(node[':@'] ?? {}), children: [], depth: path.length - 1 };
    const pin = pinnedBy(path);
    if (pin) el.pinned = pin;
    elements.push(el);
    for (const child of node[name] as Node[]) {
      const key = Object.keys(child).find((k) => k !== ':@')!;
      if (key === '#text') el.children.push({ text: String(child[key]) });
      else if (key === '#cdata') el.children.push({ cdata: String((child[key] as Node[])[0]?.['#text'] ?? '') });
      else if (key !== '#comment' && !key.startsWith('?')) el.children.push(build(key, child, [...path, key]));
    }
    return el;
  };
  let root: El | undefined;
  for (const node of parser.parse(xml) as Node[]) {
    const key = Object.keys(node).find((k) => k !== ':@')!;
    if (key === '?xml') decl = `<?xml${Object.entries(node[':@'] ?? {}).map(([k, v]) => ` ${k}='${v}'`).join('')}?>`;
    else if (key !== '#comment' && !key.startsWith('?') && key !== '#text') root = build(key, node, [key]);
  }
  if (!root) throw new UserError('no root element');
  return { decl, root, elements };
}

/** An attribute: element id and attribute name. */
export type AttrRef = `${number}@${string}`;

export interface Cut {
  elements: Set<number>;
  attrs: Set<AttrRef>;
}

const quote = (v: string) => (v.includes("'") ? `"${v}"` : `'${v}'`);

/** The tree without what CUT removes, indented as libvirt writes domains. */
export function serialize(t: Tree, cut: Cut): string {
  const out: string[] = t.decl ? [t.decl] : [];
  const render = (el: El, indent: string) => {
    const attrs = el.attrs.filter(([k]) => !cut.attrs.has(`${el.id}@${k}`)).map(([k, v]) => ` ${k}=${quote(v)}`).join('');
    const kids = el.children.filter((c) => !('id' in c) || !cut.elements.has(c.id));
    const open = `${indent}<${el.name}${attrs}`;
    if (!kids.length) return void out.push(`${open}/>`);
    if (kids.every((c) => !('id' in c))) {
      return void out.push(`${open}>${kids.map((c) => ('text' in c ? c.text : `<![CDATA[${(c as { cdata: string }).cdata}]]>`)).join('')}</${el.name}>`);
    }
    out.push(`${open}>`);
    for (const c of kids) {
      if ('id' in c) render(c, `${indent}  `);
      else out.push(`${indent}  ${'text' in c ? c.text : `<![CDATA[${c.cdata}]]>`}`);
    }
    out.push(`${indent}</${el.name}>`);
  };
  render(t.root, '');
  return `${out.join('\n')}\n`;
}

/** The elements still in the document under CUT (the root included). */
function live(t: Tree, cut: Cut): El[] {
  const out: El[] = [];
  const walk = (el: El) => {
    if (cut.elements.has(el.id)) return;
    out.push(el);
    for (const c of el.children) if ('id' in c) walk(c);
  };
  walk(t.root);
  return out;
}

export const size = (t: Tree, cut: Cut) => {
  const els = live(t, cut);
  return { elements: els.length, attributes: els.reduce((n, el) => n + el.attrs.filter(([k]) => !cut.attrs.has(`${el.id}@${k}`)).length, 0) };
};

const line = (o: SideOutcome) => (o.kind === 'output' ? 'output' : o.kind === 'error' ? `error: ${o.text.trim()}` : o.kind === 'crash' ? `broken: ${o.message}` : `not run: ${o.reason}`);

/** The kind of a disagreement, which the reduction keeps: the class, what each side gave
 *  (output or error), and each side's error message, or which side broke. Undefined when
 *  the two sides agree, or one of them cannot say (refused, skipped). */
export function disagreement(cls: Class, t: SideOutcome, r: SideOutcome): string | undefined {
  if (cls === 'broken') return `broken: ${t.kind === 'crash' ? 'translator' : 'reference'}`;
  if (cls !== 'differs' && cls !== 'message') return undefined;
  const side = (o: SideOutcome) => (o.kind === 'error' ? `error ${o.text.trim()}` : o.kind);
  return `${cls}: translator ${side(t)} | reference ${side(r)}`;
}

export interface ReduceOptions {
  xml: string;
  snapshot: Snapshot;
  arch: string;
  modes: Mode[];
  translator: Adapter;
  reference: Adapter;
  /** stop after this many translations of each side (ddmin is quadratic at worst) */
  maxTests?: number;
  onProgress?: (tests: number, now: { elements: number; attributes: number }) => void;
}

export interface Reduced {
  xml: string;
  mode: Mode;
  kind: string;
  tests: number;
  before: { elements: number; attributes: number };
  after: { elements: number; attributes: number };
  /** what each side made of the reduced domain, one line each */
  translator: string;
  reference: string;
  /** how the outputs of the reduced domain differ (reference first), when both gave one */
  diff?: string;
  /** the test budget ran out before the reduction was 1-minimal */
  cutShort: boolean;
}

/** Reduce; throws UserError when the sides do not disagree on the domain in any mode. */
export async function reduce(o: ReduceOptions): Promise<Reduced> {
  const tree = parseTree(o.xml);
  const dir = scratchDir('virtgold-reduce-'); // removed at the end, and on a signal
  const scratch = dir.path;
  let tests = 0;
  const max = o.maxTests ?? 5000;
  try {
    const judge = async (xml: string, mode: Mode) => {
      tests++;
      const path = join(scratch, `candidate-${tests}.xml`);
      writeFileSync(path, xml);
      const entry: MatrixEntry = { case: { name: 'reduce', path, arch: o.arch, options: {} }, snapshot: o.snapshot, mode, stem: '', relStem: '' };
      const t = await ask(o.translator, entry, xml);
      const r = await ask(o.reference, entry, xml);
      const side = (a: Adapter, role: string, outcome: SideOutcome) => ({
        label: `${role} (${a.name})`, outcome, normalize: a.normalize && ((text: string) => a.normalize!(entry, text)), hostSpecific: a.hostSpecific,
      });
      const v = classify(side(o.translator, 'translator', t), side(o.reference, 'reference', r));
      return { kind: disagreement(v.class, t, r), t, r, diff: v.diff };
    };
    const none: Cut = { elements: new Set(), attrs: new Set() };
    let mode: Mode | undefined;
    let kind: string | undefined;
    const seen: string[] = [];
    for (const m of o.modes) {
      const first = await judge(serialize(tree, none), m);
      if (first.kind) {
        mode = m;
        kind = first.kind;
        break;
      }
      seen.push(`${m}: translator ${line(first.t)}; reference ${line(first.r)}`);
    }
    if (!mode || !kind) throw new UserError(`the two sides do not disagree on this domain (${seen.join('; ')}); nothing to reduce`);
    const cache = new Map<string, boolean>();
    let cut: Cut = none;
    let cutShort = false;
    const holds = async (c: Cut) => {
      const xml = serialize(tree, c);
      let ok = cache.get(xml);
      if (ok === undefined) {
        if (tests >= max) {
          cutShort = true;
          return false;
        }
        ok = (await judge(xml, mode!)).kind === kind;
        cache.set(xml, ok);
        o.onProgress?.(tests, size(tree, c));
      }
      return ok;
    };
    for (let changed = true; changed && !cutShort;) {
      changed = false;
      for (let depth = 1; ; depth++) {
        const atDepth = live(tree, cut).filter((el) => el.depth === depth);
        if (!atDepth.length) break;
        const level = atDepth.filter((el) => !el.pinned);
        if (!level.length) continue;
        const keep = await ddmin(level, (kept) => holds({ ...cut, elements: new Set([...cut.elements, ...level.filter((el) => !kept.includes(el)).map((el) => el.id)]) }));
        if (keep.length < level.length) {
          changed = true;
          cut = { ...cut, elements: new Set([...cut.elements, ...level.filter((el) => !keep.includes(el)).map((el) => el.id)]) };
        }
      }
      // Namespace declarations stay: without them a prefixed element is not namespace-well-formed.
      const attrs = live(tree, cut).flatMap((el) => el.attrs.filter(([k]) => k !== 'xmlns' && !k.startsWith('xmlns:') && !el.pinned?.attrs.includes(k)).map(([k]) => `${el.id}@${k}` as AttrRef))
        .filter((a) => !cut.attrs.has(a));
      const keep = await ddmin(attrs, (kept) => holds({ ...cut, attrs: new Set([...cut.attrs, ...attrs.filter((a) => !kept.includes(a))]) }));
      if (keep.length < attrs.length) {
        changed = true;
        cut = { ...cut, attrs: new Set([...cut.attrs, ...attrs.filter((a) => !keep.includes(a))]) };
      }
    }
    const xml = serialize(tree, cut);
    const last = await judge(xml, mode);
    return {
      xml, mode, kind, tests, before: size(tree, none), after: size(tree, cut), cutShort,
      translator: line(last.t), reference: line(last.r), ...(last.diff ? { diff: last.diff } : {}),
    };
  } finally {
    dir.remove();
  }
}
