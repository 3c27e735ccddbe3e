// Domain-level tuning: <cputune>, <iothreads>/<iothreadids>/<defaultiothread>,
// <memtune>, <blkiotune> (virDomainDefTunablesParse and the formatters of
// virDomainDefFormatInternal, virDomainDefCputuneValidate & co., the qemu driver's
// checks, qemuBuildIOThreadCommandLine). Most of it only reaches the cgroups and
// thread affinities of a running domain: it shows in the XML, not on the command line.
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
import { propEnum, propInt, propUInt, required } from '../xml/props.js';
import { child, elements, escapeXml, textOf, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { formatBitmap, parseBitmap } from './bitmap.js';
import { parseScaledKiB, strToLL, strToULL, UNLIMITED_KIB } from './units.js';
import { parseCpuset, parseVcpu } from './vcpu.js';

type Policy = 'batch' | 'idle' | 'fifo' | 'rr';
export interface Sched { policy: Policy; priority?: number }

export interface IOThreadDef {
  id: number;
  /** -1: not set */
  poolMin: number;
  poolMax: number;
  /** given by <iothreads> alone, not by <iothreadids> */
  autofill: boolean;
  pin?: number[];
  sched?: Sched;
}

export interface CputuneDef {
  shares?: bigint;
  period?: bigint;
  quota?: bigint;
  globalPeriod?: bigint;
  globalQuota?: bigint;
  emulatorPeriod?: bigint;
  emulatorQuota?: bigint;
  iothreadPeriod?: bigint;
  iothreadQuota?: bigint;
  /** per vCPU id */
  vcpupin: Map<number, number[]>;
  emulatorpin?: number[];
  emulatorsched?: Sched;
  /** per vCPU id */
  vcpusched: Map<number, Sched>;
}

export interface BlkioDevice { path: string; weight: number; riops: number; wiops: number; rbps: bigint; wbps: bigint }

export interface TuningDef {
  cputune: CputuneDef;
  iothreads: IOThreadDef[];
  defaultIOThread?: { poolMin: number; poolMax: number };
  /** KiB; UNLIMITED_KIB when not set */
  memtune: { hard: bigint; soft: bigint; swap: bigint; minGuarantee: bigint };
  blkio: { weight: number; devices: BlkioDevice[] };
}

declare module '../model.js' {
  interface DomainDef {
    tuning: TuningDef;
  }
}

const cInt = (s: string, signed: boolean) => (signed ? strToLL(s) : strToULL(s));

/** virXPathULongLong / virXPathLongLong on the text of the first `name` child. */
function scalar(parent: XElement | undefined, name: string, signed: boolean, what: string): bigint | undefined {
  const el = parent && child(parent, name);
  const raw = el ? textOf(el) : '';
  if (raw === '') return undefined;
  const v = cInt(raw, signed);
  if (v === undefined) throw xmlError(`can't parse cputune ${what} value`);
  return v;
}

/** The scheduler attributes (virDomainSchedulerParseCommonAttrs). */
function parseSched(e: XElement): Sched {
  required(e, 'scheduler');
  const policy = propEnum(e, 'scheduler', ['none', 'batch', 'idle', 'fifo', 'rr'] as const, { nonZero: true }) as Policy;
  if (policy !== 'fifo' && policy !== 'rr') return { policy };
  required(e, 'priority');
  return { policy, priority: propInt(e, 'priority')! };
}

/** <vcpusched vcpus=…>/<iothreadsched iothreads=…>: one policy for a set of threads. */
function parseSchedSet(e: XElement, attr: string, each: (id: number) => { sched?: Sched }): void {
  const raw = e.attrs[attr];
  if (raw === undefined) throw xmlError(`Missing attribute '${attr}' in element '${e.name}'`);
  const set = parseBitmap(raw);
  if (!set.length) throw unsupportedConfig(`'${attr}' scheduler bitmap '${raw}' is empty`);
  const sched = parseSched(e);
  for (const id of set) {
    const holder = each(id);
    // VIR_ERR_XML_DETAIL: printed bare
    if (holder.sched) throw new TranslationError('bare', `'${e.name}' attributes '${attr}' must not overlap`);
    holder.sched = sched;
  }
}

function parseIOThreads(domain: XElement): Pick<TuningDef, 'iothreads' | 'defaultIOThread'> {
  const countEl = child(domain, 'iothreads');
  const raw = countEl ? textOf(countEl) : '';
  let count = 0;
  if (raw !== '') {
    const v = cInt(raw, false);
    if (v === undefined || v > 4294967295n) throw xmlError(`invalid iothreads count '${raw}'`);
    count = Number(v);
  }
  const out: Pick<TuningDef, 'iothreads' | 'defaultIOThread'> = { iothreads: [] };
  const dflt = child(domain, 'defaultiothread');
  if (dflt) {
    const poolMin = propInt(dflt, 'thread_pool_min', { nonNegative: true }) ?? -1;
    const poolMax = propInt(dflt, 'thread_pool_max', { nonNegative: true }) ?? -1;
    if (poolMin !== -1 || poolMax !== -1) out.defaultIOThread = { poolMin, poolMax };
  }
  const ids = elements(domain).filter((e) => e.name === 'iothreadids').flatMap((e) => elements(e, 'iothread'));
  for (const e of ids) {
    required(e, 'id');
    const id = propUInt(e, 'id', { nonZero: true })!;
    const poolMin = propInt(e, 'thread_pool_min', { nonNegative: true }) ?? -1;
    const poolMax = propInt(e, 'thread_pool_max', { nonNegative: true }) ?? -1;
    if (out.iothreads.some((t) => t.id === id)) throw xmlError(`duplicate iothread id '${id}' found`);
    out.iothreads.push({ id, poolMin, poolMax, autofill: false });
  }
  // virDomainIOThreadIDDefArrayInit: <iothreads> beyond the listed ids are numbered
  // from 1, skipping ids in use.
  let next = 1;
  while (out.iothreads.length < count) {
    while (out.iothreads.some((t) => t.id === next)) next++;
    out.iothreads.push({ id: next, poolMin: -1, poolMax: -1, autofill: true });
    next++;
  }
  return out;
}

function parseBlkio(domain: XElement): TuningDef['blkio'] {
  const el = child(domain, 'blkiotune');
  const blkio: TuningDef['blkio'] = { weight: 0, devices: [] };
  if (!el) return blkio;
  const w = child(el, 'weight');
  const wv = w ? cInt(textOf(w), false) : undefined;
  // An unreadable weight is silently no weight.
  if (wv !== undefined && wv <= 4294967295n) blkio.weight = Number(wv);
  for (const d of elements(el, 'device')) {
    const text = (name: string) => {
      const c = child(d, name);
      const t = c ? textOf(c) : '';
      return t === '' ? undefined : t;
    };
    const path = text('path');
    if (path === undefined) throw unsupportedConfig('missing per-device path');
    const num = (name: string, what: string, bits: 32 | 64): bigint => {
      const t = text(name);
      if (t === undefined) return 0n;
      // virStrToLong_ui takes '-N' as its two's complement; _ull wraps too.
      const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(t);
      const mod = 2n ** BigInt(bits);
      let v = m ? BigInt(m[2]!) : undefined;
      if (v !== undefined && v > (bits === 32 ? 2n ** 64n - 1n : mod - 1n)) v = undefined;
      if (v !== undefined && bits === 32 && m![1] !== '-' && v >= mod) v = undefined;
      if (v !== undefined && m![1] === '-') v = bits === 32 ? (v > mod ? undefined : (mod - v) % mod) : (mod - v) % mod;
      if (v === undefined) throw unsupportedConfig(`could not parse ${what} ${t}`);
      return v;
    };
    blkio.devices.push({
      path,
      weight: Number(num('weight', 'weight', 32)),
      rbps: num('read_bytes_sec', 'read bytes sec', 64),
      wbps: num('write_bytes_sec', 'write bytes sec', 64),
      riops: Number(num('read_iops_sec', 'read iops sec', 32)),
      wiops: Number(num('write_iops_sec', 'write iops sec', 32)),
    });
  }
  return blkio;
}

function parseMemtune(domain: XElement): TuningDef['memtune'] {
  const el = child(domain, 'memtune');
  const limit = (name: string) => {
    const kib = el && parseScaledKiB(el, name, `./memtune/${name}[1]`, UNLIMITED_KIB << 10n);
    return kib === undefined ? UNLIMITED_KIB : kib > UNLIMITED_KIB ? UNLIMITED_KIB : kib;
  };
  const hard = limit('hard_limit');
  const soft = limit('soft_limit');
  const min = el && parseScaledKiB(el, 'min_guarantee', './memtune/min_guarantee[1]', 2n ** 63n - 1n);
  if (min !== undefined && min >= 2n ** 53n) throw new TranslationError('bare', 'numerical overflow: size value too large');
  return { hard, soft, minGuarantee: min ?? 0n, swap: limit('swap_hard_limit') };
}

/** virDomainDefTunablesParse, in its order; it reads <vcpu> and <vcpus> too. */
export function parseTunables(domain: XElement, def: DomainDef): void {
  const blkio = parseBlkio(domain);
  const memtune = parseMemtune(domain);
  def.vcpu = parseVcpu(domain);
  const threads = parseIOThreads(domain);
  const ct = child(domain, 'cputune');
  const cputune: CputuneDef = { vcpupin: new Map(), vcpusched: new Map() };
  const set = <K extends keyof CputuneDef>(k: K, v: CputuneDef[K] | undefined) => {
    if (v !== undefined) cputune[k] = v;
  };
  set('shares', scalar(ct, 'shares', false, 'shares'));
  set('period', scalar(ct, 'period', false, 'period'));
  set('quota', scalar(ct, 'quota', true, 'quota'));
  set('globalPeriod', scalar(ct, 'global_period', false, 'global period'));
  set('globalQuota', scalar(ct, 'global_quota', true, 'global quota'));
  set('emulatorPeriod', scalar(ct, 'emulator_period', false, 'emulator period'));
  set('emulatorQuota', scalar(ct, 'emulator_quota', true, 'emulator quota'));
  set('iothreadPeriod', scalar(ct, 'iothread_period', false, 'iothread period'));
  set('iothreadQuota', scalar(ct, 'iothread_quota', true, 'iothread quota'));
  const findThread = (id: number) => {
    const t = threads.iothreads.find((x) => x.id === id);
    if (!t) throw unsupportedConfig(`Cannot find 'iothread' : ${id}`);
    return t;
  };
  if (ct) {
    for (const e of elements(ct, 'vcpupin')) {
      required(e, 'vcpu');
      const id = propUInt(e, 'vcpu')!;
      if (id >= def.vcpu.max) continue; // libvirt ignores pins of vCPUs that do not exist
      const raw = e.attrs.cpuset;
      if (raw === undefined) throw internalError('missing cpuset for vcpupin');
      if (cputune.vcpupin.has(id)) throw internalError(`duplicate vcpupin for vcpu '${id}'`);
      cputune.vcpupin.set(id, parseCpuset(raw));
    }
    const emu = elements(ct, 'emulatorpin');
    if (emu.length > 1) throw xmlError('only one emulatorpin is supported');
    if (emu.length) {
      const raw = emu[0]!.attrs.cpuset;
      if (raw === undefined) throw internalError('missing cpuset for emulatorpin');
      cputune.emulatorpin = parseCpuset(raw);
    }
    for (const e of elements(ct, 'iothreadpin')) {
      required(e, 'iothread');
      const t = findThread(propUInt(e, 'iothread', { nonZero: true })!);
      const raw = e.attrs.cpuset;
      if (raw === undefined) throw internalError('missing cpuset for iothreadpin');
      const pin = parseCpuset(raw);
      if (t.pin) throw internalError(`duplicate iothreadpin for same iothread '${t.id}'`);
      t.pin = pin;
    }
    for (const e of elements(ct, 'vcpusched')) {
      parseSchedSet(e, 'vcpus', (id) => {
        if (id >= def.vcpu.max) throw unsupportedConfig(`vCPU '${id}' is not present in domain definition`);
        const holder = { sched: cputune.vcpusched.get(id) };
        return {
          get sched() { return holder.sched; },
          set sched(s: Sched | undefined) { if (s) cputune.vcpusched.set(id, s); },
        };
      });
    }
    for (const e of elements(ct, 'iothreadsched')) parseSchedSet(e, 'iothreads', findThread);
    const es = elements(ct, 'emulatorsched');
    if (es.length > 1) throw xmlError('only one emulatorsched is supported');
    if (es.length) cputune.emulatorsched = parseSched(es[0]!);
    if (elements(ct, 'cachetune').length || elements(ct, 'memorytune').length) {
      throw notImplemented("<cputune><cachetune>/<memorytune> (they need the host's resctrl)");
    }
  }
  def.tuning = { cputune, ...threads, memtune, blkio };
}

const SHARES = [2n, 262144n];
const PERIOD = [1000n, 1000000n];
const QUOTA = [1000n, 17592186044415n];

/** The generic checks of virDomainDefValidateInternal for these elements, in its order. */
export function validateTunables(def: DomainDef): void {
  const t = def.tuning;
  const { cputune: c } = t;
  // virDomainDefCputuneValidate
  if (c.shares !== undefined && c.shares > 0n && (c.shares < SHARES[0]! || c.shares > SHARES[1]!)) {
    throw unsupportedConfig(`Value of cputune 'shares' must be in range [${SHARES[0]}, ${SHARES[1]}]`);
  }
  const range = (v: bigint | undefined, name: string, [lo, hi]: bigint[]) => {
    if (v !== undefined && v > 0n && (v < lo! || v > hi!)) throw unsupportedConfig(`Value of cputune '${name}' must be in range [${lo}, ${hi}]`);
  };
  range(c.period, 'period', PERIOD);
  range(c.globalPeriod, 'global_period', PERIOD);
  range(c.emulatorPeriod, 'emulator_period', PERIOD);
  range(c.iothreadPeriod, 'iothread_period', PERIOD);
  range(c.quota, 'quota', QUOTA);
  range(c.globalQuota, 'global_quota', QUOTA);
  range(c.emulatorQuota, 'emulator_quota', QUOTA);
  range(c.iothreadQuota, 'iothread_quota', QUOTA);
}

/** virDomainDefTunablesValidate (blkio paths), checked after the memtune/OS checks. */
export function validateBlkio(def: DomainDef): void {
  const seen = new Set<string>();
  for (const d of def.tuning.blkio.devices) {
    if (seen.has(d.path)) throw unsupportedConfig(`duplicate blkio device path '${d.path}'`);
    seen.add(d.path);
  }
}

/** virDomainDefValidateIOThreads. */
export function validateIOThreadPools(def: DomainDef): void {
  const check = (min: number, max: number) => {
    if (max === 0) throw unsupportedConfig('thread_pool_max must be a positive integer');
    if (min > max) throw unsupportedConfig('thread_pool_min must be smaller or equal to thread_pool_max');
  };
  for (const t of def.tuning.iothreads) check(t.poolMin, t.poolMax);
  if (def.tuning.defaultIOThread) check(def.tuning.defaultIOThread.poolMin, def.tuning.defaultIOThread.poolMax);
}

/** The qemu driver's checks of qemuValidateDomainDef: min_guarantee first … */
export function validateMinGuarantee(def: DomainDef): void {
  if (def.tuning.memtune.minGuarantee) throw unsupportedConfig("Parameter 'min_guarantee' not supported by QEMU.");
}

/** … and qemuValidateDomainDefIOThreads after the CPU and memory hotplug checks. */
export function validateIOThreadCaps(def: DomainDef, caps: QemuCaps): void {
  const t = def.tuning;
  const pools = t.iothreads.some((x) => x.poolMin !== -1 || x.poolMax !== -1) ||
    (t.defaultIOThread !== undefined && (t.defaultIOThread.poolMin >= 0 || t.defaultIOThread.poolMax >= 0));
  if (pools && !hasFlag(caps, 'iothread.thread-pool-max')) {
    throw unsupportedConfig('thread_pool_min and thread_pool_max is not supported by this QEMU binary');
  }
}

const limitSet = (v: bigint) => v < UNLIMITED_KIB;

export function formatBlkioMemtune(w: Writer, def: DomainDef): void {
  const { blkio, memtune: m } = def.tuning;
  const devs = blkio.devices.filter((d) => d.weight || d.riops || d.wiops || d.rbps || d.wbps);
  if (blkio.weight || devs.length) {
    w.open('<blkiotune>');
    if (blkio.weight) w.line(`<weight>${blkio.weight}</weight>`);
    for (const d of devs) {
      w.open('<device>');
      w.line(`<path>${escapeXml(d.path)}</path>`);
      if (d.weight) w.line(`<weight>${d.weight}</weight>`);
      if (d.riops) w.line(`<read_iops_sec>${d.riops}</read_iops_sec>`);
      if (d.wiops) w.line(`<write_iops_sec>${d.wiops}</write_iops_sec>`);
      if (d.rbps) w.line(`<read_bytes_sec>${d.rbps}</read_bytes_sec>`);
      if (d.wbps) w.line(`<write_bytes_sec>${d.wbps}</write_bytes_sec>`);
      w.close('</device>');
    }
    w.close('</blkiotune>');
  }
  if (limitSet(m.hard) || limitSet(m.soft) || m.minGuarantee || limitSet(m.swap)) {
    w.open('<memtune>');
    if (limitSet(m.hard)) w.line(`<hard_limit unit='KiB'>${m.hard}</hard_limit>`);
    if (limitSet(m.soft)) w.line(`<soft_limit unit='KiB'>${m.soft}</soft_limit>`);
    if (m.minGuarantee) w.line(`<min_guarantee unit='KiB'>${m.minGuarantee}</min_guarantee>`);
    if (limitSet(m.swap)) w.line(`<swap_hard_limit unit='KiB'>${m.swap}</swap_hard_limit>`);
    w.close('</memtune>');
  }
}

function formatSched(name: string, s: Sched | undefined, id?: number): string | undefined {
  if (!s) return undefined;
  const which = id === undefined ? '' : ` ${name}s='${id}'`;
  const prio = s.policy === 'fifo' || s.policy === 'rr' ? ` priority='${s.priority}'` : '';
  return `<${name}sched${which} scheduler='${s.policy}'${prio}/>`;
}

/** <iothreads>, <iothreadids>, <defaultiothread> (virDomainDefIOThreadsFormat). */
export function formatIOThreads(w: Writer, def: DomainDef): void {
  const { iothreads, defaultIOThread: d } = def.tuning;
  if (iothreads.length) w.line(`<iothreads>${iothreads.length}</iothreads>`);
  const pool = (min: number, max: number) => `${min >= 0 ? ` thread_pool_min='${min}'` : ''}${max >= 0 ? ` thread_pool_max='${max}'` : ''}`;
  if (iothreads.some((t) => !t.autofill || t.poolMin >= 0 || t.poolMax >= 0)) {
    w.open('<iothreadids>');
    for (const t of iothreads) w.line(`<iothread id='${t.id}'${pool(t.poolMin, t.poolMax)}/>`);
    w.close('</iothreadids>');
  }
  if (d) w.line(`<defaultiothread${pool(d.poolMin, d.poolMax)}/>`);
}

/** <cputune> (virDomainCputuneDefFormat). */
export function formatCputune(w: Writer, def: DomainDef): void {
  const c = def.tuning.cputune;
  const lines: string[] = [];
  const scalarLine = (name: string, v: bigint | undefined, always = false) => {
    if (v !== undefined && (always || v !== 0n)) lines.push(`<${name}>${v}</${name}>`);
  };
  scalarLine('shares', c.shares, true);
  scalarLine('period', c.period);
  scalarLine('quota', c.quota);
  scalarLine('global_period', c.globalPeriod);
  scalarLine('global_quota', c.globalQuota);
  scalarLine('emulator_period', c.emulatorPeriod);
  scalarLine('emulator_quota', c.emulatorQuota);
  scalarLine('iothread_period', c.iothreadPeriod);
  scalarLine('iothread_quota', c.iothreadQuota);
  for (const id of [...c.vcpupin.keys()].sort((a, b) => a - b)) lines.push(`<vcpupin vcpu='${id}' cpuset='${formatBitmap(c.vcpupin.get(id)!)}'/>`);
  if (c.emulatorpin) lines.push(`<emulatorpin cpuset='${formatBitmap(c.emulatorpin)}'/>`);
  for (const t of def.tuning.iothreads) if (t.pin) lines.push(`<iothreadpin iothread='${t.id}' cpuset='${formatBitmap(t.pin)}'/>`);
  const push = (l: string | undefined) => l && lines.push(l);
  push(formatSched('emulator', c.emulatorsched));
  for (const id of [...c.vcpusched.keys()].sort((a, b) => a - b)) push(formatSched('vcpu', c.vcpusched.get(id), id));
  for (const t of def.tuning.iothreads) push(formatSched('iothread', t.sched, t.id));
  if (!lines.length) return;
  w.open('<cputune>');
  for (const l of lines) w.line(l);
  w.close('</cputune>');
}

/** -object iothread for each IOThread, then the main loop's pool (qemuBuildIOThreadCommandLine). */
export function iothreadArgs(def: DomainDef): string[][] {
  const pool = (min: number, max: number) => ({
    ...(min >= 0 ? { 'thread-pool-min': min } : {}),
    ...(max >= 0 ? { 'thread-pool-max': max } : {}),
  });
  const out = def.tuning.iothreads.map((t) => ['-object', JSON.stringify({ 'qom-type': 'iothread', id: `iothread${t.id}`, ...pool(t.poolMin, t.poolMax) })]);
  const d = def.tuning.defaultIOThread;
  if (d) out.push(['-object', JSON.stringify({ 'qom-type': 'main-loop', id: 'main-loop', ...pool(d.poolMin, d.poolMax) })]);
  return out;
}
