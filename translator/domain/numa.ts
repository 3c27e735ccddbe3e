// Guest NUMA (<cpu><numa>; <numatune> is numatune.ts's): cells with their
// vCPUs, memory, memAccess, discard and distances, read as virDomainNumaDefParseXML
// does, completed in post-parse (vCPUs left over go to cell 0, the domain's memory is
// the cells' sum), written back inside <cpu>, and turned into -numa / memory-backend
// options (qemuBuildNumaCommandLine; each cell's backend is memory.ts's, which applies
// <memoryBacking> and <numatune>), with HMAT (hmat.ts).
import type { MachineType, QemuCaps } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
import { propEnum, propUInt, propYesNo } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { roundedKiB, scaledBytes } from './units.js';
import { CPUMASK_LEN, formatBitmap, parseBitmap } from './bitmap.js';
import { checkNumatuneNodes, memoryBackendProps, memPathArgs } from './memory.js';
import { formatCaches, formatInterconnects, hasHmat, hmatArgs, initiatorOf, parseCellCaches, parseInterconnects, validateHmat, type NumaCache, type NumaInterconnect } from './hmat.js';

export interface NumaCell {
  /** vCPU ids, ascending; undefined when the cell has none */
  cpus?: number[];
  memKiB: number;
  memAccess?: 'shared' | 'private';
  discard?: 'yes' | 'no';
  /** distance to each cell by id, 0 where none is set; undefined without <distances> */
  distances?: number[];
  /** memory-side caches (HMAT) */
  caches?: NumaCache[];
}

declare module '../model.js' {
  interface DomainDef {
    /** guest NUMA cells, by id; absent without <numa> */
    numa?: NumaCell[];
    /** latencies and bandwidths between the cells (HMAT) */
    numaInterconnects?: NumaInterconnect[];
  }
}

const LOCAL_DISTANCE = 10;
const REMOTE_DISTANCE = 20;
const UNREACHABLE = 255;

/** virDomainParseMemory for a cell's memory= and unit= (KiB, rounded up). */
function cellMemory(cell: XElement): number {
  const raw = cell.attrs.memory;
  if (raw === undefined || raw === '') throw xmlError("missing element or attribute './@memory'");
  return roundedKiB(scaledBytes(raw, './@memory', cell.attrs.unit, 1024), 'NUMA cell memory');
}

/** virDomainNumaDefParseXML plus the <vcpu> checks that follow it. */
export function parseNuma(domain: XElement, vcpuMax: number):
  { cells: NumaCell[]; interconnects: NumaInterconnect[] } | undefined {
  const numa = child(domain, 'cpu') && child(child(domain, 'cpu')!, 'numa');
  if (!numa) return undefined;
  const cellEls = elements(numa, 'cell');
  const n = cellEls.length;
  if (n === 0) throw xmlError('NUMA topology defined without NUMA cells');
  const cells: (NumaCell | undefined)[] = new Array(n).fill(undefined);
  cellEls.forEach((el, i) => {
    const id = propUInt(el, 'id') ?? i;
    if (id >= n) {
      throw xmlError("Exactly one 'cell' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed");
    }
    if (cells[id]?.memKiB) throw xmlError(`Duplicate NUMA cell info for cell id '${id}'`);
    const prior = cells[id]; // only distances another cell gave it, or a cell of no memory
    const cell: NumaCell = { memKiB: 0, ...(prior?.distances ? { distances: prior.distances } : {}) };
    cells[id] = cell;
    if (el.attrs.cpus !== undefined) {
      const ids = parseBitmap(el.attrs.cpus, CPUMASK_LEN);
      if (ids.length) cell.cpus = ids;
    }
    for (let j = 0; j < n; j++) {
      const other = cells[j]?.cpus;
      if (j === id || !other || !cell.cpus) continue;
      if (cell.cpus.some((c) => other.includes(c))) throw unsupportedConfig(`NUMA cells ${id} and ${j} have overlapping vCPU ids`);
    }
    cell.memKiB = cellMemory(el);
    const access = propEnum(el, 'memAccess', ['default', 'shared', 'private'] as const, { nonZero: true });
    if (access) cell.memAccess = access as 'shared' | 'private';
    const discard = propYesNo(el, 'discard');
    if (discard) cell.discard = discard;
    parseDistances(el, id, cells, n);
    const caches = parseCellCaches(el, id);
    if (caches.length) cell.caches = caches;
  });
  const interconnects = parseInterconnects(numa);

  const list = cells.map((c) => c ?? { memKiB: 0 });
  const all = list.flatMap((c) => c.cpus ?? []);
  if (all.length > vcpuMax) throw internalError('Number of CPUs in <numa> exceeds the <vcpu> count');
  if (Math.max(0, ...all) >= vcpuMax) cpuIdsExceed();
  return { cells: list, interconnects };
}

