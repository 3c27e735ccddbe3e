// `virtgold coverage`: which elements and attributes of libvirt's domain schema the case
// inputs exercise. The RELAX NG grammar (domain.rng and what it includes) is walked from
// <start> through every define it reaches, collecting element and attribute names by
// area: the top-level sections of <domain> (os, cpu, features, …; sections that are a
// single element, such as <name> or <vcpu>, count as "domain") and each device kind
// (devices/disk, devices/hostdev, …). Names are local (qemu:commandline is commandline);
// an attribute is named with its element (source@file). The corpus is keyed the same way.
import { XMLParser } from 'fast-xml-parser';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SetupError } from './errors.js';

interface RNode { tag: string; attrs: Record<string, string>; kids: RNode[]; text: string }

const parser = new XMLParser({
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false,
  trimValues: true, processEntities: true,
});

type PNode = Record<string, unknown> & { ':@'?: Record<string, string> };
const local = (name: string) => name.slice(name.indexOf(':') + 1);

function toTree(nodes: PNode[]): RNode[] {
  const out: RNode[] = [];
  for (const n of nodes) {
    const tag = Object.keys(n).find((k) => k !== ':@')!;
    if (tag === '#text' || tag.startsWith('?')) continue;
    const kids = n[tag] as PNode[];
    out.push({ tag: local(tag), attrs: n[':@'] ?? {}, kids: toTree(kids), text: kids.filter((k) => '#text' in k).map((k) => String(k['#text'])).join('') });
  }
  return out;
}

export interface Grammar { start: RNode[]; defines: Map<string, RNode[]> }

/** The grammar of FILE with its includes (an include's own defines replace the included
 *  file's defines of that name; `combine` joins definitions). */
