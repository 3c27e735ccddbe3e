// Guest NUMA's heterogeneous memory attributes (HMAT): the memory-side caches of a cell
// (<cell><cache>) and the latencies and bandwidths between cells (<interconnects>), as
// libvirt 9.0.0 reads, checks, writes and passes them to QEMU (-numa hmat-lb/hmat-cache).
import { notImplemented, xmlError } from '../errors.js';
import { propEnum, propUInt, required } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { scaledBytes } from './units.js';

const ASSOCIATIVITY = ['none', 'direct', 'full'] as const;
const POLICY = ['none', 'writeback', 'writethrough'] as const;
const ACCESS = ['none', 'access', 'read', 'write'] as const;

export interface NumaCache {
  level: number;
  associativity: (typeof ASSOCIATIVITY)[number];
  policy: (typeof POLICY)[number];
  sizeKiB: number;
  /** bytes */
  line: number;
}

export interface NumaInterconnect {
  type: 'latency' | 'bandwidth';
  initiator: number;
  target: number;
  /** cache level, 0 for the memory itself */
  cache: number;
  accessType: (typeof ACCESS)[number];
  /** nanoseconds for latency, KiB/s for bandwidth */
  value: number;
}

/** virParseScaledValue for `value` read at `where` (its XPath, for messages), with the
 *  unit from `unit`, in bytes. */
function scaled(raw: string | undefined, where: string, unit: string | undefined, scale: number): bigint {
  if (raw === undefined || raw === '') throw xmlError(`missing element or attribute '${where}'`);
  return scaledBytes(raw, where, unit, scale);
}

/** Numbers libvirt prints or compares as 32-bit: larger ones are not modelled. */
function small(n: bigint, what: string): number {
  if (n > 4294967295n) throw notImplemented(`${what} of 2^32 or more`);
  return Number(n);
}

/** virDomainNumaDefNodeCacheParseXML. */
export function parseCellCaches(cell: XElement, id: number): NumaCache[] {
  return elements(cell, 'cache').map((c) => {
    const level = c.attrs.level;
    if (level === undefined) throw xmlError(`Missing 'level' attribute in cache element for NUMA node ${id}`);
    if (!/^\s*\+?\d+$/.test(level) || Number(level) === 0 || Number(level) > 4294967295) {
      throw xmlError(`Invalid 'level' attribute in cache element for NUMA node ${id}`);
    }
    const assoc = c.attrs.associativity;
    if (assoc === undefined) throw xmlError(`Missing 'associativity' attribute in cache element for NUMA node ${id}`);
    if (!ASSOCIATIVITY.includes(assoc as NumaCache['associativity'])) throw xmlError(`Invalid cache associativity '${assoc}'`);
    const policy = c.attrs.policy;
    // (libvirt reports the missing attribute, then overwrites it with this)
    if (!POLICY.includes(policy as NumaCache['policy'])) throw xmlError(`Invalid cache policy '${policy ?? '(null)'}'`);
    // libvirt looks for the units in <unit> elements, not the unit= attributes.
    const size = child(c, 'size');
    const line = child(c, 'line');
    const unitOf = (e: XElement | undefined) => {
      const u = e && child(e, 'unit');
      if (u) throw notImplemented('a <unit> element inside a NUMA cache <size> or <line>');
      return undefined;
    };
    const sizeBytes = scaled(size?.attrs.value, './size/@value', unitOf(size), 1024);
    const sizeKiB = (sizeBytes + 1023n) / 1024n;
    return {
      level: Number(level.trim()),
      associativity: assoc as NumaCache['associativity'],
      policy: policy as NumaCache['policy'],
      sizeKiB: small(sizeKiB, 'a NUMA cache size in KiB'),
      line: small(scaled(line?.attrs.value, './line/@value', unitOf(line), 1), 'a NUMA cache line size'),
    };
  });
}

/** The <interconnects> part of virDomainNumaDefParseXML. */
export function parseInterconnects(numa: XElement): NumaInterconnect[] {
  const inter = child(numa, 'interconnects');
  if (!inter) return [];
  return elements(inter).filter((e) => e.name === 'latency' || e.name === 'bandwidth').map((e) => {
    let value: number;
    if (e.name === 'latency') {
      required(e, 'value');
      const v = e.attrs.value!;
      if (!/^\d+$/.test(v) || BigInt(v) > 2n ** 64n - 1n) {
        throw xmlError(`Invalid value for attribute 'value' in element 'latency': '${v}'. Expected non-negative integer value`);
      }
      value = small(BigInt(v), 'a NUMA latency');
    } else {
      const bytes = scaled(e.attrs.value, './@value', e.attrs.unit, 1024);
      value = small((bytes + 1023n) / 1024n, 'a NUMA bandwidth in KiB');
    }
    required(e, 'initiator');
    const initiator = propUInt(e, 'initiator')!;
    required(e, 'target');
    const target = propUInt(e, 'target')!;
    const cache = propUInt(e, 'cache') ?? 0;
    required(e, 'type');
    const accessType = propEnum(e, 'type', ACCESS, { nonZero: true })!;
    return { type: e.name as NumaInterconnect['type'], initiator, target, cache, accessType, value };
  });
}

