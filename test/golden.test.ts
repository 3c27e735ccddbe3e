// The golden matrix: one named test per case × snapshot × direction, plus the
// xml2xml fixed-point check and the stale-golden check.
import { test } from 'uvu';
import { buildMatrix } from '../harness/matrix.js';
import { checkIdempotent, judge, runBuiltin, staleGoldens } from '../harness/suite.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries = buildMatrix(root);

test('the corpus and the snapshots form a non-empty matrix', () => {
  if (entries.length < 50) throw new Error(`only ${entries.length} matrix entries`);
});

for (const entry of entries) {
  const name = `${entry.mode} ${entry.case.name} ${entry.snapshot.arch}-${entry.snapshot.version}`;
  test(name, () => {
    const outcome = runBuiltin(entry.mode, entry.snapshot.path, readFileSync(entry.case.path, 'utf8'));
    for (const v of [judge(entry, outcome), checkIdempotent(entry, outcome)]) {
      if (!v.ok) throw new Error(v.message);
    }
  });
}

test('every golden belongs to a case', () => {
  const stale = staleGoldens(root, entries);
  if (stale.length) throw new Error(`stale goldens (npm run update-golden removes them):\n${stale.join('\n')}`);
});

test.run();
