// `virtgold compare`: two translators on the same domains and snapshots, no goldens. Each
// (input, direction) gets a class (harness/classify.ts). The snapshot is --caps (each of the
// domain's arch, when several are given), or else the probe file libvirt keeps for the
// domain's emulator (its arch's, without <emulator>): what libvirt itself would use. Real
// libvirt on either side runs only on the host QEMU's snapshot, one call at a time, and
// undefines what it defines even when interrupted.
import { globSync } from 'glob';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { MODES, type Mode } from '../translator/index.js';
import { builtinAdapterWith, type Adapter } from './adapters.js';
import { domainArch, namedVersion } from './cases.js';
import { keptText } from './diff.js';
import { classify } from './classify.js';
import { compareCounts, compareJson, comparePretty, compareSuite } from './compare-report.js';
import { parseArgs } from './args.js';
import { SetupError, UsageError } from './errors.js';
import { readCaps } from './io.js';
import { hostProbes, PROBE_CACHE, type HostProbe } from './libvirt.js';
import { html, junit, tap } from './reporters.js';
import { chooseAdapter, parseReporters, timeoutAndJobs, writeReport } from './run.js';
import { inParallel } from './runner.js';
import type { Class, CompareInput, CompareResult, CompareRun, MatrixEntry, Outcome, SideOutcome, Snapshot } from './types.js';
import { undefineLeftovers } from './virsh.js';

