// `virtgold run` / `update` / `review`: their options, then the runner.
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { MODES, type Mode } from '../translator/index.js';
import { builtinAdapter, builtinAdapterWith, commandAdapter, workerAdapter, type Adapter } from './adapters.js';
import { parseArgs } from './args.js';
import { SetupError, UsageError } from './errors.js';
import { takeLock } from './goldens.js';
import { libvirtAdapter } from './libvirt.js';
import { libvirtTestsAdapter } from './libvirt-tests-adapter.js';
import { DEFAULT_MAX_OUTPUT } from './proc.js';
import { focusOf } from './focus.js';
import { recordOf, writeLastRun } from './last-run.js';
import { parseShard } from './shard.js';
import { findProject } from './project.js';
import { html, json, junit, pretty, REPORTERS, tap, type ReporterName } from './reporters.js';
import { realPathOf } from './confine.js';
import { reproducer, shellQuote } from './failure-context.js';
import { wantsColor } from './intraline.js';
import { pendingFooter, pendingKeeper, updateFromEnv } from './pending.js';
import { plainProgress } from './progress.js';
import { checkReportFiles, writeReportFile } from './report-files.js';
import { counts, entryName, runSuite, type Selected } from './runner.js';
import { loadSchema, schemaCheck } from './schema.js';
import { onStop, stoppingBy } from './stop.js';
import type { Filters, Outcome } from './types.js';
import { formatUpdateReport, outOfDate, plan, turn, updateGoldens } from './update.js';

export const SELECTION_OPTIONS = {
  case: { type: 'string', multiple: true },
  arch: { type: 'string', multiple: true },
  version: { type: 'string', multiple: true },
  mode: { type: 'string', multiple: true },
  root: { type: 'string' },
  'pass-with-no-entries': { type: 'boolean' },
} as const;

