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
const { all: entries, problems } = selectEntries(root);

test('the corpus and the snapshots form a non-empty matrix', () => {
  if (problems.length) throw new Error(problems.join('\n'));
  if (entries.length < 50) throw new Error(`only ${entries.length} matrix entries`);
});

for (const entry of entries) {
  test(entryName(entry), () => {
    const outcome = runBuiltin(entry.mode, entry.snapshot.path, readFileSync(entry.case.path));
    for (const v of [judge(outcome, lookupGolden(entry)), checkIdempotent(entry, outcome)]) {
      if (!v.ok) throw new Error(v.message);
    }
  });
}

test('every golden belongs to a case', () => {
  const stale = staleGoldens(root, entries);
  if (stale.length) throw new Error(`stale goldens (npm run update-golden removes them):\n${stale.join('\n')}`);
});

test.run();
