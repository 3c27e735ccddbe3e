// `virtgold merge-reports A.json B.json … [--reporter NAME:FILE]…`: the JSON reports of the
// shards of one run (`run --shard K/N --reporter json:FILE`) as one report of the whole
// run. The shards must belong together (the same translator and selection, split the same
// way) and hold disjoint entries; missing shards are named, the report of those present
// is still written, and the exit status is 2.
import { readFileSync } from 'node:fs';
import { parseArgs } from './args.js';
import { SetupError, UsageError } from './errors.js';
import type { ShardReport } from './focus.js';
import { plural, summaryLine } from './summary.js';
import { html, json, junit, pretty, tap } from './reporters.js';
import { parseReporters, writeReport } from './run.js';
import { counts, type EntryResult, type Status, type SuiteResult } from './runner.js';
import type { Mode, Outcome } from './types.js';

interface ReportEntry {
  name: string; case: string; mode: Mode; arch: string; version: string; status: Status;
  message?: string; ms?: number; golden?: string; expected?: string; actual?: Outcome;
}

export interface ShardFile {
  file: string;
  translator: string;
  shard: ShardReport;
  seconds: number;
  results: ReportEntry[];
  stale: string[];
}

const STATUSES: Status[] = ['pass', 'fail', 'broken', 'skip'];

/** One shard's JSON report, checked for what merging needs. */
export function readShard(file: string, text?: string): ShardFile {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text ?? readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SetupError(`merge-reports: ${file}: ${code ? `cannot read it (${code})` : 'not JSON'}`);
  }
  const results = raw?.results as ReportEntry[] | undefined;
  const okEntry = (r: ReportEntry) => r && typeof r.name === 'string' && typeof r.case === 'string' && STATUSES.includes(r.status);
  if (typeof raw?.translator !== 'string' || !Array.isArray(results) || !results.every(okEntry) || !Array.isArray(raw.stale)) {
    throw new SetupError(`merge-reports: ${file}: not a JSON report of virtgold run (--reporter json:FILE)`);
  }
  const shard = raw.shard as ShardReport | undefined;
  if (!shard || ![shard.index, shard.total, shard.selected, shard.entries].every(Number.isSafeInteger) || typeof shard.digest !== 'string') {
    throw new SetupError(`merge-reports: ${file}: not the report of a shard (run --shard K/N --reporter json:FILE)`);
  }
  if (shard.entries !== results.length) throw new SetupError(`merge-reports: ${file}: holds ${results.length} of the ${shard.entries} entries of shard ${shard.index}/${shard.total}; it is cut short`);
  const seconds = Number((raw.summary as { seconds?: unknown } | undefined)?.seconds) || 0;
  return { file, translator: raw.translator, shard, seconds, results, stale: raw.stale as string[] };
}

export interface Merged {
  suite: SuiteResult;
  /** shard numbers of the split that no report holds */
  missing: number[];
  /** entries of the selection that no report holds */
  missingEntries: number;
}

const describe = (s: ShardFile) => `${s.file} is shard ${s.shard.index}/${s.shard.total} of ${plural(s.shard.selected, 'entry', 'entries')} (selection ${s.shard.digest}, translator ${s.translator})`;

/** The shards as one suite; throws SetupError when they do not belong together. */
export function mergeShards(shards: ShardFile[]): Merged {
  const [first] = shards;
  if (!first) throw new UsageError('merge-reports: name the JSON reports of the shards');
  for (const s of shards.slice(1)) {
    if (s.translator !== first.translator || s.shard.total !== first.shard.total || s.shard.digest !== first.shard.digest || s.shard.selected !== first.shard.selected) {
      throw new SetupError(`merge-reports: the reports are not shards of one run: ${describe(first)}, but ${describe(s)}`);
    }
  }
  const byIndex = new Map<number, ShardFile>();
  for (const s of shards) {
    const twin = byIndex.get(s.shard.index);
    if (twin) throw new SetupError(`merge-reports: ${twin.file} and ${s.file} are both shard ${s.shard.index}/${s.shard.total}`);
    byIndex.set(s.shard.index, s);
  }
  const seen = new Map<string, string>();
  const results: EntryResult[] = [];
  for (const s of shards) {
    for (const r of s.results) {
      const other = seen.get(r.name);
      if (other) throw new SetupError(`merge-reports: ${r.name} is in both ${other} and ${s.file}; shards hold disjoint entries`);
      seen.set(r.name, s.file);
      results.push({
        entry: { case: { name: r.case, path: '', arch: r.arch, options: {} }, snapshot: { arch: r.arch, version: r.version, path: '' }, mode: r.mode, stem: '', relStem: '' },
        name: r.name, status: r.status, ms: r.ms ?? 0,
        ...(r.message !== undefined ? { message: r.message } : {}),
        ...(r.golden !== undefined ? { goldenPath: r.golden } : {}),
        ...(r.expected !== undefined ? { expected: r.expected } : {}),
        ...(r.actual !== undefined ? { outcome: r.actual } : {}),
      });
    }
  }
  // Matrix order: case, snapshot, mode.
  const key = (r: EntryResult) => [r.entry.case.name, r.entry.snapshot.arch, r.entry.snapshot.version, r.entry.mode];
  results.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  });
  const stale = [...new Set(shards.flatMap((s) => s.stale))].sort();
  const missing = Array.from({ length: first.shard.total }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  return {
    // Shards run side by side: the run took as long as its slowest shard.
    suite: { adapter: first.translator, results, stale, ms: 1000 * Math.max(...shards.map((s) => s.seconds)) },
    missing,
    missingEntries: first.shard.selected - results.length,
  };
}

export async function mergeReportsCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { reporter: { type: 'string', multiple: true } } });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (!positionals.length) throw new UsageError('merge-reports: name the JSON reports of the shards (virtgold run --shard K/N --reporter json:FILE)');
  const reporters = parseReporters(v.reporter);
  const merged = mergeShards(positionals.map((f) => readShard(f)));
  const { suite } = merged;
  const shards = positionals.length;
  for (const r of reporters) {
    const text = r.name === 'pretty' ? pretty(suite, false, '.') : r.name === 'tap' ? tap(suite) : r.name === 'junit' ? junit(suite)
      : r.name === 'html' ? html(suite) : json(suite, '.', { merged: { shards, of: shards + merged.missing.length, missing: merged.missing } });
    writeReport(r, text);
  }
  const c = counts(suite);
  if (merged.missing.length) {
    process.stderr.write(`virtgold: merge-reports: incomplete: no report of shard${merged.missing.length === 1 ? '' : 's'} ${merged.missing.join(', ')} of ${shards + merged.missing.length} (${plural(merged.missingEntries, 'entry', 'entries')} missing); the report holds the ${plural(suite.results.length, 'entry', 'entries')} of the others\n`);
    return 2;
  }
  if (reporters.every((r) => r.file)) process.stderr.write(`merged ${plural(shards, 'shard')}: ${plural(suite.results.length, 'entry', 'entries')}, ${summaryLine(suite)}\n`);
  return c.fail + c.broken + c.stale ? 1 : 0;
}
