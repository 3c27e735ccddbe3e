// Limits in-process: diffs stay bounded whatever a translator printed (unified, side by
// side, compare's), and option values that would defeat a limit are refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classify } from '../harness/classify.js';
import { keptText } from '../harness/diff.js';
import { sideBySide } from '../harness/html-report.js';
import { judge } from '../harness/judge.js';
import { parseSize, timeoutAndJobs } from '../harness/run.js';
import type { Golden } from '../harness/types.js';

const golden: Golden = { rel: 'golden/xml2argv/x.x86_64-7.2.0.args', kind: 'output', text: 'LC_ALL=C \\\n/usr/bin/qemu-system-x86_64 \\\n-name guest=x\n' };
// 200,000 lines: a diff of all of it would be that long (and slow, and big).
const huge = 'y\n'.repeat(200_000);
const longLine = 'z'.repeat(5_000_000);

test('a diff against huge output is cut: a few hundred lines, saying how much is left out', () => {
  const v = judge({ kind: 'output', text: huge }, golden);
  assert.not.ok(v.ok);
  const lines = v.message!.split('\n');
  assert.ok(lines.length < 450, `${lines.length} lines`);
  assert.match(v.message!, /^-LC_ALL=C \\$/m);
  assert.match(v.message!, /^\\ … \d+ more added lines not shown$/m);
});

test('a diff shows at most 1,000 characters of a line', () => {
  const v = judge({ kind: 'output', text: `LC_ALL=C \\\n${longLine}\n` }, golden);
  assert.ok(v.message!.length < 10_000, `${v.message!.length} characters`);
  assert.match(v.message!, /… \[4999000 more characters\]/);
});

test('a diff shows at most 64 KiB in all, however long its lines', () => {
  const wide = Array.from({ length: 1_000 }, (_, i) => `${i} ${'w'.repeat(5_000)}`).join('\n');
  for (const text of [wide, `LC_ALL=C \\\n/usr/bin/qemu-system-x86_64 \\\n${wide}\n-name guest=x\n`]) {
    const v = judge({ kind: 'output', text }, golden);
    assert.ok(v.message!.length < 70_000, `${v.message!.length} characters`);
  }
});

test('what a run keeps of a failing output for its reports is cut (it would add up over entries)', () => {
  const kept = keptText('y\n'.repeat(5_000_000));
  assert.ok(kept.length < 300_000, `${kept.length}`);
  assert.match(kept, /^y\n(y\n)*… \[\d+ more characters not kept\]\n$/);
  assert.is(keptText('small\n'), 'small\n');
});

test('a small difference in a long output is diffed exactly, at its real line numbers', () => {
  const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
  const a = `${lines.join('\n')}\n`;
  const b = a.replace('line 15000\n', 'line 15000 changed\n');
  const v = judge({ kind: 'output', text: b }, { ...golden, text: a });
  assert.match(v.message!, /^@@ -14998,7 \+14998,7 @@$/m);
  assert.match(v.message!, /^-line 15000$/m);
  assert.match(v.message!, /^\+line 15000 changed$/m);
  assert.ok(v.message!.split('\n').length < 20);
});

test('the html report shows at most 2,000 rows a failure, and says so', () => {
  const rows = sideBySide(golden.text, huge);
  assert.ok(rows.length <= 2001, `${rows.length} rows`);
  assert.match(rows.at(-1)!.right!, /^… \d+ more lines not shown$/);
  assert.ok(sideBySide(golden.text, longLine).every((r) => (r.right ?? '').length <= 1001));
});

test("compare's diff is bounded too", () => {
  const side = (label: string, text: string) => ({ label, outcome: { kind: 'output' as const, text } });
  const v = classify(side('translator (t)', huge), side('reference (r)', golden.text));
  assert.is(v.class, 'differs');
  assert.ok(v.diff!.split('\n').length < 450);
});

test('--timeout beyond what a timer holds is refused (it would fire at once); --max-output takes sizes', () => {
  assert.throws(() => timeoutAndJobs({ timeout: '3000000000' }), /--timeout takes a positive number of milliseconds, at most 2147483647/);
  assert.is(timeoutAndJobs({ timeout: '2147483647' }).timeout, 2147483647);
  assert.is(timeoutAndJobs({}).maxOutput, 16 * 1024 * 1024);
  assert.is(timeoutAndJobs({ 'max-output': '512K' }).maxOutput, 512 * 1024);
  assert.throws(() => timeoutAndJobs({ 'max-output': '0' }), /--max-output takes a size/);
  assert.throws(() => timeoutAndJobs({ 'max-output': 'lots' }), /--max-output takes a size/);
  assert.equal([parseSize('16M'), parseSize('16MiB'), parseSize('1g'), parseSize('100'), parseSize('2 KB')], [16777216, 16777216, 1073741824, 100, 2048]);
});

test.run();
