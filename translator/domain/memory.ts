// Guest memory at domain level: <memory>, <currentMemory>, <maxMemory> and
// <memoryBacking> (virDomainDefParseMemory, virDomainDefPostParseMemory, the qemu
// driver's checks, virDomainMemorybackingFormat), and the memory backend objects
// (qemuBuildMemoryBackendProps): the default RAM's of a guest without NUMA cells
// (qemuBuildMemCommandLine), or each cell's (numa.ts), bound to host NUMA nodes as
// <numatune> says (the snapshot's host facts name the nodes that exist).
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
import { propOnOff } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import { type Writer } from '../xml/writer.js';
import { formatBitmap, parseBitmap } from './bitmap.js';
import { defaultHugepageKiB, hugepageMemPath } from './hugetlbfs.js';
import { guestNumaCells } from './numatune.js';
import { parseMemory, parseScaledKiB } from './units.js';

/** VIR_ERR_XML_DETAIL: virsh prints its message bare. */
const detail = (msg: string) => new TranslationError('bare', msg);

/** The host's ordinary page size on x86_64 and s390x: a "huge" page of this size is none. */
const SYSTEM_PAGE_KIB = 4n;

export interface HugePage { sizeKiB: bigint; nodeset?: number[] }

export interface MemoryBackingDef {
  /** <hugepages>: its pages ([{sizeKiB: 0n}] for <hugepages/> without <page>) */
  hugepages?: HugePage[];
  nosharepages: boolean;
  locked: boolean;
  source?: 'file' | 'anonymous' | 'memfd';
  access?: 'shared' | 'private';
  allocation?: 'immediate' | 'ondemand';
  allocationThreads?: number;
  discard: boolean;
}

declare module '../model.js' {
  interface DomainDef {
    /** <maxMemory>: KiB and slot count (libvirt needs both, post-parse checks) */
    maxMemory?: { kib: number; slots: number };
    memoryBacking: MemoryBackingDef;
  }
}

function enumAt<T extends string>(el: XElement | undefined, attr: string, values: readonly T[], what: string): T | undefined {
  const v = el?.attrs[attr];
  if (v === undefined || v === '') return undefined;
  if (!values.includes(v as T)) throw unsupportedConfig(`unknown memoryBacking/${what} '${v}'`);
  return v as T;
}

function parseBacking(domain: XElement): MemoryBackingDef {
  const mb = child(domain, 'memoryBacking');
  const out: MemoryBackingDef = { nosharepages: false, locked: false, discard: false };
  if (!mb) return out;
  const source = enumAt(child(mb, 'source'), 'type', ['file', 'anonymous', 'memfd'] as const, 'source/type');
  if (source) out.source = source;
  const access = enumAt(child(mb, 'access'), 'mode', ['shared', 'private'] as const, 'access/mode');
  if (access) out.access = access;
  const alloc = child(mb, 'allocation');
  const mode = enumAt(alloc, 'mode', ['immediate', 'ondemand'] as const, 'allocation/mode');
  if (mode) out.allocation = mode;
  const threads = alloc?.attrs.threads;
  if (threads !== undefined && threads !== '') {
    const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(threads);
    if (!m || Number(m[1]) > 4294967295) throw xmlError('Failed to parse memory allocation threads');
    if (Number(m[1]) > 0) out.allocationThreads = Number(m[1]);
  }
  const hp = child(mb, 'hugepages');
  if (hp) {
    const pages = elements(hp, 'page');
    out.hugepages = pages.length ? pages.map(parsePage) : [{ sizeKiB: 0n }];
  }
  out.nosharepages = child(mb, 'nosharepages') !== undefined;
  out.locked = child(mb, 'locked') !== undefined;
  out.discard = child(mb, 'discard') !== undefined;
  return out;
}

