// The one runner: every command (run, update, review) and interop put the selected
// entries through an adapter here, in parallel, in matrix order.
import { checkedSelection, readCase } from './cases.js';
import { boundedPatch, keptText } from './diff.js';
import { existingGoldens, lookupGolden, staleGoldens } from './goldens.js';
import { checkIdempotent, judge, type Verdict } from './judge.js';
import { checkSnapshots } from './preflight.js';
import { ownRefusalSkip } from './refusals.js';
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
  /** goldens no entry produces, within the filters (absolute paths; each fails the run,
   *  counted on their own, not as failed entries) */
  stale: string[];
  /** the project root (stale goldens are shown relative to it) */
  root?: string;
  ms: number;
  /** the command that reproduces an entry's result (harness/failure-context.ts), set by `run` */
  reproduce?: (entry: MatrixEntry) => string;
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
  /** pending results and --update (harness/pending.ts): each outcome judged against its
   *  golden file, with whether it matched; a golden returned (written by --update) is
   *  what the outcome is then judged against */
  golden?: (entry: MatrixEntry, outcome: Outcome & { kind: 'output' | 'error' }, ok: boolean) => Golden | undefined;
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
  const instead = adapter.expected?.(entry, xml);
  let expected: Golden | string = instead ?? lookupGolden(entry, onDisk);
  const reason = adapter.skip?.(entry, xml, typeof expected === 'string' ? undefined : expected) ?? ownRefusalSkip(adapter, expected);
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
  const normalize = adapter.normalize && ((t: string) => adapter.normalize!(entry, t));
  const verdicts: Verdict[] = [judge(outcome, expected, normalize)];
  if (opts.golden && instead === undefined) {
    const written = opts.golden(entry, outcome, verdicts[0]!.ok);
    if (written) verdicts[0] = judge(outcome, (expected = written), normalize);
  }
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
    checkSnapshots(opts.root, entries);
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
  return { adapter: opts.adapter.name, results, stale, root: opts.root, ms: performance.now() - start };
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

/** Translate the selection without judging it (`update`, `review`): outcomes, the entries
 *  the translator is not asked (its own skips, virtgold's own refusals for any translator
 *  but the reference one, errors that depend on the host), and the whole matrix the stale
 *  goldens are judged against. */
export async function translateSelection(sel: Selected, adapter: Adapter, jobs = 1): Promise<{ all: MatrixEntry[]; translated: Translated[]; skipped: { entry: MatrixEntry; reason: string }[] }> {
  const skipped: { entry: MatrixEntry; reason: string }[] = [];
  let all: MatrixEntry[];
  let translated: Translated[];
  try {
    const sl = checkedSelection(sel.root, sel.filters, sel.passWithNoEntries);
    all = sl.all;
    checkSnapshots(sel.root, sl.entries);
    const asked = adapter.reference ? sl.entries.map((entry) => ({ entry, xml: '' })) : sl.entries.flatMap((entry) => {
      const xml = readCase(entry);
      const expected = lookupGolden(entry);
      const reason = adapter.skip?.(entry, xml, typeof expected === 'string' ? undefined : expected) ?? ownRefusalSkip(adapter, expected);
      if (reason) skipped.push({ entry, reason });
      return reason ? [] : [{ entry, xml }];
    });
    await adapter.prepare?.(asked);
    translated = await inParallel(asked, adapter.drivesHost ? 1 : jobs, async ({ entry, xml }) => ({ entry, outcome: await adapter.translate(entry, xml || readCase(entry)) }));
  } finally {
    await adapter.close?.();
  }
  // What a worker sent after answering (a second answer) breaks that entry: nothing written.
  for (const { entry, message } of adapter.lateProblems?.() ?? []) {
    const t = translated.find((x) => x.entry === entry);
    if (t) t.outcome = { kind: 'crash', message };
  }
  // An error that depends on the host (real libvirt's missing file) is no golden.
  translated = translated.filter((t) => {
    const host = t.outcome.kind === 'error' ? adapter.hostSpecific?.(t.outcome.text) : undefined;
    if (host) skipped.push({ entry: t.entry, reason: `depends on the host: ${host}` });
    return !host;
  });
  return { all, translated, skipped };
}

/** Entries by status, and stale goldens on their own: pass + fail + broken + skip is the
 *  number of entries; a run fails on fail, broken or stale. */
export function counts(s: SuiteResult): Record<Status | 'stale', number> {
  const c: Record<Status | 'stale', number> = { pass: 0, fail: 0, broken: 0, skip: 0, stale: s.stale.length };
  for (const r of s.results) c[r.status]++;
  return c;
}