/** Domain files: each PATH a file, or a folder searched recursively for *.xml. */
export function findInputs(paths: string[], cwd = process.cwd(), arches?: string[]): CompareInput[] {
  if (!paths.length) throw new UsageError('compare: name at least one domain file or folder');
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let dir: boolean;
    try {
      dir = statSync(abs).isDirectory();
    } catch {
      throw new SetupError(`compare: no such file or folder: ${p}`);
    }
    if (!dir) files.push(abs);
    else {
      const found = globSync('**/*.xml', { cwd: abs, nodir: true, posix: true }).sort().map((f) => join(abs, f));
      if (!found.length) throw new SetupError(`compare: no *.xml under ${p}`);
      files.push(...found);
    }
  }
  const inputs = [...new Set(files)].map((path) => {
    let xml: string;
    try {
      xml = readFileSync(path, 'utf8');
    } catch (e) {
      throw new SetupError(`compare: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const rel = relative(cwd, path);
    return { name: rel.startsWith('..') || isAbsolute(rel) ? path : rel, path, arch: domainArch(xml), xml };
  });
  const chosen = arches?.length ? inputs.filter((i) => arches.includes(i.arch)) : inputs;
  if (!chosen.length) throw new SetupError(`compare: no domain of arch ${arches!.join(' or ')} among the ${inputs.length} given`);
  return chosen;
}

const EMULATOR = /<emulator>\s*([^<]*?)\s*<\/emulator>/;

/** The probe file libvirt would use for this domain, or why there is none. */
export function probeFor(input: CompareInput, probes: HostProbe[]): HostProbe | string {
  const emulator = EMULATOR.exec(input.xml.replace(/<!--[\s\S]*?-->/g, ''))?.[1];
  if (emulator) {
    return probes.find((p) => p.emulator === emulator)
      ?? `libvirt has no probe file for emulator ${emulator} here (virsh domcapabilities --emulatorbin ${emulator} makes one)`;
  }
  return probes.find((p) => p.arch === input.arch) ?? `libvirt has probed no ${input.arch} QEMU on this host`;
}

export interface CompareOptions {
  translator: Adapter;
  reference: Adapter;
  inputs: CompareInput[];
  modes: Mode[];
  /** --caps: the snapshots to run each domain on (those of its arch, or the one given);
   *  else each domain's host probe file */
  caps?: Snapshot[];
  probes: HostProbe[];
  /** a side is real libvirt: it only runs where --caps is the probe it would use itself */
  libvirt: boolean;
  jobs: number;
  onResult?: (r: CompareResult, done: number, total: number) => void;
}

const isLibvirt = (a: Adapter) => a.drivesHost === true;

/** The snapshots of one domain, or why it has none. One --caps is every domain's; of
 *  several, a domain gets those of its arch. */
export function snapshotsOf(input: CompareInput, o: Pick<CompareOptions, 'caps' | 'libvirt' | 'probes'>): Snapshot[] | string {
  const probe = o.caps && !o.libvirt ? undefined : probeFor(input, o.probes);
  if (typeof probe === 'string') return probe;
  if (!o.caps) return [{ arch: probe!.arch, version: probe!.version, path: probe!.path }];
  const mine = o.caps.length === 1 ? o.caps : o.caps.filter((c) => c.arch === input.arch);
  if (!mine.length) return `no --caps of arch ${input.arch}`;
  if (!probe) return mine;
  const usable = mine.filter((c) => probe.arch === c.arch && probe.version === c.version);
  if (usable.length) return usable;
  return `libvirt would use ${probe.emulator} (${probe.arch} QEMU ${probe.version}), not --caps (${mine.map((c) => `${c.arch} QEMU ${c.version}`).join(', ')})`;
}

interface Work {
  input: CompareInput;
  mode: Mode;
  /** the entry both sides get, or why there is none */
  entry: MatrixEntry | string;
}

/** Every (domain, snapshot, direction) of the compare, in input order. */
function workOf(o: CompareOptions): Work[] {
  return o.inputs.flatMap((input): Work[] => {
    const snaps = snapshotsOf(input, o);
    if (typeof snaps === 'string') return o.modes.map((mode) => ({ input, mode, entry: snaps }));
    return snaps.flatMap((snapshot) => o.modes.map((mode) => ({
      input, mode,
      entry: { case: { name: input.name, path: input.path, arch: input.arch, options: {} }, snapshot, mode, stem: '', relStem: '' },
    })));
  });
}

export async function ask(a: Adapter, entry: MatrixEntry, xml: string): Promise<SideOutcome> {
  const why = a.skip?.(entry, xml, undefined);
  if (why) return { kind: 'not-run', reason: why };
  try {
    return await a.translate(entry, xml);
  } catch (e) {
    if (e instanceof SetupError) throw e; // it cannot be run at all: the compare stops
    return { kind: 'crash', message: `virtgold could not run it: ${(e as Error).message}` } satisfies Outcome;
  }
}

async function compareEntry({ input, mode, entry }: Work, o: CompareOptions): Promise<CompareResult> {
  const start = performance.now();
  if (typeof entry === 'string') return { input, mode, class: 'skipped', reason: entry, ms: performance.now() - start };
  const snap = entry.snapshot;
  const t0 = performance.now();
  const t = await ask(o.translator, entry, input.xml);
  const t1 = performance.now();
  const r = await ask(o.reference, entry, input.xml);
  const sideMs = { translator: t1 - t0, reference: performance.now() - t1 };
  const side = (a: Adapter, role: string, outcome: SideOutcome) => ({
    label: `${role} (${a.name})`, outcome,
    normalize: a.normalize && ((text: string) => a.normalize!(entry, text)),
    hostSpecific: a.hostSpecific,
  });
  const verdict = classify(side(o.translator, 'translator', t), side(o.reference, 'reference', r));
  // What is kept for the reports is cut: every input may print up to --max-output.
  const kept = (x: SideOutcome): SideOutcome => (x.kind === 'output' || x.kind === 'error' ? { ...x, text: keptText(x.text) } : x);
  return { input, mode, snapshot: snap, translator: kept(t), reference: kept(r), ...verdict, ms: performance.now() - start, sideMs };
}

/** A side found broken after it answered (a worker answering twice) breaks that result. */
function markLate(results: CompareResult[], o: CompareOptions): void {
  for (const [a, role] of [[o.translator, 'translator'], [o.reference, 'reference']] as const) {
    for (const { entry, message } of a.lateProblems?.() ?? []) {
      const r = results.find((x) => x.input.path === entry.case.path && x.mode === entry.mode);
      if (r) Object.assign(r, { class: 'broken', reason: `${role} (${a.name}): ${message}`, diff: undefined });
    }
  }
}

/** Compare every input in every mode; results in input order. */
export async function compareAll(o: CompareOptions): Promise<CompareRun> {
  const start = performance.now();
  const work = workOf(o);
  let results: CompareResult[];
  let batchMs = { translator: 0, reference: 0 };
  try {
    // A side that answers in batches gets them all first (its own skips are its to judge).
    const jobs = work.flatMap((w) => (typeof w.entry === 'string' ? [] : [{ entry: w.entry, xml: w.input.xml }]));
    const timed = async (a: Adapter) => {
      const t0 = performance.now();
      await a.prepare?.(jobs);
      return performance.now() - t0;
    };
    const [translator, reference] = await Promise.all([timed(o.translator), timed(o.reference)]);
    batchMs = { translator, reference };
    results = await inParallel(work, o.jobs, (w) => compareEntry(w, o), (r, n) => o.onResult?.(r, n, work.length));
  } finally {
    await Promise.all([o.translator.close?.(), o.reference.close?.()]);
    if (o.libvirt) await undefineLeftovers();
  }
  markLate(results, o); // after close: what a worker sent last is in
  return { translator: o.translator.name, reference: o.reference.name, results, batchMs, ms: performance.now() - start };
}

/** --caps FILE as a snapshot, refused (exit 2) when it is not one. */
function capsSnapshot(file: string): Snapshot {
  try {
    const caps = readCaps(file);
    return { arch: caps.arch, version: namedVersion(file, caps.arch) ?? `${caps.version.major}.${caps.version.minor}.0`, path: resolve(file) };
  } catch (e) {
    throw new SetupError(`--caps: ${(e as Error).message}`);
  }
}

const usage = <T>(fn: () => T): T => {
  try {
    return fn();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
};

export async function compareCommand(argv: string[], cwd = process.cwd()): Promise<number> {
  const { values: v, positionals } = usage(() => parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      translator: { type: 'string' }, 'translator-cmd': { type: 'string' }, 'translator-worker': { type: 'string' },
      reference: { type: 'string' }, 'reference-cmd': { type: 'string' }, 'reference-worker': { type: 'string' },
      caps: { type: 'string', multiple: true },
      mode: { type: 'string', multiple: true },
      arch: { type: 'string', multiple: true },
      jobs: { type: 'string' },
      timeout: { type: 'string' },
      'max-output': { type: 'string' },
      reporter: { type: 'string', multiple: true },
    },
  }));
  for (const m of v.mode ?? []) if (!MODES.includes(m as Mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')} (got '${m}')`);
  const limits = timeoutAndJobs(v);
  const { jobs } = limits;
  const reporters = parseReporters(v.reporter);
  if (v.reference === undefined && v['reference-cmd'] === undefined && v['reference-worker'] === undefined) {
    throw new UsageError('compare: name the reference: --reference builtin|libvirt|libvirt-tests, --reference-cmd CMD or --reference-worker CMD');
  }
  const inputs = findInputs(positionals, cwd, v.arch);
  const caps = v.caps?.map((f) => capsSnapshot(resolve(cwd, f)));
  const translator = (await chooseAdapter('translator', v, limits)) ?? builtinAdapterWith(limits.timeout);
  const reference = (await chooseAdapter('reference', v, limits))!;
  const libvirt = isLibvirt(translator) || isLibvirt(reference);
  const probes = caps && !libvirt ? [] : hostProbes();
  if (!caps && !probes.length) {
    throw new SetupError(`compare: no --caps, and no libvirt probe file readable in ${PROBE_CACHE} (run as root after scripts/setup-libvirt, or pass --caps FILE)`);
  }
  const foreign = libvirt ? caps?.find((c) => !probes.some((p) => p.arch === c.arch && p.version === c.version)) : undefined;
  if (foreign) {
    const host = [...new Set(probes.map((p) => `${p.arch} ${p.version}`))].join(', ');
    throw new SetupError(`compare: libvirt runs only on the snapshot of the host's QEMU (${host || 'none probed'}); --caps is ${foreign.arch} QEMU ${foreign.version}`);
  }

  const tty = process.stdout.isTTY === true;
  const run = await compareAll({
    // With libvirt (one call at a time anyway) one job: each side's time is then its own.
    translator, reference, inputs, modes: (v.mode as Mode[] | undefined) ?? MODES, caps, probes, libvirt, jobs: libvirt ? 1 : jobs,
    onResult: tty ? (_r, done, total) => { if (total > 50) process.stderr.write(`\r${done}/${total}`); } : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');
  for (const r of reporters) {
    const text = r.name === 'pretty' ? comparePretty(run, tty && !r.file && !process.env.NO_COLOR)
      : r.name === 'json' ? compareJson(run)
        : r.name === 'tap' ? tap(compareSuite(run)) : r.name === 'junit' ? junit(compareSuite(run)) : html(compareSuite(run));
    writeReport(r, text);
  }
  const c: Record<Class, number> = compareCounts(run);
  return c.differs + c.broken ? 1 : 0;
}