/** virDomainHugepagesParseXML */
function parsePage(page: XElement): HugePage {
  const raw = page.attrs.size;
  if (raw === undefined || raw === '') throw xmlError("missing element or attribute './@size'");
  const wrap: XElement = { name: 'page', attrs: {}, children: [{ name: 'size', attrs: page.attrs.unit !== undefined ? { unit: page.attrs.unit } : {}, children: [raw] }] };
  const kib = parseScaledKiB(wrap, 'size', './@size', 2n ** 63n - 1n)!;
  if (kib >= 2n ** 53n) throw new TranslationError('bare', 'numerical overflow: size value too large');
  if (kib === 0n) throw detail("hugepage size can't be zero");
  const out: HugePage = { sizeKiB: kib };
  if (page.attrs.nodeset !== undefined) {
    const set = parseBitmap(page.attrs.nodeset);
    if (!set.length) throw unsupportedConfig(`Invalid value of 'nodeset': ${page.attrs.nodeset}`);
    out.nodeset = set;
  }
  return out;
}

/** virDomainDefParseMemory: sizes first, then <memoryBacking>. */
export function parseMemoryLevel(domain: XElement, def: DomainDef): void {
  // A missing or zero size is refused in post-parse, as libvirt does.
  const mem = parseMemory(domain, 'memory');
  def.memory.totalKiB = mem?.kib ?? 0;
  const cur = parseMemory(domain, 'currentMemory');
  if (cur) def.memory.currentKiB = cur.kib;
  const max = parseMemory(domain, 'maxMemory');
  const slotsRaw = child(domain, 'maxMemory')?.attrs.slots;
  let slots = 0;
  if (slotsRaw !== undefined && slotsRaw !== '') {
    const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(slotsRaw);
    if (!m || Number(m[1]) > 4294967295) throw xmlError('Failed to parse memory slot count');
    slots = Number(m[1]);
  }
  if ((max && max.kib) || slots) def.maxMemory = { kib: max?.kib ?? 0, slots };
  const dumpCore = mem && propOnOff(mem.el, 'dumpCore');
  if (dumpCore) def.memory.dumpCore = dumpCore;
  def.memoryBacking = parseBacking(domain);
}

/** The memory part of virDomainDefPostParseCommon: after the sizes, hugepage node sets
 *  of a guest without NUMA cells that name only node 0 are dropped. */
export function postParseMaxMemory(def: DomainDef): void {
  const mm = def.maxMemory;
  if (mm && !(mm.kib && mm.slots)) throw xmlError('both maximum memory size and memory slot count must be specified');
  if (mm && mm.kib < def.memory.totalKiB) throw xmlError('maximum memory size must be equal or greater than the actual memory size');
}

export function postParseMemtune(def: DomainDef, numaCells: number): void {
  if (numaCells) return;
  for (const p of def.memoryBacking.hugepages ?? []) if (p.nodeset && !p.nodeset.some((n) => n > 0)) delete p.nodeset;
}

/** virDomainDefMemtuneValidate (hugepage node sets). libvirt reports these as XML_DETAIL. */
export function validateHugepages(def: DomainDef, numaCells: number): void {
  const pages = def.memoryBacking.hugepages ?? [];
  pages.forEach((p, i) => {
    for (let j = 0; j < i; j++) {
      const q = pages[j]!;
      if (p.nodeset && q.nodeset && p.nodeset.some((n) => q.nodeset!.includes(n))) {
        throw detail(`nodeset attribute of hugepages of sizes ${p.sizeKiB} and ${q.sizeKiB} intersect`);
      } else if (!p.nodeset && !q.nodeset) {
        throw detail(`two master hugepages detected: ${p.sizeKiB} and ${q.sizeKiB}`);
      }
    }
    const beyond = p.nodeset?.find((n) => n >= numaCells);
    if (beyond !== undefined) throw detail(`hugepages: node ${beyond} not found`);
  });
}

/** virMemoryMaxValue on a 64-bit host (LLONG_MAX bytes), in KiB. */
const MAX_MEMORY_KIB = (2n ** 63n - 1n) >> 10n;
const alignUp = (kib: number | bigint) => ((BigInt(kib) + 1023n) / 1024n) * 1024n;

/** The checks of qemuDomainAlignMemorySizes, late in preparing a start: rounded up to a
 *  whole MiB, no size may pass libvirt's maximum (`cells`: the guest NUMA cells' sizes). */
