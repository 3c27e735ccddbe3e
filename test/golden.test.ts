// The golden matrix: one named test per case × snapshot × direction, plus the
// xml2xml fixed-point check and the stale-golden check.
import { test } from 'uvu';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { selectEntries } from '../harness/cases.js';
import { lookupGolden, staleGoldens } from '../harness/goldens.js';
import { checkIdempotent, judge, runBuiltin } from '../harness/judge.js';
import { entryName } from '../harness/runner.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { all, problems } = selectEntries(root);
// npm test deals the matrix out between its processes (scripts/test.mjs): shard K of N
// takes every Nth entry; the checks of the whole matrix run in shard 1.
const [shard, shards] = (process.env.VIRTGOLD_TEST_SHARD ?? '1/1').split('/').map(Number) as [number, number];
const entries = all.filter((_, i) => i % shards === shard - 1);

if (shard === 1) {
  test('the corpus and the snapshots form a non-empty matrix', () => {
    if (problems.length) throw new Error(problems.join('\n'));
    if (all.length < 50) throw new Error(`only ${all.length} matrix entries`);
  });
}

for (const entry of entries) {
  test(entryName(entry), () => {
    const outcome = runBuiltin(entry.mode, entry.snapshot.path, readFileSync(entry.case.path));
    for (const v of [judge(outcome, lookupGolden(entry)), checkIdempotent(entry, outcome)]) {
      if (!v.ok) throw new Error(v.message);
    }
  });
}

if (shard === 1) {
  test('every golden belongs to a case', () => {
    const stale = staleGoldens(root, all);
    if (stale.length) throw new Error(`stale goldens (npm run update-golden removes them):\n${stale.join('\n')}`);
  });
}

test.run();
