// The one runner: every command (run, update, review) and interop put the selected
// entries through an adapter here, in parallel, in matrix order.
import { checkedSelection, readCase } from './cases.js';
import { boundedPatch, keptText } from './diff.js';
import { existingGoldens, lookupGolden, staleGoldens } from './goldens.js';
import { checkIdempotent, judge, type Verdict } from './judge.js';
import type { Adapter, Filters, Golden, MatrixEntry, Outcome } from './types.js';

export type Status = 'pass' | 'fail' | 'broken' | 'skip';

export interface EntryResult {
  entry: MatrixEntry;
  name: string;
  status: Status;
  /** the diff or the explanation, for fail / broken / skip */
  message?: string;
  outcome?: Outcome;
  /** what the outcome was compared with, when there was something */
  expected?: string;
  goldenPath?: string;
  ms: number;
}

export interface SuiteResult {
  adapter: string;
  results: EntryResult[];
  /** goldens no entry produces, within the filters (each counts as a failure) */
  stale: string[];
  ms: number;
}

export interface Selected {
  root: string;
  filters: Filters;
  /** run even when the selection is empty or a filter matches nothing */
  passWithNoEntries?: boolean;
}

export interface RunOptions extends Selected {
  adapter: Adapter;
  jobs: number;
  /** translate every entry twice and fail when the two differ */
  determinism: boolean;
  /** `--schema`: checks the entry's input and xml2xml output against the schema */
  schema?: (entry: MatrixEntry, xml: string, outcome: Outcome) => Verdict;
  onResult?: (r: EntryResult, done: number, total: number) => void;
  /** run only part of the selection (--only-failures, --shard: harness/focus.ts) */
  narrow?: (entries: MatrixEntry[]) => MatrixEntry[];
  /** leave stale goldens to another run (shards other than the first) */
  skipStale?: boolean;
}

export const entryName = (e: MatrixEntry) => `${e.mode} ${e.case.name} ${e.snapshot.arch}-${e.snapshot.version}`;

/** fn over every item, at most `jobs` at a time; results in input order. */
export async function inParallel<T, R>(items: T[], jobs: number, fn: (item: T) => Promise<R>, done?: (r: R, n: number) => void): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let finished = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
      done?.(results[i]!, ++finished);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  return results;
}

const outcomeText = (o: Outcome) => (o.kind === 'crash' ? `(crash: ${o.message})\n` : o.text);

async function runEntry(entry: MatrixEntry, opts: RunOptions, onDisk: ReadonlySet<string>): Promise<EntryResult> {
  const { adapter } = opts;
  const start = performance.now();
  const name = entryName(entry);
  const xml = readCase(entry);
  const done = (r: Omit<EntryResult, 'entry' | 'name' | 'ms'>): EntryResult => ({ entry, name, ms: performance.now() - start, ...r });
  const expected: Golden | string = adapter.expected?.(entry, xml) ?? lookupGolden(entry, onDisk);
  const reason = adapter.skip?.(entry, xml, typeof expected === 'string' ? undefined : expected);
  if (reason) return done({ status: 'skip', message: reason });
  const outcome = await adapter.translate(entry, xml);
  if (outcome.kind === 'crash') return done({ status: 'broken', message: `broken translator: ${outcome.message}`, outcome });
  if (opts.determinism) {
    const again = await adapter.translate(entry, xml);
    // A translator that breaks the second time is broken, not merely non-deterministic.
    if (again.kind === 'crash') return done({ status: 'broken', message: `broken translator (second run): ${again.message}`, outcome: again });
    // (what the adapter normalizes away, such as real libvirt's tap descriptors, may differ)
    const norm = (o: Outcome) => (adapter.normalize && o.kind === 'output' ? adapter.normalize(entry, o.text) : outcomeText(o));
    if (again.kind !== outcome.kind || norm(again) !== norm(outcome)) {
      const diff = boundedPatch(`${name} (first run)`, `${name} (second run)`, outcomeText(outcome), outcomeText(again));
      const kept: Outcome = { ...outcome, text: keptText(outcome.text) };
      return done({ status: 'fail', outcome: kept, message: `not deterministic: a second translation differs\n${diff}` });
    }
  }
  const verdicts: Verdict[] = [judge(outcome, expected, adapter.normalize && ((t) => adapter.normalize!(entry, t)))];
  if (adapter.checksIdempotence) verdicts.push(checkIdempotent(entry, outcome));
  if (opts.schema) verdicts.push(opts.schema(entry, xml, outcome));
  const bad = verdicts.filter((v) => !v.ok);
  const golden = typeof expected === 'string' ? {} : { expected: expected.text, goldenPath: expected.rel };
  // A failing output is kept for the reports only in part (a passing one is its golden).
  const kept: Outcome = bad.length ? { ...outcome, text: keptText(outcome.text) } : outcome;
  return done({ status: bad.length ? 'fail' : 'pass', outcome: kept, ...golden, ...(bad.length ? { message: bad.map((v) => v.message).join('\n') } : {}) });
}

/** Run and judge the selection (`virtgold run`, interop, the html/tap/… reporters' input). */
export async function runSuite(opts: RunOptions): Promise<SuiteResult> {
  const start = performance.now();
  let results: EntryResult[];
  let stale: string[];
  try {
    const { all, entries: selected } = checkedSelection(opts.root, opts.filters, opts.passWithNoEntries);
    const entries = opts.narrow ? opts.narrow(selected) : selected;
    // A translator that answers in batches (libvirt's harness) gets the selection first.
    await opts.adapter.prepare?.(entries.map((entry) => ({ entry, xml: readCase(entry) })));
    // The golden tree as the run found it: looked up for every entry, and for stale goldens.
    const onDisk = existingGoldens(opts.root);
    const listed = new Set(onDisk);
    results = await inParallel(entries, opts.jobs, (e) => runEntry(e, opts, listed), (r, n) => opts.onResult?.(r, n, entries.length));
    stale = opts.skipStale ? [] : staleGoldens(opts.root, all, opts.filters, onDisk);
  } finally {
    await opts.adapter.close?.();
  }
  markLate(results, opts.adapter); // after close: what a worker sent last is in
  return { adapter: opts.adapter.name, results, stale, ms: performance.now() - start };
}

/** Entries found broken after they were judged (a worker that answered twice). */
function markLate(results: EntryResult[], adapter: Adapter): void {
  for (const { entry, message } of adapter.lateProblems?.() ?? []) {
    const r = results.find((x) => x.entry === entry);
    if (!r) continue;
    r.status = 'broken';
    r.message = `broken translator: ${message}`;
  }
}

export interface Translated {
  entry: MatrixEntry;
  outcome: Outcome;
}

/** Translate the selection without judging it (`update`, `review`): outcomes, and the
 *  whole matrix the stale goldens are judged against. */
export async function translateSelection(sel: Selected, adapter: Adapter, jobs = 1): Promise<{ all: MatrixEntry[]; translated: Translated[] }> {
  try {
    const { all, entries } = checkedSelection(sel.root, sel.filters, sel.passWithNoEntries);
    const translated = await inParallel(entries, jobs, async (entry) => ({ entry, outcome: await adapter.translate(entry, readCase(entry)) }));
    return { all, translated };
  } finally {
    await adapter.close?.();
  }
}

export function counts(s: SuiteResult): Record<Status, number> {
  const c: Record<Status, number> = { pass: 0, fail: 0, broken: 0, skip: 0 };
  for (const r of s.results) c[r.status]++;
  c.fail += s.stale.length;
  return c;
}
