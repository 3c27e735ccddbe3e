// <vlan> (virNetDevVlanParse/Format), <bandwidth> (virNetDevBandwidthParse/Format) and
// <filterref> (virNWFilterParseParamAttributes/Format) of an <interface>: kept in the XML. Neither reaches domxml-to-native's command line (its
// rebuilt interface has none), and libvirt checks them against the interface type only
// when it really starts the domain.
import { notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import { propEnum, propUInt } from '../xml/props.js';
import { elements, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';

export interface Vlan {
  trunk: boolean;
  tags: number[];
  native?: { mode: 'tagged' | 'untagged'; tag: number };
}

/** virNetDevVlanParse */
export function parseVlan(e: XElement): Vlan {
  const tagEls = elements(e, 'tag');
  if (!tagEls.length) throw xmlError("missing tag id - each <vlan> must have at least one <tag id='n'/> subelement");
  const out: Vlan = { trunk: tagEls.length > 1, tags: [] };
  for (const t of tagEls) {
    if (t.attrs.id === undefined) throw xmlError("Missing required attribute 'id' in element 'tag'");
    const id = propUInt(t, 'id')!;
    if (id > 4095) throw xmlError(`vlan tag id ${id} too large (maximum 4095)`);
    out.tags.push(id);
    const mode = propEnum(t, 'nativeMode', ['default', 'tagged', 'untagged'] as const, { nonZero: true });
    if (mode) {
      if (out.native) throw xmlError('duplicate native vlan setting');
      out.native = { mode: mode as 'tagged' | 'untagged', tag: id };
    }
  }
  const trunk = e.attrs.trunk;
  if (trunk !== undefined && trunk !== '') {
    out.trunk = trunk.toLowerCase() === 'yes';
    if (!out.trunk) {
      if (tagEls.length > 1) throw xmlError(`invalid "trunk='${trunk}'" in <vlan> - trunk='yes' is required for more than one vlan tag`);
      if (out.native) throw xmlError('invalid configuration in <vlan> - "trunk=\'no\'" is not allowed with a native vlan id');
      if (trunk.toLowerCase() !== 'no') throw xmlError(`invalid "trunk='${trunk}'" in <vlan> - must be yes or no`);
    }
  }
  return out;
}

export function formatVlan(w: Writer, v: Vlan): void {
  w.open(`<vlan${v.trunk ? " trunk='yes'" : ''}>`);
  for (const id of v.tags) {
    w.line(v.native && v.native.tag === id ? `<tag id='${id}' nativeMode='${v.native.mode}'/>` : `<tag id='${id}'/>`);
  }
  w.close('</vlan>');
}

export interface Rate {
  average: bigint;
  peak: bigint;
  burst: bigint;
  floor: bigint;
}
export interface Bandwidth {
  in?: Rate;
  out?: Rate;
}

const ULL_MAX = 0xffffffffffffffffn;

/** virStrToLong_ullp: a non-negative decimal number of 64 bits */
function ull(raw: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(raw);
  if (!m) return undefined;
  const v = BigInt(m[1]!);
  return v <= ULL_MAX ? v : undefined;
}

function parseRate(e: XElement): Rate {
  const { average, peak, burst, floor } = e.attrs;
  const r: Rate = { average: 0n, peak: 0n, burst: 0n, floor: 0n };
  const conv = (what: string, raw: string) => {
    const v = ull(raw);
    if (v === undefined) throw unsupportedConfig(`could not convert bandwidth ${what} value '${raw}'`);
    return v;
  };
  if (average !== undefined) r.average = conv('average', average);
  else if (floor === undefined) throw new TranslationError('bare', 'Missing mandatory average or floor attributes');
  if ((peak !== undefined || burst !== undefined) && average === undefined) throw unsupportedConfig("'peak' and 'burst' require 'average' attribute");
  if (peak !== undefined) r.peak = conv('peak', peak);
  if (burst !== undefined) r.burst = conv('burst', burst);
  if (floor !== undefined) r.floor = conv('floor', floor);
  return r;
}

/** virNetDevBandwidthParse for a domain's interface (no classID; floor only on a network's inbound) */
export function parseBandwidth(e: XElement, allowFloor: boolean): Bandwidth | undefined {
  if (e.attrs.classID !== undefined) throw new TranslationError('bare', 'classID attribute not supported on <bandwidth> in this usage context');
  const ins = elements(e, 'inbound');
  const outs = elements(e, 'outbound');
  if (ins.length > 1) throw new TranslationError('bare', 'Only one child <inbound> element allowed');
  if (outs.length > 1) throw new TranslationError('bare', 'Only one child <outbound> element allowed');
  const b: Bandwidth = {};
  if (ins[0]) {
    b.in = parseRate(ins[0]);
    if (b.in.floor && !allowFloor) throw unsupportedConfig('floor attribute is not supported for this config');
  }
  if (outs[0]) {
    b.out = parseRate(outs[0]);
    if (b.out.floor) throw unsupportedConfig("'floor' attribute allowed only in <inbound> element");
  }
  return b.in || b.out ? b : undefined;
}

export function formatBandwidth(w: Writer, b: Bandwidth): void {
  w.open('<bandwidth>');
  for (const [name, r] of [['inbound', b.in], ['outbound', b.out]] as const) {
    if (!r || !(r.average || r.floor)) continue;
    const a = (k: string, v: bigint) => (v ? ` ${k}='${v}'` : '');
    w.line(`<${name}${a('average', r.average)}${a('peak', r.peak)}${a('floor', r.floor)}${a('burst', r.burst)}/>`);
  }
  w.close('</bandwidth>');
}

export interface FilterRef {
  filter: string;
  /** parameter name → its values, in the order given */
  params: Map<string, string[]>;
}

/** <filterref filter> with its <parameter>s; parameters with a name or value outside
 *  libvirt's character sets are skipped, as libvirt skips them. Without a filter
 *  libvirt keeps nothing. */
export function parseFilterRef(e: XElement): FilterRef | undefined {
  const filter = e.attrs.filter;
  if (filter === undefined) return undefined;
  // (libvirt writes the name unescaped)
  if (/[&<>'"]/.test(filter)) throw notImplemented(`<filterref filter='${filter}'> with a character XML escapes`);
  const params = new Map<string, string[]>();
  for (const p of elements(e, 'parameter')) {
    const { name, value } = p.attrs;
    if (name === undefined || !/^[A-Za-z0-9_]*$/.test(name) || value === undefined || !/^[A-Za-z0-9_.:]+$/.test(value)) continue;
    params.set(name, [...(params.get(name) ?? []), value]);
  }
  return { filter, params };
}

/** virNWFilterFormatParamAttributes: parameters by name (byte order), each value a line */
export function formatFilterRef(w: Writer, f: FilterRef): void {
  const names = [...f.params.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (!names.length) {
    w.line(`<filterref filter='${f.filter}'/>`);
    return;
  }
  w.open(`<filterref filter='${f.filter}'>`);
  for (const n of names) for (const v of f.params.get(n)!) w.line(`<parameter name='${n}' value='${v}'/>`);
  w.close('</filterref>');
}