export function checkAlignedSizes(def: DomainDef, cells: number[]): void {
  let initial = 0n;
  cells.forEach((kib, i) => {
    const mem = alignUp(kib);
    initial += mem;
    if (mem > MAX_MEMORY_KIB) throw unsupportedConfig(`memory size of NUMA node '${i}' overflowed after alignment`);
  });
  if (initial === 0n) initial = alignUp(def.memory.totalKiB);
  if (initial > MAX_MEMORY_KIB) throw unsupportedConfig('initial memory size overflowed after alignment');
  if (alignUp(def.maxMemory?.kib ?? 0) > MAX_MEMORY_KIB) throw unsupportedConfig('maximum memory size overflowed after alignment');
}

/** qemuValidateDomainDefMemory */
export function validateBacking(def: DomainDef, caps: QemuCaps, defaultRAMid: string | undefined, numaCells: number): void {
  const mb = def.memoryBacking;
  const pages = mb.hugepages;
  if (!pages) return;
  if (mb.allocation === 'ondemand') throw unsupportedConfig('hugepages are not allowed with memory allocation ondemand');
  if (mb.allocationThreads && !hasFlag(caps, 'memory-backend-file.prealloc-threads')) throw unsupportedConfig('preallocation threads are unsupported with this QEMU');
  if (mb.source === 'anonymous') throw unsupportedConfig('hugepages are not allowed with anonymous memory source');
  if (mb.source === 'memfd' && !hasFlag(caps, 'memory-backend-memfd.hugetlb')) throw unsupportedConfig('hugepages is not supported with memfd memory source');
  if (!defaultRAMid && pages[0]!.sizeKiB !== SYSTEM_PAGE_KIB && !numaCells && mb.access === 'shared') {
    throw unsupportedConfig("memory access mode 'shared' not supported without guest numa node");
  }
}

export function formatMemoryBacking(w: Writer, def: DomainDef): void {
  const mb = def.memoryBacking;
  const lines: string[] = [];
  const pages = mb.hugepages;
  if (pages) {
    if (pages.length !== 1 || pages[0]!.sizeKiB !== 0n) {
      lines.push('<hugepages>');
      for (const p of pages) lines.push(`  <page size='${p.sizeKiB}' unit='KiB'${p.nodeset ? ` nodeset='${formatBitmap(p.nodeset)}'` : ''}/>`);
      lines.push('</hugepages>');
    } else {
      lines.push('<hugepages/>');
    }
  }
  if (mb.nosharepages) lines.push('<nosharepages/>');
  if (mb.locked) lines.push('<locked/>');
  if (mb.source) lines.push(`<source type='${mb.source}'/>`);
  if (mb.access) lines.push(`<access mode='${mb.access}'/>`);
  if (mb.allocation || mb.allocationThreads) {
    lines.push(`<allocation${mb.allocation ? ` mode='${mb.allocation}'` : ''}${mb.allocationThreads ? ` threads='${mb.allocationThreads}'` : ''}/>`);
  }
  if (mb.discard) lines.push('<discard/>');
  if (!lines.length) return;
  w.open('<memoryBacking>');
  for (const l of lines) w.line(l);
  w.close('</memoryBacking>');
}

export function formatMaxMemory(w: Writer, def: DomainDef): void {
  if (def.maxMemory) w.line(`<maxMemory slots='${def.maxMemory.slots}' unit='KiB'>${def.maxMemory.kib}</maxMemory>`);
}

/** The huge page size of the RAM of `targetNode` (-1: the whole guest) in KiB, 0 for
 *  none (qemuBuildMemoryGetPagesize): the page whose nodeset names the cell, else the
 *  one without a nodeset; a <page> of the system's size is no huge page, and
 *  <hugepages/> alone means the host's default size. */
function hugepageKiB(def: DomainDef, caps: QemuCaps, targetNode: number): number {
  const pages = def.memoryBacking.hugepages ?? [];
  const page = (targetNode >= 0 ? pages.find((p) => p.nodeset?.includes(targetNode)) : undefined) ?? pages.find((p) => !p.nodeset);
  if (!page || page.sizeKiB === SYSTEM_PAGE_KIB) return 0;
  return page.sizeKiB === 0n ? defaultHugepageKiB(caps.hugetlbfs) : Number(page.sizeKiB);
}

