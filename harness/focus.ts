// Which of the selected entries a `run` runs: all of them, or those that failed last time
// (--only-failures), one shard of them (--shard K/N), or those `run --watch` found
// affected by a change (VIRTGOLD_WATCH_ENTRIES, set only by the watcher for its runs).
import { readFileSync } from 'node:fs';
import { SetupError } from './errors.js';
import { LAST_RUN, readLastRun } from './last-run.js';
import { entryName } from './runner.js';
import { inShard, parseShard, selectionDigest, type Shard } from './shard.js';
import { plural } from './summary.js';
import type { MatrixEntry } from './types.js';

export const WATCH_ENTRIES_ENV = 'VIRTGOLD_WATCH_ENTRIES';

export interface Focus {
  /** applied to the filtered selection before the run */
  narrow?: (entries: MatrixEntry[]) => MatrixEntry[];
  /** stale goldens are left to shard 1 */
  skipStale: boolean;
  /** the JSON report's `shard` member, once the run is done */
  shardReport?: () => ShardReport;
}

export interface ShardReport extends Shard {
  /** entries of the whole selection that was split, and its digest */
  selected: number;
  digest: string;
  /** entries of this shard */
  entries: number;
}


/** The focus of a run, or (a string) why there is nothing to run. */
export function focusOf(root: string, o: { onlyFailures?: boolean; shard?: string }, say: (line: string) => void, env = process.env): Focus | string {
  const steps: ((entries: MatrixEntry[]) => MatrixEntry[])[] = [];
  if (env[WATCH_ENTRIES_ENV]) {
    const names = new Set(JSON.parse(readFileSync(env[WATCH_ENTRIES_ENV]!, 'utf8')) as string[]);
    steps.push((entries) => entries.filter((e) => names.has(entryName(e))));
  }
  if (o.onlyFailures) {
    const last = readLastRun(root);
    if (!last) throw new SetupError(`--only-failures: no record of a last run (${LAST_RUN}); run without it first`);
    const when = `${last.finished.slice(0, 16).replace('T', ' ')} UTC, translator ${last.translator}`;
    if (!last.failed.length) return `--only-failures: nothing failed in the last run (${when}: ${plural(last.entries, 'entry', 'entries')}${last.stale ? `; ${plural(last.stale, 'stale golden')}` : ''}); nothing to re-run`;
    const failed = new Set(last.failed);
    steps.push((entries) => {
      const again = entries.filter((e) => failed.has(entryName(e)));
      if (!again.length) throw new SetupError(`--only-failures: none of the ${plural(failed.size, 'entry', 'entries')} that failed in the last run (${when}) is selected or still exists`);
      const gone = failed.size - again.length;
      say(`re-running the ${plural(again.length, 'entry', 'entries')} that failed in the last run (${when})${gone ? `; ${gone} other${gone === 1 ? ' is' : 's are'} not selected or no longer exist` : ''}`);
      return again;
    });
  }
  let shard: Shard | undefined;
  let split: MatrixEntry[] = [];
  let mine = 0;
  if (o.shard !== undefined) {
    const s = (shard = parseShard(o.shard));
    steps.push((entries) => {
      split = entries;
      const part = inShard(entries, s);
      mine = part.length;
      say(`shard ${s.index}/${s.total}: ${plural(part.length, 'entry', 'entries')} of ${entries.length}${s.index === 1 ? '' : ' (stale goldens are reported by shard 1)'}`);
      return part;
    });
  }
  return {
    narrow: steps.length ? (entries) => steps.reduce((es, f) => f(es), entries) : undefined,
    skipStale: shard !== undefined && shard.index !== 1,
    shardReport: shard && (() => ({ ...shard!, selected: split.length, digest: selectionDigest(split), entries: mine })),
  };
}