function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Filters (repeated values combine), the project root, and the empty-run opt-in. */
export function selectionOf(v: { case?: string[]; arch?: string[]; version?: string[]; mode?: string[]; root?: string; 'pass-with-no-entries'?: boolean }, cwd = process.cwd()): Selected {
  for (const m of v.mode ?? []) if (!MODES.includes(m as Mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')} (got '${m}')`);
  const filters: Filters = {};
  if (v.case) filters.case = v.case;
  if (v.arch) filters.arch = v.arch;
  if (v.version) filters.version = v.version;
  if (v.mode) filters.mode = v.mode as Mode[];
  return { root: findProject(v.root, cwd), filters, passWithNoEntries: v['pass-with-no-entries'] === true };
}

/** Positional arguments are --case patterns: `virtgold run 'hostdev/*'`. */
export const withPositionals = <T extends { case?: string[] }>(v: T, positionals: string[]): T =>
  (positionals.length ? { ...v, case: [...(v.case ?? []), ...positionals] } : v);

/** The translator options of run, update and review: whose outputs are compared, or
 *  written as goldens (a tool author blesses their own translator). */
const TRANSLATOR_OPTIONS = {
  translator: { type: 'string' },
  'translator-cmd': { type: 'string' },
  'translator-worker': { type: 'string' },
  timeout: { type: 'string' },
  'max-output': { type: 'string' },
  jobs: { type: 'string' },
} as const;

/** update's and review's translator: the reference translator unless one is named. */
async function writerOf(v: AdapterFlags & { timeout?: string; jobs?: string; 'max-output'?: string }): Promise<{ adapter?: Adapter; jobs?: number }> {
  const limits = timeoutAndJobs(v);
  const adapter = await chooseAdapter('translator', v, limits);
  return adapter ? { adapter, jobs: limits.jobs } : {};
}

export async function runCommand(command: 'run' | 'update' | 'review', argv: string[]): Promise<number> {
  if (command === 'review') {
    const { values: v, positionals } = usage(() => parseArgs({ args: argv, allowPositionals: true, options: { ...SELECTION_OPTIONS, ...TRANSLATOR_OPTIONS } }));
    const sel = selectionOf(withPositionals(v, positionals));
    const writer = await writerOf(v);
    const { review } = await import('./review.js');
    return locked(sel.root, () => review({ ...sel, ...writer, translatorFlag: translatorFlagOf(v) }));
  }
  return command === 'update' ? update(argv) : run(argv);
}

/** The --translator* option as typed (for messages), if one was given. */
function translatorFlagOf(v: AdapterFlags): string | undefined {
  const k = (['translator', 'translator-cmd', 'translator-worker'] as const).find((x) => v[x] !== undefined);
  return k && `--${k} ${shellQuote(v[k]!)}`;
}

type AdapterFlags = Partial<Record<'translator' | 'translator-cmd' | 'translator-worker' | 'reference' | 'reference-cmd' | 'reference-worker', string>>;

/** The adapter named by --translator* (run, compare) or --reference* (compare): builtin,
 *  libvirt, a command or a worker; undefined when none of the three options is given. */
export async function chooseAdapter(side: 'translator' | 'reference', v: AdapterFlags, limits: Limits): Promise<Adapter | undefined> {
  const { timeout, jobs, maxOutput } = limits;
  const name = v[side];
  const cmd = v[`${side}-cmd`];
  const worker = v[`${side}-worker`];
  if ([name, cmd, worker].filter((x) => x !== undefined).length > 1) {
    throw new UsageError(`use one of --${side}, --${side}-cmd, --${side}-worker`);
  }
  try {
    if (cmd !== undefined) return commandAdapter(cmd, timeout, maxOutput, `--${side}-cmd`);
    if (worker !== undefined) return workerAdapter(worker, timeout, jobs, maxOutput, `--${side}-worker`);
    if (name === undefined) return undefined;
    if (name === 'builtin') return builtinAdapterWith(timeout);
    // The host cannot give what was asked (no daemon, no harness programs): setup, not usage.
    if (name === 'libvirt') return await libvirtAdapter().catch((e: Error) => { throw new SetupError(e.message); });
    if (name === 'libvirt-tests') return await libvirtTestsAdapter().catch((e: Error) => { throw new SetupError(e.message); });
  } catch (e) {
    if (e instanceof SetupError || e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
  throw new UsageError(`unknown ${side} '${name}' (builtin, libvirt or libvirt-tests; or --${side}-cmd, --${side}-worker)`);
}

export interface ReporterSpec { name: ReporterName; file?: string }

/** --reporter NAME[:FILE], repeatable; pretty to stdout when none is given. Each FILE is
 *  checked now, before anything runs. */
export function parseReporters(specs: string[] | undefined): ReporterSpec[] {
  const specsOut = (specs ?? ['pretty']).map((spec): ReporterSpec => {
    const i = spec.indexOf(':');
    const name = (i < 0 ? spec : spec.slice(0, i)) as ReporterName;
    if (!REPORTERS.includes(name)) throw new UsageError(`unknown reporter '${name}' (one of ${REPORTERS.join(', ')})`);
    return i < 0 ? { name } : { name, file: spec.slice(i + 1) };
  });
  checkReportFiles(specsOut.map((r) => r.file));
  return specsOut;
}

/** A report to its FILE (folders created) or to stdout. */
export function writeReport(r: ReporterSpec, text: string): void {
  if (r.file !== undefined) {
    writeReportFile(r.file, text);
  } else {
    process.stdout.write(text);
  }
}

export interface Limits { timeout: number; jobs: number; maxOutput: number }

/** Node's timers hold at most 2^31-1 ms (24.8 days); a longer one would fire at once. */
const MAX_TIMEOUT = 2 ** 31 - 1;

/** A size: bytes, or with a unit K/M/G (KiB, MiB, GiB; an optional trailing "iB" or "B"). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)\s*(?:([KMG])(?:i?B)?|B)?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * 1024 ** (m[2] ? 'KMG'.indexOf(m[2].toUpperCase()) + 1 : 0);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** --timeout MS, --jobs N and --max-output SIZE. */
export function timeoutAndJobs(v: { timeout?: string; jobs?: string; 'max-output'?: string }): Limits {
  const timeout = v.timeout === undefined ? 10_000 : Number(v.timeout);
  if (!Number.isInteger(timeout) || timeout <= 0 || timeout > MAX_TIMEOUT) {
    throw new UsageError(`--timeout takes a positive number of milliseconds, at most ${MAX_TIMEOUT} (got '${v.timeout}')`);
  }
  const jobs = v.jobs === undefined ? availableParallelism() : Number(v.jobs);
  if (!Number.isInteger(jobs) || jobs <= 0) throw new UsageError(`--jobs takes a positive whole number (got '${v.jobs}')`);
  const maxOutput = v['max-output'] === undefined ? DEFAULT_MAX_OUTPUT : parseSize(v['max-output']);
  if (!maxOutput || maxOutput > 1024 ** 3) throw new UsageError(`--max-output takes a size from 1 byte to 1G, e.g. 16M, 512K, 1000000 (got '${v['max-output']}')`);
  return { timeout, jobs, maxOutput };
}

async function run(argv: string[]): Promise<number> {
  const { values: v, positionals } = usage(() => parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...SELECTION_OPTIONS,
      'only-failures': { type: 'boolean' },
      shard: { type: 'string' },
      watch: { type: 'boolean' },
      ...TRANSLATOR_OPTIONS,
      reporter: { type: 'string', multiple: true },
      'no-determinism': { type: 'boolean' },
      schema: { type: 'boolean' },
      update: { type: 'boolean', short: 'u' },
    },
  }));
  const sel = selectionOf(withPositionals(v, positionals));
  const limits = timeoutAndJobs(v);
  const { jobs } = limits;
  const reporters = parseReporters(v.reporter);
  if (v.shard !== undefined) parseShard(v.shard); // a usage error before anything starts, --watch too
  if (v.watch) return (await import('./watch.js')).watch(argv, sel);
  const focus = focusOf(sel.root, { onlyFailures: v['only-failures'], shard: v.shard }, (line) => process.stderr.write(`${line}\n`));
  if (typeof focus === 'string') {
    process.stdout.write(`${focus}\n`);
    return 0;
  }
  // Loaded before the adapter starts anything, so a missing schema stops the run at once.
  const schema = v.schema ? schemaCheck(await loadSchema().catch((e: Error) => { throw new SetupError(`--schema: ${e.message}`); })) : undefined;
  const adapter = (await chooseAdapter('translator', v, limits)) ?? builtinAdapterWith(limits.timeout);

  const tty = process.stdout.isTTY === true;
  // Failing results are kept as pending (harness/pending.ts), or with --update written as
  // goldens at once; the update lock is then held for the run.
  const fromEnv = updateFromEnv();
  const update = v.update === true || fromEnv === 'update';
  const reproduce = reproducer(v, sel.root);
  const go = async () => {
    const keeper = pendingKeeper(sel.root, adapter.name, { update, keep: fromEnv !== 'none', command: reproduce });
    const suite = await runSuite({
      ...sel, adapter, jobs: adapter.drivesHost ? 1 : jobs,
      determinism: !v['no-determinism'],
      schema,
      golden: keeper.golden,
      narrow: focus.narrow,
      skipStale: focus.skipStale,
      // Progress on a terminal: a count for runs long enough to want one; elsewhere (CI)
      // a line now and then (harness/progress.ts). Both on stderr, never in a report.
      onResult: tty ? (_r, done, total) => { if (total > 50) process.stderr.write(`\r${done}/${total}`); }
        : plainProgress((line) => process.stderr.write(line)),
    });
    if (tty) process.stderr.write('\r\x1b[K');
    suite.reproduce = reproduce;
    return { suite, keeper };
  };
  const { suite, keeper } = update ? await lockedValue(sel.root, go) : await go();

  for (const r of reporters) {
    const text = r.name === 'pretty' ? pretty(suite, !r.file && wantsColor(process.stdout), sel.root)
      : r.name === 'tap' ? tap(suite) : r.name === 'junit' ? junit(suite) : r.name === 'html' ? html(suite)
        : json(suite, sel.root, focus.shardReport ? { shard: focus.shardReport() } : {});
    writeReport(r, text);
  }
  const unrecorded = writeLastRun(sel.root, recordOf(suite));
  if (unrecorded) process.stderr.write(`virtgold: warning: ${unrecorded}\n`);
  // What is pending and how to act on it: after the pretty report on stdout, else on
  // stderr (a report on stdout stays machine-readable).
  const footer = pendingFooter(sel.root, keeper) + (keeper.problem ? `warning: ${keeper.problem}\n` : '');
  (reporters.some((r) => r.name === 'pretty' && !r.file) ? process.stdout : process.stderr).write(footer);
  const c = counts(suite);
  return c.fail + c.broken + c.stale ? 1 : 0;
}

async function update(argv: string[]): Promise<number> {
  const { values: v, positionals } = usage(() => parseArgs({ args: argv, allowPositionals: true, options: { ...SELECTION_OPTIONS, ...TRANSLATOR_OPTIONS, check: { type: 'boolean' }, prune: { type: 'boolean' } } }));
  const sel = selectionOf(withPositionals(v, positionals));
  const writer = await writerOf(v);
  // (the reference translator, in-process, as ever: one at a time)
  const o = { ...sel, prune: v.prune === true, ...(writer.adapter ? { adapter: writer.adapter, jobs: writer.jobs } : {}) };
  if (v.check) {
    const { report } = await plan(o);
    process.stdout.write(formatUpdateReport(report, true));
    return outOfDate(report) ? 1 : 0;
  }
  return locked(o.root, async () => {
    // Translations are cached, so that when a write fails the plan can be made again
    // cheaply: what it still holds was not applied, the rest was.
    const adapter = cachingAdapter(o.adapter ?? builtinAdapter);
    const planned = (await plan({ ...o, adapter })).report;
    try {
      const report = await updateGoldens({ ...o, adapter });
      process.stdout.write(formatUpdateReport(report));
      return report.crashed.length ? 1 : 0;
    } catch (e) {
      const why = fsProblem(e, o.root);
      if (!why) throw e;
      const left = (await plan({ ...o, adapter })).report;
      const pending = new Set([...left.created, ...left.updated, ...left.removed]);
      const done = (l: string[]) => l.filter((p) => !pending.has(p));
      process.stdout.write(formatUpdateReport({ ...planned, created: done(planned.created), updated: done(planned.updated), removed: done(planned.removed) }));
      throw new SetupError(`update stopped: ${why}; the changes above were applied, ${pending.size} not (virtgold update --check lists them)`);
    }
  });
}

/** FN holding the update lock, released also on Ctrl-C, SIGTERM and SIGHUP (exit 128+N),
 *  after every cleanup registered since (harness/stop.ts: libvirt's domains undefined,
 *  translators killed, temporary folders removed). Each golden write is synchronous, so a
 *  signal is handled between two of them (update yields after each), never in the middle
 *  of one: the tree is left as a prefix of the update, which is consistent (see
 *  updateGoldens). */
export async function locked(root: string, fn: () => Promise<number>): Promise<number> {
  let release: (() => void) | undefined;
  // Registered before the lock exists: no moment holds the lock with the default action.
  const off = onStop(() => {
    release?.();
    if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
  });
  try {
    release = lockOrSay(root);
    return await fn();
  } finally {
    await turn(); // a signal that came during the last step is still handled as one
    if (!stoppingBy()) {
      // Released before the cleanup goes: no moment holds the lock with the default action.
      release?.();
      off();
    }
  }
}

/** A file the harness cannot write, said in one line (relative to the project); undefined
 *  for anything else (a bug, reported as such). */
function fsProblem(e: unknown, root: string): string | undefined {
  const { code, path } = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system',
    ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EIO: 'input/output error',
  };
  if (!code || !why[code]) return undefined;
  // The temporary file of an atomic write is named after the golden (or the lock): name that.
  const file = path ? relative(root, realPathOf(path)).replace(/(^|\/)\.([^/]+)\.\d+\.tmp$/, '$1$2').replace(/(^|\/)update\.lock\.[0-9a-f]+$/, '$1.update.lock') : 'in golden/';
  return `cannot write ${file}: ${why[code]} (${code})`;
}

