// Pending results (harness/pending.ts), in-process on a one-case project: a failing run
// keeps them, a passing one clears them, accept/reject act on them, --update writes
// goldens as it goes; the intra-line diff, the failure context and the CI progress lines.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinAdapter } from '../harness/adapters.js';
import { reproducer, shellQuote } from '../harness/failure-context.js';
import { html } from '../harness/html-report.js';
import { colorDiff, wantsColor, wordDiff } from '../harness/intraline.js';
import { acceptPending, listPending, orphaned, pendingFooter, pendingKeeper, projectMatrix, rejectPending, updateFromEnv } from '../harness/pending.js';
import { plainProgress } from '../harness/progress.js';
import { json, junit, pretty, tap } from '../harness/reporters.js';
import { counts, runSuite, type EntryResult } from '../harness/runner.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const ARGS = 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args';
const XML = 'golden/xml2xml/domain/minimal.x86_64-7.2.0.xml';

/** domain/minimal on the 7.2.0 x86_64 snapshot: two entries. */
function project(): string {
  const dir = tempDir('pending');
  for (const f of ['cases/domain/minimal.xml', 'capabilities/caps_7.2.0_x86_64.xml', ARGS, XML]) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(repo, f), join(dir, f));
  }
  return dir;
}

async function runIn(dir: string, update = false) {
  const keeper = pendingKeeper(dir, builtinAdapter.name, { update, command: (e) => `npx virtgold ${e.mode} ${e.case.name}` });
  const suite = await runSuite({ root: dir, filters: {}, adapter: builtinAdapter, jobs: 1, determinism: false, golden: keeper.golden });
  return { suite, keeper };
}

const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');

test('a failing entry is kept as pending (with metadata); the next passing run clears it', async () => {
  const dir = project();
  const good = read(dir, ARGS);
  writeFileSync(join(dir, ARGS), good.replace('-m 214', '-m 215'));
  const { suite, keeper } = await runIn(dir);
  assert.is(counts(suite).fail, 1);
  assert.equal(keeper.kept, ['.virtgold/pending/xml2argv/domain/minimal.x86_64-7.2.0.args']);
  assert.is(read(dir, keeper.kept[0]!), good);
  const meta = JSON.parse(read(dir, '.virtgold/pending/xml2argv/domain/minimal.x86_64-7.2.0.json'));
  assert.equal({ ...meta, when: 'T' }, {
    case: 'domain/minimal', input: 'cases/domain/minimal.xml', snapshot: 'capabilities/caps_7.2.0_x86_64.xml', mode: 'xml2argv',
    arch: 'x86_64', version: '7.2.0', adapter: 'builtin', when: 'T', golden: ARGS, command: 'npx virtgold xml2argv domain/minimal',
  });
  assert.match(pendingFooter(dir, keeper), /^1 result pending in \.virtgold\/pending\/:\n.*virtgold review/m);
  assert.match(pendingFooter(dir, keeper), /virtgold accept \[FILTERS\]/);
  // A project of one's own: no npm run update-golden there; seen from outside it, --root.
  assert.not.match(pendingFooter(dir, keeper), /npm run update-golden/);
  assert.match(pendingFooter(dir, keeper), /\n {2}\(from here, each of these with --root \/.*\)\n$/);
  // Fixed by hand: the next run clears the pending result and its folders.
  writeFileSync(join(dir, ARGS), good);
  const again = await runIn(dir);
  assert.is(counts(again.suite).fail, 0);
  assert.is(again.keeper.cleared, 1);
  assert.not.ok(existsSync(join(dir, '.virtgold/pending/xml2argv')));
  assert.match(pendingFooter(dir, again.keeper), /^1 pending result cleared: its entry passes now\n$/);
});

