// The QEMU driver's XML namespace (qemuDomainDefNamespaceParse and friends): elements of
// http://libvirt.org/schemas/domain/qemu/1.0 at domain level, whatever prefix the document
// gives it (libvirt matches by namespace URI). <qemu:commandline> args and environment
// are passed through (libvirt only marks the domain tainted), <qemu:deprecation> becomes
// -compat, <qemu:override> rewrites the -device JSON of the device with that id;
// <qemu:capabilities> is kept in the XML, but what it changes on a command line is not
// implemented.
import { internalError, notImplemented, xmlError } from '../errors.js';
import { propEnum } from '../xml/props.js';
import { elements, escapeXml, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';

export const QEMU_NS_URI = 'http://libvirt.org/schemas/domain/qemu/1.0';

export interface QemuOverrideProperty {
  name: string;
  type: 'string' | 'signed' | 'unsigned' | 'bool' | 'remove';
  value?: string;
}

export interface QemuNsDef {
  args: string[];
  env: { name: string; value?: string }[];
  capsAdd: string[];
  capsDel: string[];
  overrides: { alias: string; frontend: QemuOverrideProperty[] }[];
  deprecation?: string;
}

type Scope = Record<string, string>;

/** The namespace declarations in force inside `e`, given those of its parent. */
function scopeOf(e: XElement, parent: Scope): Scope {
  let out = parent;
  for (const [k, v] of Object.entries(e.attrs)) {
    if (k !== 'xmlns' && !k.startsWith('xmlns:')) continue;
    if (out === parent) out = { ...parent };
    out[k === 'xmlns' ? '' : k.slice(6)] = v;
  }
  return out;
}

/** Children of `e` named `local` in the QEMU namespace, each with its own scope. */
function qemuChildren(e: XElement, scope: Scope, local: string): [XElement, Scope][] {
  const out: [XElement, Scope][] = [];
  for (const c of elements(e)) {
    const s = scopeOf(c, scope);
    const i = c.name.indexOf(':');
    const [prefix, name] = i === -1 ? ['', c.name] : [c.name.slice(0, i), c.name.slice(i + 1)];
    if (name === local && s[prefix] === QEMU_NS_URI) out.push([c, s]);
  }
  return out;
}

/** ./qemu:a/qemu:b: every b under every a. */
const path = (e: XElement, scope: Scope, a: string, b: string) =>
  qemuChildren(e, scope, a).flatMap(([x, s]) => qemuChildren(x, s, b)).map(([y]) => y);

// strtoll / strtoull (base 10) over the whole string, as virStrToLong_ll / _ullp.
const SIGNED = /^[ \t\n\v\f\r]*[+-]?\d+$/;
function inRange(v: string, signed: boolean): boolean {
  if (!SIGNED.test(v)) return false;
  const n = BigInt(v.trim());
  return signed ? n >= -(2n ** 63n) && n < 2n ** 63n : !v.includes('-') && n < 2n ** 64n;
}

function parseProperty(p: XElement): QemuOverrideProperty {
  const name = p.attrs.name;
  if (name === undefined) throw xmlError("missing 'name' attribute for qemu:property");
  if (name === 'id') throw xmlError("property with name 'id' can't be overridden");
  if (p.attrs.type === undefined) throw xmlError(`Missing required attribute 'type' in element '${p.name.slice(p.name.indexOf(':') + 1)}'`);
  const type = propEnumLocal(p, 'type', ['', 'string', 'signed', 'unsigned', 'bool', 'remove'] as const) as QemuOverrideProperty['type'];
  const value = p.attrs.value;
  if (value === undefined && type !== 'remove') throw xmlError("missing 'value' attribute for 'qemu:property'");
  const bad = () => xmlError(`invalid value '${value}' of 'value' attribute of 'qemu:property'`);
  if (type === 'signed' && !inRange(value!, true)) throw bad();
  if (type === 'unsigned' && !inRange(value!, false)) throw bad();
  if (type === 'bool' && value !== 'true' && value !== 'false') throw bad();
  if (type === 'remove' && value !== undefined) throw xmlError("setting 'value' attribute of 'qemu:property' doesn't make sense with 'remove' type");
  return { name, type, ...(value !== undefined ? { value } : {}) };
}

/** libvirt names an element by its local name in messages (node->name). */
function propEnumLocal<T extends string>(e: XElement, attr: string, values: readonly T[]): T {
  const local = { ...e, name: e.name.slice(e.name.indexOf(':') + 1) };
  return propEnum(local, attr, values, { nonZero: true })!;
}

/** Parse the namespace's elements under <domain>; undefined when there is nothing. */
export function parseQemuNs(root: XElement): QemuNsDef | undefined {
  const scope = scopeOf(root, {});
  // Most domains have nothing in the namespace: one look at <domain>'s children settles it.
  const inNs = (c: XElement) => scopeOf(c, scope)[c.name.includes(':') ? c.name.slice(0, c.name.indexOf(':')) : ''] === QEMU_NS_URI;
  if (!elements(root).some(inNs)) return undefined;
  const ns: QemuNsDef = { args: [], env: [], capsAdd: [], capsDel: [], overrides: [] };
  for (const a of path(root, scope, 'commandline', 'arg')) {
    if (a.attrs.value === undefined) throw internalError('No qemu command-line argument specified');
    ns.args.push(a.attrs.value);
  }
  for (const e of path(root, scope, 'commandline', 'env')) {
    const name = e.attrs.name;
    if (name === undefined) throw internalError('No qemu environment name specified');
    if (!/^[A-Za-z_]/.test(name)) throw internalError('Invalid environment name, it must begin with a letter or underscore');
    if (!/^\w*$/.test(name)) throw internalError('Invalid environment name, it must contain only alphanumerics and underscore');
    ns.env.push({ name, ...(e.attrs.value !== undefined ? { value: e.attrs.value } : {}) });
  }
  for (const [d, s] of qemuChildren(root, scope, 'override').flatMap(([o, s]) => qemuChildren(o, s, 'device'))) {
    const alias = d.attrs.alias;
    if (alias === undefined) throw xmlError("missing 'alias' attribute for qemu:device");
    ns.overrides.push({ alias, frontend: path(d, s, 'frontend', 'property').map(parseProperty) });
  }
  for (const [list, local] of [[ns.capsAdd, 'add'], [ns.capsDel, 'del']] as const) {
    for (const c of path(root, scope, 'capabilities', local)) {
      if (c.attrs.capability === undefined) throw internalError('missing capability name');
      list.push(c.attrs.capability);
    }
  }
  const dep = qemuChildren(root, scope, 'deprecation')[0]?.[0].attrs.behavior;
  if (dep) ns.deprecation = dep;
  const empty = !ns.args.length && !ns.env.length && !ns.capsAdd.length && !ns.capsDel.length && !ns.overrides.length && !ns.deprecation;
  return empty ? undefined : ns;
}

/** qemuDomainDefNamespaceFormatXML: each block only when it has content. */
export function formatQemuNs(w: Writer, ns: QemuNsDef): void {
  const attr = (k: string, v: string | undefined) => (v === undefined ? '' : ` ${k}='${escapeXml(v)}'`);
  const block = (name: string, lines: string[]) => {
    if (!lines.length) return;
    w.open(`<${name}>`);
    lines.forEach((l) => w.line(l));
    w.close(`</${name}>`);
  };
  block('qemu:commandline', [
    ...ns.args.map((a) => `<qemu:arg${attr('value', a)}/>`),
    ...ns.env.map((e) => `<qemu:env name='${e.name}'${attr('value', e.value)}/>`),
  ]);
  block('qemu:capabilities', [...ns.capsAdd.map((c) => `<qemu:add${attr('capability', c)}/>`), ...ns.capsDel.map((c) => `<qemu:del${attr('capability', c)}/>`)]);
  if (ns.overrides.length) {
    w.open('<qemu:override>');
    for (const d of ns.overrides) {
      if (!d.frontend.length) {
        w.line(`<qemu:device${attr('alias', d.alias)}/>`);
        continue;
      }
      w.open(`<qemu:device${attr('alias', d.alias)}>`);
      block('qemu:frontend', d.frontend.map((p) => `<qemu:property${attr('name', p.name)} type='${p.type}'${attr('value', p.value)}/>`));
      w.close('</qemu:device>');
    }
    w.close('</qemu:override>');
  }
  if (ns.deprecation !== undefined) w.line(`<qemu:deprecation${attr('behavior', ns.deprecation)}/>`);
}

const BEHAVIORS = ['none', 'omit', 'reject', 'crash'];

/** virCommandAddEnv: a variable already set is replaced where it stands, others are appended. */
export function addEnv(env: [string, string][], extra: [string, string][]): [string, string][] {
  const out = [...env];
  for (const [name, value] of extra) {
    const i = out.findIndex(([n]) => n === name);
    if (i === -1) out.push([name, value]);
    else out[i] = [name, value];
  }
  return out;
}

/** The JSON text libvirt gives an overriding value (numbers as strtoll/strtoull read them). */
function overrideJson(p: QemuOverrideProperty): string | undefined {
  if (p.type === 'remove') return undefined;
  if (p.type === 'string') return JSON.stringify(p.value);
  if (p.type === 'bool') return p.value!;
  return BigInt(p.value!.trim()).toString();
}

/** qemuBuildDeviceCommandlineHandleOverrides: for each -device whose JSON id is an
 *  overridden alias, each property is removed and, unless its type is 'remove', appended
 *  again with the new value. Only -device options libvirt built (call this before the
 *  passthrough arguments are added). */
export function applyDeviceOverrides(args: string[][], ns: QemuNsDef | undefined): void {
  if (!ns?.overrides.length) return;
  for (const item of args) {
    if (item[0] !== '-device' || !item[1]?.startsWith('{')) continue;
    const props = Object.entries(JSON.parse(item[1]) as Record<string, unknown>).map(([k, v]): [string, string] => [k, JSON.stringify(v)]);
    const id = props.find(([k]) => k === 'id')?.[1];
    let changed = false;
    for (const d of ns.overrides) {
      if (id === undefined || id !== JSON.stringify(d.alias)) continue;
      for (const p of d.frontend) {
        const i = props.findIndex(([k]) => k === p.name);
        if (i !== -1) props.splice(i, 1);
        const v = overrideJson(p);
        if (v !== undefined) props.push([p.name, v]);
        changed = true;
      }
    }
    if (changed) item[1] = `{${props.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  }
}

/** The namespace's share of the command line: -compat (after -name), the environment,
 *  and the passthrough arguments (before -sandbox). */
export function qemuNsCommand(ns: QemuNsDef | undefined, compatDeprecated: boolean) {
  if (ns && (ns.capsAdd.length || ns.capsDel.length)) throw notImplemented('<qemu:capabilities> on a command line');
  const b = ns?.deprecation;
  // An unknown behaviour is only logged; without QEMU's -compat it is left out.
  const compat = b && BEHAVIORS.includes(b) && b !== 'none' && compatDeprecated
    ? JSON.stringify({ 'deprecated-output': 'hide', ...(b === 'reject' || b === 'crash' ? { 'deprecated-input': b } : {}) })
    : undefined;
  return { compat, env: (ns?.env ?? []).map((e): [string, string] => [e.name, e.value ?? '']), args: ns?.args ?? [] };
}
