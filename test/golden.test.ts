// The golden matrix: one named test per case × snapshot × direction, plus the
// xml2xml fixed-point check and the stale-golden check.
import { test } from 'uvu';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { selectEntries } from '../harness/cases.js';
import { existingGoldens, lookupGolden, staleGoldens } from '../harness/goldens.js';
import { checkIdempotent, judge, runBuiltin } from '../harness/judge.js';
import { entryName } from '../harness/runner.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { all, problems } = selectEntries(root);
// npm test may give this process a slice of the matrix (scripts/test.mjs): the cases
// whose index modulo 100 is in [FROM, TO); the checks of the whole matrix run in the
// slice that starts at 0.
const [from, to] = (process.env.VIRTGOLD_GOLDEN_SLICE ?? '0-100').split('-').map(Number) as [number, number];
const caseIndex = new Map<string, number>();
for (const e of all) if (!caseIndex.has(e.case.path)) caseIndex.set(e.case.path, caseIndex.size);
const entries = all.filter((e) => caseIndex.get(e.case.path)! % 100 >= from && caseIndex.get(e.case.path)! % 100 < to);
// Entries come case by case: a case's document is read once and parsed once (the
// translator keeps the last trees) for all its snapshots and both modes.
const onDisk = existingGoldens(root);
const listed = new Set(onDisk);
let last: { path: string; bytes: Buffer } | undefined;
const caseBytes = (path: string) => (last?.path === path ? last : (last = { path, bytes: readFileSync(path) })).bytes;

if (from === 0) {
  test('the corpus and the snapshots form a non-empty matrix', () => {
    if (problems.length) throw new Error(problems.join('\n'));
    if (all.length < 50) throw new Error(`only ${all.length} matrix entries`);
  });
}

for (const entry of entries) {
  test(entryName(entry), () => {
    const outcome = runBuiltin(entry.mode, entry.snapshot.path, caseBytes(entry.case.path));
    for (const v of [judge(outcome, lookupGolden(entry, listed)), checkIdempotent(entry, outcome)]) {
      if (!v.ok) throw new Error(v.message);
    }
  });
}

if (from === 0) {
  test('every golden belongs to a case', () => {
    const stale = staleGoldens(root, all, {}, onDisk);
    if (stale.length) throw new Error(`stale goldens (npm run update-golden removes them):\n${stale.join('\n')}`);
  });
}

test.run();
