// `run --shard K/N`: the selected entries split into N parts for N CI jobs. Entries are
// ordered by a hash of their name and dealt out in turn, so the split depends only on
// the names selected (the same on every machine and every run of a commit) and the
// shards differ in size by at most one entry. Stale goldens are reported by shard 1 only.
import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';
import { entryName } from './runner.js';
import type { MatrixEntry } from './types.js';

export interface Shard {
  /** 1-based */
  index: number;
  total: number;
}

/** `K/N`, 1 ≤ K ≤ N. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const total = Number(m?.[2]);
  if (!m || !Number.isSafeInteger(total) || total < 1 || index < 1 || index > total) {
    throw new UsageError(`--shard takes K/N with 1 <= K <= N (e.g. --shard 2/4), not '${text}'`);
  }
  return { index, total };
}

const hash = (name: string) => createHash('sha1').update(name).digest('hex');

/** The entries of shard K of N, in their matrix order. */
export function inShard<T extends MatrixEntry>(entries: T[], shard: Shard): T[] {
  const order = entries.map((e) => ({ e, name: entryName(e) })).map((x) => ({ ...x, h: hash(x.name) }));
  order.sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const mine = new Set(order.filter((_, i) => i % shard.total === shard.index - 1).map((x) => x.e));
  return entries.filter((e) => mine.has(e));
}

/** What identifies the whole selection that was split: the shards of one run carry the
 *  same digest (merge-reports checks that they belong together). */
export function selectionDigest(entries: MatrixEntry[]): string {
  return createHash('sha256').update(entries.map(entryName).sort().join('\n')).digest('hex').slice(0, 16);
}
