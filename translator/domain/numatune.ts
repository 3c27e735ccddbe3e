// <numatune>: which host NUMA nodes hold the guest's memory (virDomainNumatuneParseXML,
// virDomainNumatuneFormatXML). Guest NUMA cells (<cpu><numa>) are another module's;
// without them a <memnode> is libvirt's error.
import { unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
import { propEnum, propUInt, required } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { formatBitmap, parseBitmap } from './bitmap.js';

export type NumaMode = 'strict' | 'preferred' | 'interleave' | 'restrictive';
const MODES: NumaMode[] = ['strict', 'preferred', 'interleave', 'restrictive'];

export interface NumatuneDef {
  mode: NumaMode;
  placement: 'static' | 'auto';
  /** host nodes, with placement 'static' */
  nodeset?: number[];
}

/** <memnode>: one guest NUMA cell's binding. */
export interface MemnodeDef { cellid: number; mode: NumaMode; nodeset: number[] }

declare module '../model.js' {
  interface DomainDef {
    /** the <numatune><memory> binding, when specified */
    numatune?: NumatuneDef;
    /** <numatune><memnode>s, by cell id (guest NUMA cells only) */
    memnodes?: MemnodeDef[];
  }
}

/** How many guest NUMA cells (<cpu><numa>, domain/numa.ts) the domain has: the one
 *  place this module asks. */
export function guestNumaCells(def: DomainDef): number {
  return def.numa?.length ?? 0;
}

function nodesetOf(raw: string): number[] {
  const set = parseBitmap(raw);
  if (!set.length) throw unsupportedConfig(`Invalid value of 'nodeset': ${raw}`);
  return set;
}

/** Reads <numatune> once <vcpu> is known; `numaCells` is the guest's cell count. */
export function parseNumatune(domain: XElement, def: DomainDef, numaCells: number): void {
  const all = elements(domain, 'numatune');
  if (all.length > 1) throw xmlError('only one numatune is supported');
  const nt = all[0];
  const mem = nt && child(nt, 'memory');
  const placementStatic = def.vcpu.placement === 'static';
  let mode: NumaMode | undefined;
  let placement: 'default' | 'static' | 'auto' | undefined = !placementStatic && !mem ? 'auto' : undefined;
  let nodeset: number[] | undefined;
  if (mem) {
    const m = mem.attrs.mode;
    if (m !== undefined) {
      if (!MODES.includes(m as NumaMode)) throw unsupportedConfig(`Unsupported NUMA memory tuning mode '${m}'`);
      mode = m as NumaMode;
    }
    const p = mem.attrs.placement;
    if (p !== undefined) {
      if (p !== 'default' && p !== 'static' && p !== 'auto') throw unsupportedConfig(`Unsupported NUMA memory placement mode '${p}'`);
      placement = p;
    }
    if (mem.attrs.nodeset !== undefined) nodeset = nodesetOf(mem.attrs.nodeset);
  }
  // virDomainNumatuneSet
  if (mode !== undefined || placement !== undefined || nodeset) {
    mode ??= 'strict';
    placement ??= 'default';
    if (nodeset && placement === 'default') placement = 'static';
    if (placement === 'default') placement = nodeset || placementStatic ? 'static' : 'auto';
    if (placement === 'static' && !nodeset) throw unsupportedConfig("nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
    def.numatune = { mode, placement, ...(placement === 'static' ? { nodeset } : {}) };
  }
  // virDomainNumatuneNodeParseXML
  const memnodes = nt ? elements(nt, 'memnode') : [];
  if (!memnodes.length) return;
  if (def.numatune?.placement === 'auto') throw unsupportedConfig('Per-node binding is not compatible with automatic NUMA placement.');
  if (!numaCells) throw xmlError("Element 'memnode' is invalid without any guest NUMA cells");
  const cells = new Map<number, MemnodeDef>();
  for (const e of memnodes) {
    required(e, 'cellid');
    const cellid = propUInt(e, 'cellid')!;
    if (cellid >= numaCells) throw xmlError("Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell");
    if (cells.has(cellid)) throw xmlError(`Multiple memnode elements with cellid ${cellid}`);
    const mode = propEnum(e, 'mode', MODES) ?? 'strict';
    if (def.numatune?.mode === 'restrictive' && mode !== 'restrictive') {
      throw xmlError("'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element");
    }
    const raw = e.attrs.nodeset;
    if (raw === undefined) throw xmlError('Missing required nodeset attribute in memnode element');
    cells.set(cellid, { cellid, mode, nodeset: nodesetOf(raw) });
  }
  def.memnodes = [...cells.values()].sort((a, b) => a.cellid - b.cellid);
}

export function formatNumatune(w: Writer, def: DomainDef): void {
  const n = def.numatune;
  const cells = def.memnodes ?? [];
  if (!n && !cells.length) return;
  w.open('<numatune>');
  if (n) w.line(`<memory mode='${n.mode}' ${n.placement === 'static' ? `nodeset='${formatBitmap(n.nodeset!)}'` : "placement='auto'"}/>`);
  for (const c of cells) w.line(`<memnode cellid='${c.cellid}' mode='${c.mode}' nodeset='${formatBitmap(c.nodeset)}'/>`);
  w.close('</numatune>');
}