/** The -machine options of the memory settings (qemuAppendDomainMemoryMachineParams). */
export function machineMemoryOpts(def: DomainDef): string[] {
  return def.memoryBacking.nosharepages ? ['mem-merge=off'] : [];
}

/** The directory of the domain's file-backed memory (qemuGetMemoryBackingDomainPath,
 *  with qemu.conf's default memory_backing_dir). */
const memoryDir = (shortName: string) => `/var/lib/libvirt/qemu/ram/-1-${shortName}`;

export interface BackendInput {
  def: DomainDef;
  caps: QemuCaps;
  /** the object id: the machine's default RAM id, or ram-nodeN of a guest NUMA cell */
  alias: string;
  sizeKiB: number;
  /** the guest NUMA cell, -1 for the whole guest's RAM */
  targetNode: number;
  /** the domain's short name, as in its directories */
  shortName: string;
  /** the cell's own memAccess/discard (<numa><cell>), or a memory device's (then its
   *  cell's), which take precedence */
  cellAccess?: 'shared' | 'private';
  cellDiscard?: 'yes' | 'no';
  /** a <memory> device's own backend settings (devices/memory-device.ts) */
  device?: DeviceBackend;
}

/** What a memory device adds to its backend (qemuBuildMemoryDimmBackendStr): libvirt
 *  forces a backend object for it, and it is never the system RAM. */
export interface DeviceBackend {
  model: 'dimm' | 'nvdimm' | 'virtio-pmem' | 'virtio-mem' | 'sgx-epc';
  /** <source><pagesize>, KiB; 0 when none */
  pagesizeKiB: number;
  /** <source><path> of an NVDIMM or virtio-pmem */
  path?: string;
  pmem: boolean;
  /** <source><alignsize>, KiB; 0 when none */
  alignKiB: number;
  /** <source><nodemask> */
  sourceNodes?: number[];
  /** the device's alias, which names its file under the memory backing directory */
  pathAlias: string;
}

/** The memory-backend-* object of a guest's RAM or of one NUMA cell
 *  (qemuBuildMemoryBackendProps), keys in libvirt's order; the size is written from a
 *  BigInt so every digit is exact.
 *  Also whether the configuration needs one at all (libvirt's 0 rather than 1: a guest
 *  NUMA cell that needs none may use -numa mem=) and the thread-context object that
 *  goes before it. */
