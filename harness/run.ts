// `virtgold run` / `virtgold update`: the harness from the command line.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MODES, type Mode } from '../translator/index.js';
import { builtinAdapter, commandAdapter, libvirtAdapter, workerAdapter, type Adapter } from './adapters.js';
import { UsageError } from './cli.js';
import { UserError } from './io.js';
import { dirs, type Filters } from './matrix.js';
import { html, json, junit, pretty, REPORTERS, tap, type ReporterName } from './reporters.js';
import { counts, runSuite } from './runner.js';
import { formatUpdateReport, planUpdate, updateGoldens } from './update.js';

const FILTER_OPTIONS = {
  case: { type: 'string' },
  arch: { type: 'string' },
  version: { type: 'string' },
  mode: { type: 'string' },
  root: { type: 'string' },
} as const;

function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function filtersOf(v: Record<string, unknown>): { filters: Filters; root: string } {
  if (v.mode !== undefined && !MODES.includes(v.mode as Mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}`);
  const filters: Filters = {};
  for (const k of ['case', 'arch', 'version', 'mode'] as const) if (typeof v[k] === 'string') (filters as Record<string, string>)[k] = v[k] as string;
  return { filters, root: resolve((v.root as string | undefined) ?? process.cwd()) };
}

export async function runCommand(command: 'run' | 'update' | 'review', argv: string[]): Promise<number> {
  if (command === 'review') {
    const { values: v } = usage(() => parseArgs({ args: argv, options: FILTER_OPTIONS }));
    const { filters, root } = filtersOf(v);
    const release = takeLock(root);
    try {
      const { review } = await import('./review.js');
      return await review(root, filters);
    } finally {
      release();
    }
  }
  return command === 'update' ? update(argv) : run(argv);
}

async function run(argv: string[]): Promise<number> {
  const { values: v } = usage(() => parseArgs({
    args: argv,
    options: {
      ...FILTER_OPTIONS,
      translator: { type: 'string' },
      'translator-cmd': { type: 'string' },
      'translator-worker': { type: 'string' },
      timeout: { type: 'string' },
      jobs: { type: 'string' },
      reporter: { type: 'string', multiple: true },
      'no-determinism': { type: 'boolean' },
    },
  }));
  const { filters, root } = filtersOf(v);
  const timeout = v.timeout === undefined ? 10_000 : Number(v.timeout);
  if (!Number.isInteger(timeout) || timeout <= 0) throw new UsageError('--timeout takes a positive number of milliseconds');
  const jobs = v.jobs === undefined ? availableParallelism() : Number(v.jobs);
  if (!Number.isInteger(jobs) || jobs <= 0) throw new UsageError('--jobs takes a positive whole number');
  const reporters = (v.reporter ?? ['pretty']).map((spec) => {
    const i = spec.indexOf(':');
    const name = (i < 0 ? spec : spec.slice(0, i)) as ReporterName;
    if (!REPORTERS.includes(name)) throw new UsageError(`unknown reporter '${name}' (one of ${REPORTERS.join(', ')})`);
    return { name, file: i < 0 ? undefined : spec.slice(i + 1) };
  });
  if ([v.translator, v['translator-cmd'], v['translator-worker']].filter((x) => x !== undefined).length > 1) {
    throw new UsageError('use one of --translator, --translator-cmd, --translator-worker');
  }

  let adapter: Adapter;
  try {
    if (v['translator-cmd'] !== undefined) adapter = commandAdapter(v['translator-cmd'], timeout);
    else if (v['translator-worker'] !== undefined) adapter = workerAdapter(v['translator-worker'], timeout, jobs);
    else if (v.translator === undefined || v.translator === 'builtin') adapter = builtinAdapter;
    else if (v.translator === 'libvirt') adapter = await libvirtAdapter();
    else throw new UsageError(`unknown translator '${v.translator}' (builtin or libvirt; or --translator-cmd)`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }

  const tty = process.stdout.isTTY === true;
  const suite = await runSuite({
    root, filters, adapter, jobs: adapter.name.startsWith('libvirt') ? 1 : jobs,
    determinism: !v['no-determinism'],
    // A progress line only on a terminal, and only for runs long enough to want one.
    onResult: tty ? (_r, done, total) => { if (total > 50) process.stderr.write(`\r${done}/${total}`); } : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');

  for (const r of reporters) {
    const text = r.name === 'pretty' ? pretty(suite, tty && !r.file && !process.env.NO_COLOR, root)
      : r.name === 'tap' ? tap(suite) : r.name === 'junit' ? junit(suite) : r.name === 'html' ? html(suite) : json(suite, root);
    if (r.file) {
      mkdirSync(dirname(resolve(r.file)), { recursive: true });
      writeFileSync(r.file, text);
    } else {
      process.stdout.write(text);
    }
  }
  const c = counts(suite);
  return c.fail + c.broken ? 1 : 0;
}

/** One `update` at a time: a lock file in golden/, taken over only from a dead process. */
function takeLock(root: string): () => void {
  const path = join(dirs(root).golden, '.update.lock');
  mkdirSync(dirs(root).golden, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => { try { unlinkSync(path); } catch { /* gone already */ } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8').trim());
      let alive = false;
      try { process.kill(pid, 0); alive = pid > 0; } catch { alive = false; }
      if (alive) throw new UserError(`another update is running (pid ${pid}, lock ${path}); wait for it to finish`);
      unlinkSync(path); // left by a process that died
    }
  }
  throw new UserError(`cannot take the lock ${path}`);
}

async function update(argv: string[]): Promise<number> {
  const { values: v } = usage(() => parseArgs({ args: argv, options: { ...FILTER_OPTIONS, check: { type: 'boolean' }, prune: { type: 'boolean' } } }));
  const prune = v.prune === true;
  const { filters, root } = filtersOf(v);
  if (v.check) {
    const report = planUpdate(root, filters, undefined, prune);
    process.stdout.write(formatUpdateReport(report, true));
    return report.created.length + report.updated.length + report.removed.length + report.crashed.length ? 1 : 0;
  }
  const release = takeLock(root);
  try {
    const report = updateGoldens(root, filters, undefined, prune);
    process.stdout.write(formatUpdateReport(report));
    return report.crashed.length ? 1 : 0;
  } finally {
    release();
  }
}