export function loadGrammar(file: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): Grammar {
  const g: Grammar = { start: [], defines: new Map() };
  const load = (path: string, overridden: Set<string>, seen: Set<string>) => {
    if (seen.has(path)) return;
    seen.add(path);
    let text: string;
    try {
      text = read(path);
    } catch (e) {
      throw new SetupError(`cannot read the schema file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const top = toTree(parser.parse(text) as PNode[]).find((n) => n.tag === 'grammar');
    if (!top) throw new SetupError(`${path} is not a RELAX NG grammar`);
    const visit = (nodes: RNode[]) => {
      for (const n of nodes) {
        if (n.tag === 'div') visit(n.kids);
        else if (n.tag === 'start') g.start.push(...n.kids);
        else if (n.tag === 'define' && !overridden.has(n.attrs.name!)) {
          g.defines.set(n.attrs.name!, [...(g.defines.get(n.attrs.name!) ?? []), { ...n, tag: 'group' }]);
        } else if (n.tag === 'include') {
          const own = n.kids.filter((k) => k.tag === 'define').map((k) => k.attrs.name!);
          load(resolve(dirname(path), n.attrs.href!), new Set([...overridden, ...own]), seen);
          visit(n.kids);
        }
      }
    };
    visit(top.kids);
  };
  load(file, new Set(), new Set());
  return g;
}

/** Per area: element names, and attributes as element@attribute. */
export type Areas = Map<string, { elements: Set<string>; attributes: Set<string> }>;

function add(areas: Areas, area: string, kind: 'elements' | 'attributes', key: string): void {
  let a = areas.get(area);
  if (!a) areas.set(area, (a = { elements: new Set(), attributes: new Set() }));
  a[kind].add(key);
}

/** Where an element sits: below <domain>'s children and below <devices>, areas begin. */
type Level = 'outside' | 'domain' | 'devices' | 'inner';
interface Ctx { level: Level; area: string; parent: string }

function enter(name: string, ctx: Ctx): Ctx {
  if (ctx.level === 'outside') return name === 'domain' ? { level: 'domain', area: 'domain', parent: name } : ctx;
  if (ctx.level === 'domain') return { level: name === 'devices' ? 'devices' : 'inner', area: name, parent: name };
  if (ctx.level === 'devices') return { level: 'inner', area: `devices/${name}`, parent: name };
  return { ...ctx, parent: name };
}

/** The names a name class allows; empty for a wildcard (anyName, nsName). */
function names(n: RNode): { names: string[]; content: RNode[] } {
  if (n.attrs.name) return { names: [local(n.attrs.name)], content: n.kids };
  const [cls, ...content] = n.kids;
  const of = (c: RNode | undefined): string[] => (!c ? [] : c.tag === 'name' ? [local(c.text.trim())] : c.tag === 'choice' ? c.kids.flatMap(of) : []);
  return { names: of(cls), content };
}

/** Every element and attribute the grammar allows in a <domain>, by area. */
export function schemaAreas(g: Grammar): Areas {
  const areas: Areas = new Map();
  const visited = new Set<string>();
  const walk = (nodes: RNode[], ctx: Ctx) => {
    for (const n of nodes) {
      if (n.tag === 'element') {
        const { names: ns, content } = names(n);
        for (const name of ns) {
          const inner = enter(name, ctx);
          if (inner.level !== 'outside') add(areas, inner.area, 'elements', name);
          walk(content, inner);
        }
      } else if (n.tag === 'attribute') {
        if (ctx.level !== 'outside') for (const name of names(n).names) add(areas, ctx.area, 'attributes', `${ctx.parent}@${name}`);
      } else if (n.tag === 'ref') {
        const key = `${n.attrs.name}\0${ctx.level}\0${ctx.area}\0${ctx.parent}`;
        if (visited.has(key)) continue;
        visited.add(key);
        walk(g.defines.get(n.attrs.name!) ?? [], ctx);
      } else if (!['data', 'value', 'text', 'empty', 'notAllowed', 'param', 'except', 'parentRef', 'externalRef', 'name', 'anyName', 'nsName', 'documentation'].includes(n.tag)) {
        walk(n.kids, ctx);
      }
    }
  };
  walk(g.start, { level: 'outside', area: '', parent: '' });
  // A top-level section that is one element and its attributes joins "domain"; a device
  // kind that is one bare element (<emulator>) joins "devices".
  for (const [area, a] of areas) {
    const into = !area.includes('/') ? 'domain' : a.attributes.size ? undefined : 'devices';
    if (area === 'domain' || area === 'devices' || !into || a.elements.size > 1) continue;
    for (const e of a.elements) add(areas, into, 'elements', e);
    for (const e of a.attributes) add(areas, into, 'attributes', e);
    areas.delete(area);
  }
  return areas;
}

/** The elements and attributes a domain document uses, keyed as schemaAreas keys them
 *  (AREAS says which top-level sections are areas of their own). */
export function documentAreas(xml: string, areas: Areas, into: Areas = new Map()): Areas {
  const walk = (nodes: PNode[], ctx: Ctx) => {
    for (const n of nodes) {
      const tag = Object.keys(n).find((k) => k !== ':@')!;
      if (tag === '#text' || tag === '#comment' || tag.startsWith('?')) continue;
      const name = local(tag);
      let inner = enter(name, ctx);
      if (inner.level === 'outside') continue;
      if (!areas.has(inner.area) && (ctx.level === 'domain' || ctx.level === 'devices')) inner = { ...inner, area: ctx.level };
      add(into, inner.area, 'elements', name);
      for (const k of Object.keys(n[':@'] ?? {})) if (k !== 'xmlns' && !k.startsWith('xmlns:')) add(into, inner.area, 'attributes', `${name}@${local(k)}`);
      walk(n[tag] as PNode[], inner);
    }
  };
  walk(parser.parse(xml) as PNode[], { level: 'outside', area: '', parent: '' });
  return into;
}

export interface AreaCoverage {
  area: string;
  elements: { total: number; covered: string[]; uncovered: string[] };
  attributes: { total: number; covered: string[]; uncovered: string[] };
}

/** Schema against corpus, area by area (sorted, "domain" first). */
export function coverageOf(schema: Areas, corpus: Areas): AreaCoverage[] {
  const split = (all: Set<string>, used: Set<string> | undefined) => {
    const sorted = [...all].sort();
    return { total: all.size, covered: sorted.filter((k) => used?.has(k)), uncovered: sorted.filter((k) => !used?.has(k)) };
  };
  return [...schema.keys()].sort((a, b) => (a === 'domain' ? -1 : b === 'domain' ? 1 : a < b ? -1 : a > b ? 1 : 0)).map((area) => ({
    area,
    elements: split(schema.get(area)!.elements, corpus.get(area)?.elements),
    attributes: split(schema.get(area)!.attributes, corpus.get(area)?.attributes),
  }));
}

export const domainGrammar = (dir: string) => join(dir, 'domain.rng');