/** virDomainNumaDefValidate (when the domain is defined). */
export function validateNuma(def: DomainDef): void {
  if (def.numa) validateHmat(def.numa, def.numaInterconnects ?? []);
}

/** Whether the guest NUMA has HMAT data (virDomainNumaHasHMAT). */
export const numaHasHmat = (def: DomainDef): boolean => hasHmat(def.numa, def.numaInterconnects);

function cpuIdsExceed(): never {
  throw internalError('CPU IDs in <numa> exceed the <vcpu> count');
}

/** virDomainNumaDefNodeDistanceParseXML: explicit distances, mirrored where unset.
 *  On any error in <distances> libvirt 9.0.0 writes past the end of its cell array when
 *  it cleans up, and may abort (its test harness does): refused, never claimed. */
function parseDistances(el: XElement, id: number, cells: (NumaCell | undefined)[], n: number): void {
  const d = child(el, 'distances');
  if (!d) return;
  const bad = () => notImplemented("an invalid NUMA <distances> (libvirt 9.0.0 may crash on it)");
  const siblings = elements(d, 'sibling');
  if (!siblings.length) throw bad();
  const table = (cellId: number): number[] => {
    const c = (cells[cellId] ??= { memKiB: 0 });
    if (!c.distances) {
      c.distances = new Array(n).fill(0);
      c.distances[cellId] = LOCAL_DISTANCE;
    }
    return c.distances;
  };
  for (const s of siblings) {
    const uint = (name: string) => (/^\d+$/.test(s.attrs[name] ?? '') && Number(s.attrs[name]) <= 4294967295 ? Number(s.attrs[name]) : undefined);
    const sid = uint('id');
    if (sid === undefined || sid >= n) throw bad();
    const value = uint('value');
    if (value === undefined || value < LOCAL_DISTANCE || value > UNREACHABLE || (sid === id) !== (value === LOCAL_DISTANCE)) throw bad();
    table(id)[sid] = value;
    const back = table(sid);
    if (!back[id]) back[id] = value;
  }
}

/** qemuDomainDefNumaCPUsRectify: vCPUs no cell names go to cell 0. */
export function numaPostParse(def: DomainDef): void {
  const cells = def.numa;
  if (!cells) return;
  const max = def.vcpu.max;
  if (cells.flatMap((c) => c.cpus ?? []).length >= max) return;
  const others = new Set(cells.slice(1).flatMap((c) => c.cpus ?? []));
  cells[0]!.cpus = [...Array(max).keys()].filter((i) => !others.has(i));
  if (!cells[0]!.cpus.length) delete cells[0]!.cpus;
}

/** The memory the cells add up to (virDomainNumaGetMemorySize), 0 without NUMA. */
export function numaMemoryKiB(def: DomainDef): number {
  const sum = (def.numa ?? []).reduce((s, c) => s + BigInt(c.memKiB), 0n);
  // libvirt adds them in 64 bits; a Number would round the sum
  if (sum > BigInt(Number.MAX_SAFE_INTEGER)) throw notImplemented('NUMA cells adding up to more than 2^53 KiB');
  return Number(sum);
}

