// Progress of a long `run` when stdout is no terminal (CI): a line on stderr every tenth
// of the entries or every 10 seconds, whichever comes first, so that a three-minute run
// is not silent. stderr, so that a report on stdout (--reporter json) stays clean.
import type { EntryResult } from './runner.js';

/** Runs of at most this many entries finish before anyone wonders (as on a terminal). */
export const PROGRESS_MIN_ENTRIES = 50;

export function plainProgress(write: (line: string) => void, everyMs = 10_000, now = () => performance.now()) {
  const start = now();
  let last = start;
  let lastDone = 0;
  let failed = 0;
  return (r: EntryResult, done: number, total: number): void => {
    if (r.status === 'fail' || r.status === 'broken') failed++;
    if (total <= PROGRESS_MIN_ENTRIES || done === total) return;
    const step = Math.ceil(total / 10);
    const t = now();
    if (done - lastDone < step && t - last < everyMs) return;
    last = t;
    lastDone = done;
    write(`virtgold: ${done}/${total} entries, ${failed} failed, ${((t - start) / 1000).toFixed(0)} s\n`);
  };
}