export function memoryBackendProps(o: BackendInput): { json: string; needed: boolean; threadContext?: string } {
  const { def, caps, alias, targetNode } = o;
  const mb = def.memoryBacking;
  const access = o.cellAccess ?? mb.access;
  // a tristate: a cell's discard='no' is written as false
  const discard = o.cellDiscard ?? (mb.discard ? 'yes' : undefined);
  const cell = def.memnodes?.find((m) => m.cellid === targetNode);
  const dev = o.device;
  // qemuBuildMemoryGetPagesize: a device's own page size, else the domain's for the cell
  const huge = dev?.pagesizeKiB ? (BigInt(dev.pagesizeKiB) === SYSTEM_PAGE_KIB ? 0 : dev.pagesizeKiB) : hugepageKiB(def, caps, targetNode);
  const system = targetNode < 0 && !dev;
  const parts: string[] = [];
  let type = 'memory-backend-ram';
  const share = access ? [`"share":${access === 'shared'}`] : [];
  const canon = system && hasFlag(caps, 'memory-backend-file.x-use-canonical-path-for-ramblock-id') ? ['"x-use-canonical-path-for-ramblock-id":false'] : [];
  if (dev?.model === 'sgx-epc') {
    type = 'memory-backend-epc';
  } else if (!dev?.path && mb.source === 'memfd') {
    type = 'memory-backend-memfd';
    if (huge) parts.push('"hugetlb":true', `"hugetlbsize":${huge * 1024}`);
    parts.push(...share, ...canon);
  } else if (huge || dev?.path || access || mb.source === 'file') {
    type = 'memory-backend-file';
    const path = dev?.path ?? (huge ? hugepageMemPath(caps.hugetlbfs, huge, o.shortName) : `${memoryDir(o.shortName)}/${dev?.pathAlias ?? alias}`);
    parts.push(`"mem-path":${JSON.stringify(path)}`);
    if (discard && !dev?.path) parts.push(`"discard-data":${discard === 'yes'}`);
    parts.push(...share, ...canon);
  }
  // (a real NVDIMM is not preallocated, nor is a virtio-pmem's file)
  // (an EPC section is always preallocated)
  const prealloc = dev?.model === 'sgx-epc' || mb.allocation === 'immediate' || (dev?.path ? !dev.pmem && dev.model !== 'virtio-pmem' : huge > 0);
  if (dev?.model === 'virtio-mem') {
    // no prealloc on the backend (the device has it); never -mem-prealloc here (memory-device.ts)
    if (hasFlag(caps, 'memory-backend-file.reserve')) parts.push('"reserve":false');
  } else {
    if (prealloc) parts.push('"prealloc":true');
    if (mb.allocationThreads) parts.push(`"prealloc-threads":${mb.allocationThreads}`);
  }
  parts.push(`"size":${BigInt(o.sizeKiB) * 1024n}`);
  if (dev?.alignKiB) parts.push(`"align":${BigInt(dev.alignKiB) * 1024n}`);
  if (dev?.pmem) {
    if (!hasFlag(caps, 'memory-backend-file.pmem')) throw unsupportedConfig('nvdimm pmem property is not available with this QEMU binary');
    parts.push('"pmem":true');
  }
  // virDomainNumatuneMaybeGetNodeset: the cell's <memnode>, else <numatune><memory>.
  const nt = def.numatune;
  if (!dev?.sourceNodes && nt?.placement === 'auto') throw new TranslationError('internal error', 'Advice from numad is needed in case of automatic numa placement');
  const nodeset = dev?.sourceNodes ?? cell?.nodeset ?? nt?.nodeset;
  checkHostNodes(caps, nodeset);
  const mode = cell?.mode ?? nt?.mode ?? 'strict';
  let tc: string | undefined;
  // 'restrictive' binds through cgroups only: QEMU gets no policy.
  if (nodeset && mode !== 'restrictive') {
    parts.push(`"host-nodes":${JSON.stringify(nodeset)}`, `"policy":"${POLICY[mode]}"`);
    // qemuBuildThreadContextProps: preallocation runs on threads bound to those nodes.
    if (hasFlag(caps, 'thread-context') && parts.includes('"prealloc":true')) {
      tc = JSON.stringify({ 'qom-type': 'thread-context', id: `tc-${alias}`, 'node-affinity': nodeset });
      parts.push(`"prealloc-context":${JSON.stringify(`tc-${alias}`)}`);
    }
  }
  const needed = dev !== undefined || needHugepage(def, targetNode) || cell !== undefined || mb.source === 'file' || mb.source === 'memfd' || access !== undefined;
  if (needed && type === 'memory-backend-memfd' && !hasFlag(caps, 'memory-backend-memfd')) {
    throw unsupportedConfig("this qemu doesn't support the memory-backend-memfd object");
  }
  return { json: `{"qom-type":"${type}","id":${JSON.stringify(alias)}${parts.map((p) => `,${p}`).join('')}}`, needed, ...(tc ? { threadContext: tc } : {}) };
}

/** qemuNumaPolicy: libvirt's numatune modes as QEMU's memory policies. */
const POLICY = { strict: 'bind', preferred: 'preferred', interleave: 'interleave', restrictive: 'restrictive' } as const;

/** virNumaNodesetIsAvailable: every node of a <numatune> nodeset must be online on the
 *  host, which the snapshot says (host/<snapshot>.json "numaNodes"). */