/** virDomainNumaDefFormatXML, inside <cpu>. */
export function formatNuma(w: Writer, cells: NumaCell[], links: NumaInterconnect[] = []): void {
  w.open('<numa>');
  cells.forEach((c, i) => {
    let head = `cell id='${i}'`;
    if (c.cpus) head += ` cpus='${formatBitmap(c.cpus)}'`;
    head += ` memory='${c.memKiB}' unit='KiB'`;
    if (c.memAccess) head += ` memAccess='${c.memAccess}'`;
    if (c.discard) head += ` discard='${c.discard}'`;
    const sib = (c.distances ?? []).map((v, j) => [j, v] as const).filter(([, v]) => v !== 0);
    w.element(head, 'cell', sib.length || c.caches ? () => {
      if (sib.length) {
        w.open('<distances>');
        for (const [j, v] of sib) w.line(`<sibling id='${j}' value='${v}'/>`);
        w.close('</distances>');
      }
      if (c.caches) formatCaches(w, c.caches);
    } : undefined);
  });
  formatInterconnects(w, links);
  w.close('</numa>');
}

/** Each cell's memory as QEMU gets it: rounded up to whole MiB (qemuDomainAlignMemorySizes). */
export const alignedCellKiB = (c: NumaCell): number => Math.ceil(c.memKiB / 1024) * 1024;

/** qemuBuildNumaCommandLine: each cell's memory backend (qemuBuildMemoryCellBackendProps,
 *  which applies <memoryBacking> and the cell's memAccess/discard) and -numa options. */
export function numaArgs(def: DomainDef, caps: QemuCaps, machine: MachineType, shortName: string): string[][] {
  const cells = def.numa ?? [];
  const args: string[][] = [];
  checkNumatuneNodes(def, caps, cells.length);
  const backends = cells.map((c, i) =>
    memoryBackendProps({
      def, caps, alias: `ram-node${i}`, sizeKiB: alignedCellKiB(c), targetNode: i, shortName,
      ...(c.memAccess ? { cellAccess: c.memAccess } : {}),
      ...(c.discard ? { cellDiscard: c.discard } : {}),
    }));
  const links = def.numaInterconnects ?? [];
  const hmat = hasHmat(cells, links);
  const needBackend = !machine.numaMemSupported || hmat || backends.some((b) => b.needed);
  // Without backends the cells' RAM comes from -mem-path, as a guest without NUMA.
  if (!needBackend) args.push(...memPathArgs(def, caps, shortName));
  const master = cells.findIndex((c) => c.cpus);
  if (master < 0) throw unsupportedConfig('At least one NUMA node has to have CPUs');
  cells.forEach((c, i) => {
    const b = backends[i]!;
    if (needBackend && b.threadContext) args.push(['-object', b.threadContext]);
    if (needBackend) args.push(['-object', b.json]);
    const cpus = c.cpus ? formatBitmap(c.cpus).split(',').map((r) => `,cpus=${r}`).join('') : '';
    const initiator = hmat ? `,initiator=${((n) => (n < 0 ? master : n))(initiatorOf(cells, links, i))}` : '';
    args.push(['-numa', `node,nodeid=${i}${cpus}${initiator}${needBackend ? `,memdev=ram-node${i}` : `,mem=${alignedCellKiB(c) / 1024}`}`]);
  });
  const dist = (i: number, j: number) => cells[i]?.distances?.[j] || (i === j ? LOCAL_DISTANCE : REMOTE_DISTANCE);
  const set = cells.some((c) => c.distances?.some((v) => v !== LOCAL_DISTANCE && v !== REMOTE_DISTANCE));
  if (set) for (let i = 0; i < cells.length; i++) for (let j = 0; j < cells.length; j++) args.push(['-numa', `dist,src=${i},dst=${j},val=${dist(i, j)}`]);
  if (hmat) args.push(...hmatArgs(cells, links));
  return args;
}