interface HmatCell {
  cpus?: number[];
  caches?: NumaCache[];
}

/** virDomainNumaDefValidate. */
export function validateHmat(cells: HmatCell[], links: NumaInterconnect[]): void {
  for (const c of cells) {
    const seen = new Set<number>();
    for (const cache of c.caches ?? []) {
      if (cache.level > 3) throw xmlError("Ain't nobody heard of that much cache level");
      if (seen.has(cache.level)) throw xmlError(`Cache level '${cache.level}' already defined`);
      seen.add(cache.level);
    }
  }
  links.forEach((l, i) => {
    if (l.initiator >= cells.length) throw xmlError("'initiator' refers to a non-existent NUMA node");
    if (l.target >= cells.length) throw xmlError("'target' refers to a non-existent NUMA node");
    if (!cells[l.initiator]!.cpus) throw xmlError("NUMA nodes without CPUs can't be initiator");
    if (l.cache > 0 && !(cells[l.target]!.caches ?? []).some((c) => c.level === l.cache)) {
      throw xmlError("'cache' refers to a non-existent NUMA node cache");
    }
    for (const ll of links.slice(0, i)) {
      if (l.type === ll.type && l.initiator === ll.initiator && l.target === ll.target && l.cache === ll.cache && l.accessType === ll.accessType) {
        throw xmlError('Duplicate info for NUMA latencies');
      }
      if (l.initiator !== l.target && l.initiator === ll.target && l.target === ll.initiator) throw xmlError('Link already defined');
    }
  });
}

export const hasHmat = (cells: HmatCell[] | undefined, links: NumaInterconnect[] | undefined): boolean =>
  !!links?.length || !!cells?.some((c) => c.caches?.length);

/** virNumaCacheFormat, inside a <cell>. */
export function formatCaches(w: Writer, caches: NumaCache[]): void {
  for (const c of caches) {
    w.open(`<cache level='${c.level}'${c.associativity !== 'none' ? ` associativity='${c.associativity}'` : ''}${c.policy !== 'none' ? ` policy='${c.policy}'` : ''}>`);
    w.line(`<size value='${c.sizeKiB}' unit='KiB'/>`);
    if (c.line) w.line(`<line value='${c.line}' unit='B'/>`);
    w.close('</cache>');
  }
}

/** virNumaInterconnectFormat, after the cells. */
export function formatInterconnects(w: Writer, links: NumaInterconnect[]): void {
  if (!links.length) return;
  w.open('<interconnects>');
  for (const l of links) {
    w.line(`<${l.type} initiator='${l.initiator}' target='${l.target}'${l.cache > 0 ? ` cache='${l.cache}'` : ''} type='${l.accessType}' value='${l.value}'${l.type === 'bandwidth' ? " unit='KiB'" : ''}/>`);
  }
  w.close('</interconnects>');
}

/** virDomainNumaGetNodeInitiator: a cell with vCPUs, else the best-connected initiator. */
export function initiatorOf(cells: HmatCell[], links: NumaInterconnect[], node: number): number {
  if (cells[node]?.cpus) return node;
  let minLatency = 4294967295;
  let byLatency = -1;
  let maxBandwidth = 0;
  let byBandwidth = -1;
  for (const l of links) {
    if (l.target !== node) continue;
    if (l.type === 'latency' && l.value < minLatency) [minLatency, byLatency] = [l.value, l.initiator];
    if (l.type === 'bandwidth' && l.value > maxBandwidth) [maxBandwidth, byBandwidth] = [l.value, l.initiator];
  }
  return byLatency >= 0 ? byLatency : byBandwidth;
}

const HIERARCHY = ['memory', 'first-level', 'second-level', 'third-level'];
const QEMU_ASSOCIATIVITY = { none: 'none', direct: 'direct', full: 'complex' } as const;
const QEMU_POLICY = { none: 'none', writeback: 'write-back', writethrough: 'write-through' } as const;

/** qemuBuildNumaHMATCommandLine then each cell's qemuBuildNumaCellCache. */
export function hmatArgs(cells: HmatCell[], links: NumaInterconnect[]): string[][] {
  const args: string[][] = [];
  for (const l of links) {
    const data = l.type === 'latency' ? `latency,latency=${l.value}` : `bandwidth,bandwidth=${l.value}K`;
    args.push(['-numa', `hmat-lb,initiator=${l.initiator},target=${l.target},hierarchy=${HIERARCHY[l.cache]},data-type=${l.accessType}-${data}`]);
  }
  cells.forEach((c, i) => {
    for (const cache of c.caches ?? []) {
      const line = cache.line > 0 ? `,line=${cache.line}` : '';
      args.push(['-numa', `hmat-cache,node-id=${i},size=${cache.sizeKiB}K,level=${cache.level},associativity=${QEMU_ASSOCIATIVITY[cache.associativity]},policy=${QEMU_POLICY[cache.policy]}${line}`]);
    }
  });
  return args;
}