test('an error outcome is pending as .err; accepting it replaces the other-kind golden', async () => {
  const dir = project();
  // The case now refuses to translate: the golden .args must give way to an .err.
  writeFileSync(join(dir, 'cases/domain/minimal.xml'), read(dir, 'cases/domain/minimal.xml').replace('</domain>', '<devices><bogus/></devices>\n</domain>').replace(/<memory[^>]*>[^<]*<\/memory>/, '<memory>x</memory>'));
  await runIn(dir);
  const p = listPending(dir, { mode: ['xml2argv'] });
  assert.is(p.length, 1);
  assert.is(p[0]!.kind, 'error');
  assert.is(p[0]!.rel, '.virtgold/pending/xml2argv/domain/minimal.x86_64-7.2.0.err');
  assert.is(listPending(dir, { case: ['nothing'] }).length, 0);
  assert.is(orphaned(p[0]!, projectMatrix(dir)), undefined);
  acceptPending(dir, p[0]!);
  assert.not.ok(existsSync(join(dir, ARGS)));
  assert.is(read(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.err'), p[0]!.text);
  assert.is(listPending(dir, { mode: ['xml2argv'] }).length, 0);
  // Rejecting leaves the golden as it is.
  const q = listPending(dir, { mode: ['xml2xml'] });
  assert.is(q.length, 1);
  rejectPending(dir, q[0]!);
  assert.is(listPending(dir).length, 0);
  assert.ok(existsSync(join(dir, XML)));
});

test('a pending result whose case is gone is orphaned, not accepted', async () => {
  const dir = project();
  writeFileSync(join(dir, ARGS), 'old\n');
  await runIn(dir);
  const [p] = listPending(dir);
  rmSync(join(dir, 'cases/domain/minimal.xml'));
  writeFileSync(join(dir, 'cases/domain/other.xml'), readFileSync(join(repo, 'cases/domain/minimal.xml')));
  assert.match(orphaned(p!, projectMatrix(dir))!, /no entry xml2argv domain\/minimal x86_64-7\.2\.0 any more/);
});

test('update mode (run --update, VIRTGOLD_UPDATE=1): failing results become goldens and pass', async () => {
  const dir = project();
  const good = read(dir, ARGS);
  writeFileSync(join(dir, ARGS), 'old\n');
  rmSync(join(dir, XML));
  writeFileSync(join(dir, 'golden/xml2xml/domain/minimal.x86_64-7.2.0.err'), 'stale error\n');
  const { suite, keeper } = await runIn(dir, true);
  assert.is(counts(suite).fail, 0, suite.results.map((r) => r.message).join('\n'));
  assert.equal(keeper.written.sort(), [ARGS, XML]);
  assert.is(read(dir, ARGS), good);
  assert.not.ok(existsSync(join(dir, 'golden/xml2xml/domain/minimal.x86_64-7.2.0.err')));
  assert.is(listPending(dir).length, 0);
  assert.match(pendingFooter(dir, keeper), /written {3}golden\/xml2argv\/domain\/minimal\.x86_64-7\.2\.0\.args\n.*\n2 goldens written from this run's results \(--update\)/);
  assert.is(updateFromEnv({ VIRTGOLD_UPDATE: '1' }), 'update');
  assert.is(updateFromEnv({ VIRTGOLD_UPDATE: '0' }), 'pending');
  assert.is(updateFromEnv({}), 'pending');
  assert.is(updateFromEnv({ VIRTGOLD_UPDATE: 'no' }), 'none');
});

test('keep: false (VIRTGOLD_UPDATE=no) keeps nothing', async () => {
  const dir = project();
  writeFileSync(join(dir, ARGS), 'old\n');
  const keeper = pendingKeeper(dir, 'builtin', { keep: false });
  const suite = await runSuite({ root: dir, filters: {}, adapter: builtinAdapter, jobs: 1, determinism: false, golden: keeper.golden });
  assert.is(counts(suite).fail, 1);
  assert.not.ok(existsSync(join(dir, '.virtgold')));
  assert.is(pendingFooter(dir, keeper), '');
});

test('pending results are never written through a link', async () => {
  const dir = project();
  const outside = tempDir('pending-outside');
  symlinkSync(outside, join(dir, '.virtgold'));
  writeFileSync(join(dir, ARGS), 'old\n');
  assert.throws(() => pendingKeeper(dir, 'builtin'), /\.virtgold is a link/);
});

test('intra-line: the changed words of a paired line are marked; plain output is the diff unchanged', () => {
  const a = `-device '{"driver":"vfio-pci","host":"0000:06:12.5","id":"hostdev0"}' \\`;
  const b = `-device '{"driver":"vfio-pcx","host":"0000:06:12.5","id":"hostdev0"}' \\`;
  const w = wordDiff(a, b)!;
  assert.equal(w.a.filter((p) => p.changed).map((p) => p.text), ['pci']);
  assert.equal(w.b.filter((p) => p.changed).map((p) => p.text), ['pcx']);
  assert.is(wordDiff('abc def ghi', 'xyz uvw rst'), undefined); // nothing in common: whole line
  const patch = `@@ -1,2 +1,2 @@\n ctx\n-${a}\n+${b}`;
  assert.is(colorDiff(patch, false), patch);
  const coloured = colorDiff(patch, true);
  assert.ok(coloured.includes('\x1b[31m-') && coloured.includes('\x1b[7mpci\x1b[27m'));
  assert.ok(coloured.includes('\x1b[32m+') && coloured.includes('\x1b[7mpcx\x1b[27m'));
  assert.ok(coloured.includes('\x1b[36m@@'));
  assert.ok(wantsColor({ isTTY: true }, {}));
  assert.not.ok(wantsColor({ isTTY: true }, { NO_COLOR: '1' }));
  assert.not.ok(wantsColor({ isTTY: false }, { FORCE_COLOR: '1' }));
});

test('failure context: the reproducing command for each kind of translator', () => {
  const root = '/p';
  const entry = { mode: 'xml2argv', case: { name: 'usb/foo', path: '/p/cases/usb/foo.xml', arch: 'x86_64', options: {} },
    snapshot: { arch: 'x86_64', version: '8.1.0', path: '/p/capabilities/caps_8.1.0_x86_64.xml' }, stem: '/p/golden/xml2argv/usb/foo.x86_64-8.1.0', relStem: 'golden/xml2argv/usb/foo.x86_64-8.1.0' } as const;
  const e = entry as unknown as Parameters<ReturnType<typeof reproducer>>[0];
  assert.is(reproducer({}, root, '/p')(e), 'npx virtgold xml2argv --caps capabilities/caps_8.1.0_x86_64.xml cases/usb/foo.xml');
  assert.is(reproducer({}, root, '/elsewhere')(e), 'npx virtgold xml2argv --caps /p/capabilities/caps_8.1.0_x86_64.xml /p/cases/usb/foo.xml');
  assert.is(reproducer({ 'translator-cmd': "my-tool {mode} --caps {caps} --name 'a b' {input}" }, root, '/p')(e),
    "my-tool xml2argv --caps capabilities/caps_8.1.0_x86_64.xml --name 'a b' cases/usb/foo.xml");
  assert.is(reproducer({ 'translator-worker': 'python3 w.py' }, root, '/p')(e),
    "npx virtgold run --translator-worker 'python3 w.py' --case usb/foo --mode xml2argv --arch x86_64 --version 8.1.0");
  assert.is(reproducer({ translator: 'libvirt' }, root, '/q')(e),
    'npx virtgold run --translator libvirt --root /p --case usb/foo --mode xml2argv --arch x86_64 --version 8.1.0');
  assert.is(shellQuote("it's"), `'it'\\''s'`);
});

test('failure context in the pretty, JSON, TAP, JUnit and HTML reports; changed words in the HTML', async () => {
  const dir = project();
  writeFileSync(join(dir, ARGS), read(dir, ARGS).replace('-m 214', '-m 215'));
  const { suite } = await runIn(dir);
  suite.reproduce = reproducer({}, dir, dir);
  const cmd = 'npx virtgold xml2argv --caps capabilities/caps_7.2.0_x86_64.xml cases/domain/minimal.xml';
  const p = pretty(suite, false, dir);
  assert.match(p, /^FAIL xml2argv domain\/minimal x86_64-7\.2\.0\n {2}case: {7}cases\/domain\/minimal\.xml\n {2}snapshot: {3}capabilities\/caps_7\.2\.0_x86_64\.xml\n {2}golden: {5}golden\/xml2argv\/domain\/minimal\.x86_64-7\.2\.0\.args\n {2}translator: builtin\n {2}reproduce: {2}npx virtgold xml2argv/m);
  const j = JSON.parse(json(suite, dir)).results.find((r: { status: string }) => r.status === 'fail');
  assert.equal([j.input, j.snapshot, j.golden, j.reproduce], ['cases/domain/minimal.xml', 'capabilities/caps_7.2.0_x86_64.xml', ARGS, cmd]);
  assert.ok(tap(suite).includes(`  reproduce: ${JSON.stringify(cmd)}`));
  assert.ok(junit(suite).includes(`reproduce:  ${cmd}`));
  const page = html(suite);
  assert.ok(page.includes(`<dt>reproduce</dt><dd><code>${cmd}</code></dd>`));
  assert.match(page, /<tr class="change"><td class="code">-m <del>215<\/del> \\<\/td><td class="code">-m <ins>214<\/ins> \\<\/td><\/tr>/);
  // Without reproduce (compare's and interop's suites) no context is made up.
  const bare = { ...suite, reproduce: undefined };
  assert.not.match(pretty(bare, false, dir), /reproduce:/);
});

test('progress outside a terminal: a line per tenth of the entries or per interval, none for small runs', () => {
  const lines: string[] = [];
  let t = 0;
  const on = plainProgress((l) => lines.push(l), 10_000, () => t);
  const r = (status: EntryResult['status']) => ({ status }) as EntryResult;
  for (let i = 1; i <= 100; i++) on(r(i % 7 ? 'pass' : 'fail'), i, 100);
  assert.is(lines.length, 9); // 10 %, 20 %, … 90 %; the summary says the rest
  assert.is(lines[0], 'virtgold: 10/100 entries, 1 failed, 0 s\n');
  const slow: string[] = [];
  const onSlow = plainProgress((l) => slow.push(l), 10_000, () => t);
  t = 0;
  onSlow(r('pass'), 1, 1000);
  t = 11_000;
  onSlow(r('pass'), 2, 1000);
  assert.equal(slow, ['virtgold: 2/1000 entries, 0 failed, 11 s\n']);
  const small: string[] = [];
  const onSmall = plainProgress((l) => small.push(l));
  for (let i = 1; i <= 10; i++) onSmall(r('pass'), i, 10);
  assert.equal(small, []);
});

test.run();
