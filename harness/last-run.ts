// The record of the last `run` (.virtgold/last-run.json, git-ignored): which entries
// failed or broke, so that `run --only-failures` can run just those again. Written
// atomically inside the project; a record that cannot be written is said, not fatal.
import { closeDir, openDir, readInside, writeAtomicIn } from './confine.js';
import { SetupError } from './errors.js';
import type { SuiteResult } from './runner.js';
import { join } from 'node:path';

export const STATE_DIR = '.virtgold';
export const LAST_RUN = `${STATE_DIR}/last-run.json`;

export interface LastRun {
  version: 1;
  /** ISO time the run ended */
  finished: string;
  translator: string;
  /** entries run */
  entries: number;
  /** names (as entryName gives them) of the entries that failed or broke */
  failed: string[];
  stale: number;
}

export function recordOf(s: SuiteResult, now = new Date()): LastRun {
  return {
    version: 1,
    finished: now.toISOString(),
    translator: s.adapter,
    entries: s.results.length,
    failed: s.results.filter((r) => r.status === 'fail' || r.status === 'broken').map((r) => r.name),
    stale: s.stale.length,
  };
}

/** Write the record; undefined when written, else why not (one line). */
export function writeLastRun(root: string, record: LastRun): string | undefined {
  try {
    const d = openDir(root, STATE_DIR, true)!;
    try {
      writeAtomicIn(d, 'last-run.json', `${JSON.stringify(record, null, 2)}\n`);
    } finally {
      closeDir(d);
    }
    return undefined;
  } catch (e) {
    return `cannot record the run in ${LAST_RUN}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** The record of the last run, or undefined when there is none. */
export function readLastRun(root: string): LastRun | undefined {
  const text = readInside(root, join(root, LAST_RUN));
  if (text === undefined) return undefined;
  let r: Partial<LastRun>;
  try {
    r = JSON.parse(text) as Partial<LastRun>;
  } catch {
    throw new SetupError(`${LAST_RUN} is not JSON; remove it (the next run writes it again)`);
  }
  if (r?.version !== 1 || !Array.isArray(r.failed) || !r.failed.every((n) => typeof n === 'string')) {
    throw new SetupError(`${LAST_RUN} is not a record this virtgold wrote; remove it (the next run writes it again)`);
  }
  return r as LastRun;
}
