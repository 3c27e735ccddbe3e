// <numatune>: which host NUMA nodes hold the guest's memory (virDomainNumatuneParseXML,
// virDomainNumatuneFormatXML). Guest NUMA cells (<cpu><numa>) are another module's;
// without them a <memnode> is libvirt's error.
import { unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
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

declare module '../model.js' {
  interface DomainDef {
    /** the <numatune><memory> binding, when specified */
    numatune?: NumatuneDef;
  }
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
  if (memnodes.length) {
    if (def.numatune?.placement === 'auto') throw unsupportedConfig('Per-node binding is not compatible with automatic NUMA placement.');
    if (!numaCells) throw xmlError("Element 'memnode' is invalid without any guest NUMA cells");
  }
}

export function formatNumatune(w: Writer, def: DomainDef): void {
  const n = def.numatune;
  if (!n) return;
  w.open('<numatune>');
  w.line(`<memory mode='${n.mode}' ${n.placement === 'static' ? `nodeset='${formatBitmap(n.nodeset!)}'` : "placement='auto'"}/>`);
  w.close('</numatune>');
}