/** FN's value, computed holding the update lock (run --update). */
async function lockedValue<T>(root: string, fn: () => Promise<T>): Promise<T> {
  let value: T | undefined;
  await locked(root, async () => {
    try {
      value = await fn();
    } catch (e) {
      const why = fsProblem(e, root);
      throw why ? new SetupError(`run --update stopped: ${why}`) : e;
    }
    return 0;
  });
  return value!;
}

/** The update lock, or one line saying why golden/ cannot hold it. */
function lockOrSay(root: string): () => void {
  try {
    return takeLock(root);
  } catch (e) {
    const why = fsProblem(e, root);
    if (why) throw new SetupError(`cannot take the update lock: ${why}`);
    throw e;
  }
}

/** The same translation is asked for at most once (update plans twice when a write fails),
 *  a batch translator prepared once. */
function cachingAdapter(a: Adapter): Adapter {
  const seen = new Map<string, Promise<Outcome>>();
  let prepared: Promise<void> | undefined;
  return {
    ...a,
    ...(a.prepare ? { prepare: (jobs) => (prepared ??= a.prepare!(jobs)) } : {}),
    translate(entry, xml) {
      const key = `${entryName(entry)}\0${xml}`;
      let o = seen.get(key);
      if (!o) seen.set(key, (o = a.translate(entry, xml)));
      return o;
    },
  };
}
