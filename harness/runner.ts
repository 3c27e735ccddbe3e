// Runs the matrix through an adapter (in parallel) and judges every entry.
import { readFileSync } from 'node:fs';
import type { Adapter } from './adapters.js';
import { buildMatrix, type Filters, type MatrixEntry } from './matrix.js';
import { createTwoFilesPatch } from 'diff';
import { checkIdempotent, judge, staleGoldens, type Outcome } from './suite.js';

export type Status = 'pass' | 'fail' | 'broken' | 'skip';

export interface EntryResult {
  entry: MatrixEntry;
  name: string;
  status: Status;
  /** the diff or the explanation, for fail / broken / skip */
  message?: string;
  outcome?: Outcome;
  /** the golden the outcome was compared with, when there is one */
  expected?: string;
  goldenPath?: string;
  ms: number;
}

export interface SuiteResult {
  adapter: string;
  results: EntryResult[];
  stale: string[];
  ms: number;
}

export interface RunOptions {
  root: string;
  filters: Filters;
  adapter: Adapter;
  jobs: number;
  /** translate every entry twice and fail when the two differ */
  determinism: boolean;
  onResult?: (r: EntryResult, done: number, total: number) => void;
}

export const entryName = (e: MatrixEntry) => `${e.mode} ${e.case.name} ${e.snapshot.arch}-${e.snapshot.version}`;

const outcomeText = (o: Outcome) => (o.kind === 'crash' ? `(crash: ${o.message})\n` : o.text);

async function runEntry(entry: MatrixEntry, opts: RunOptions): Promise<EntryResult> {
  const start = performance.now();
  const name = entryName(entry);
  const xml = readFileSync(entry.case.path, 'utf8');
  const done = (r: Omit<EntryResult, 'entry' | 'name' | 'ms'>): EntryResult => ({ entry, name, ms: performance.now() - start, ...r });
  const reason = opts.adapter.skip?.(entry, xml);
  if (reason) return done({ status: 'skip', message: reason });
  const outcome = await opts.adapter.translate(entry, xml);
  if (outcome.kind === 'crash') return done({ status: 'broken', message: `broken translator: ${outcome.message}`, outcome });
  if (opts.determinism) {
    const again = await opts.adapter.translate(entry, xml);
    if (again.kind !== outcome.kind || outcomeText(again) !== outcomeText(outcome)) {
      const diff = createTwoFilesPatch(`${name} (first run)`, `${name} (second run)`, outcomeText(outcome), outcomeText(again));
      return done({ status: 'fail', outcome, message: `not deterministic: a second translation differs\n${diff}` });
    }
  }
  const verdict = judge(entry, outcome);
  const verdicts = [verdict];
  if (opts.adapter.name === 'builtin') verdicts.push(checkIdempotent(entry, outcome));
  const bad = verdicts.filter((v) => !v.ok);
  const golden = verdict.golden ? { expected: verdict.golden.text, goldenPath: verdict.golden.rel } : {};
  return done({ status: bad.length ? 'fail' : 'pass', outcome, ...golden, ...(bad.length ? { message: bad.map((v) => v.message).join('\n') } : {}) });
}

export async function runSuite(opts: RunOptions): Promise<SuiteResult> {
  const start = performance.now();
  const entries = buildMatrix(opts.root, opts.filters);
  const results: EntryResult[] = new Array(entries.length);
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      results[i] = await runEntry(entries[i]!, opts);
      opts.onResult?.(results[i]!, ++finished, entries.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, entries.length)) }, worker));
  await opts.adapter.close?.();
  const unfiltered = !Object.values(opts.filters).some((v) => v !== undefined);
  const stale = unfiltered ? staleGoldens(opts.root, buildMatrix(opts.root)) : [];
  return { adapter: opts.adapter.name, results, stale, ms: performance.now() - start };
}

export function counts(s: SuiteResult): Record<Status, number> {
  const c: Record<Status, number> = { pass: 0, fail: 0, broken: 0, skip: 0 };
  for (const r of s.results) c[r.status]++;
  c.fail += s.stale.length;
  return c;
}