export function checkHostNodes(caps: QemuCaps, nodeset: number[] | undefined): void {
  if (!nodeset) return;
  const online = caps.hostNumaNodes;
  if (!online) throw notImplemented("<numatune> nodeset on a command line with a snapshot that carries no host NUMA nodes (host/<snapshot>.json)");
  const missing = nodeset.find((n) => !online.includes(n));
  if (missing !== undefined) throw unsupportedConfig(`NUMA node ${missing} is unavailable`);
}

/** virDomainNumatuneNodesetIsAvailable, before the cells' backends: <numatune><memory>'s
 *  nodeset, then each cell's. */
export function checkNumatuneNodes(def: DomainDef, caps: QemuCaps, cells: number): void {
  const nt = def.numatune;
  if (!nt && !def.memnodes) return;
  const auto = nt?.placement === 'auto';
  checkHostNodes(caps, auto ? undefined : nt?.nodeset);
  for (let i = 0; i < cells; i++) {
    checkHostNodes(caps, auto ? undefined : def.memnodes?.find((m) => m.cellid === i)?.nodeset ?? nt?.nodeset);
  }
}

/** Whether a <page> names the cell by its nodeset (qemuBuildMemoryGetPagesize's
 *  needHugepage): the domain-wide page alone does not make a backend necessary. */
function needHugepage(def: DomainDef, targetNode: number): boolean {
  if (targetNode < 0) return false;
  const page = (def.memoryBacking.hugepages ?? []).find((p) => p.nodeset?.includes(targetNode));
  return page !== undefined && page.sizeKiB !== SYSTEM_PAGE_KIB;
}

/** qemuBuildMemPathStr: -mem-prealloc and -mem-path for RAM without a backend object,
 *  from the first <page> (the whole guest's, or every NUMA cell's when none needs a
 *  backend). */
export function memPathArgs(def: DomainDef, caps: QemuCaps, shortName: string): string[][] {
  const mb = def.memoryBacking;
  const first = mb.hugepages?.[0];
  let path: string | undefined;
  let prealloc = false;
  if (first && first.sizeKiB !== SYSTEM_PAGE_KIB) {
    const size = first.sizeKiB === 0n ? defaultHugepageKiB(caps.hugetlbfs) : Number(first.sizeKiB);
    path = hugepageMemPath(caps.hugetlbfs, size, shortName);
    prealloc = true;
  } else if (mb.source === 'file') {
    path = `${memoryDir(shortName)}/ram`;
  }
  if (mb.allocation === 'immediate') prealloc = true;
  return [...(prealloc ? [['-mem-prealloc']] : []), ...(path ? [['-mem-path', path]] : [])];
}

export interface MemArgsInput {
  def: DomainDef;
  caps: QemuCaps;
  /** the machine's default RAM id (pc.ram, s390.ram), if QEMU has one */
  ramId: string | undefined;
  /** initial memory in KiB, already aligned */
  memKiB: number;
  /** the domain's short name, as in its directories */
  shortName: string;
}

/** -m and the guest RAM's backend or -mem-path, then -overcommit (qemuBuildMemCommandLine).
 *  With guest NUMA cells there is no default RAM: each cell has its backend, with -numa. */
export function memoryArgs({ def, caps, ramId, memKiB, shortName }: MemArgsInput): string[][] {
  const out: string[][] = [];
  const mb = def.memoryBacking;
  const mm = def.maxMemory;
  // qemuDomainAlignMemorySizes rounds maxMemory up to a whole MiB, as the initial size.
  out.push(['-m', mm ? `size=${memKiB}k,slots=${mm.slots},maxmem=${Math.ceil(mm.kib / 1024) * 1024}k` : String(memKiB / 1024)]);
  if (!guestNumaCells(def)) {
    if (ramId) {
      const b = memoryBackendProps({ def, caps, alias: ramId, sizeKiB: memKiB, targetNode: -1, shortName });
      if (b.threadContext) out.push(['-object', b.threadContext]);
      out.push(['-object', b.json]);
    } else {
      // for a machine without a default RAM id (none in the snapshots)
      out.push(...memPathArgs(def, caps, shortName));
    }
  }
  out.push(['-overcommit', `mem-lock=${mb.locked ? 'on' : 'off'}`]);
  return out;
}
