// `virtgold run` against other translators: the command adapter, broken translators,
// determinism, reporters; `update --check` and the update lock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { globSync } from 'glob';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandAdapter, splitCommand, workerAdapter } from '../harness/adapters.js';
import { OWN_REFUSAL } from '../harness/refusals.js';
import { counts, runSuite } from '../harness/runner.js';
import { json, junit, tap } from '../harness/reporters.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const echo = join(repo, 'test/fixtures/golden-echo.sh');
const cmd = (extra = '') => commandAdapter(`${echo} {mode} {caps} {input} ${extra}`, 2000);

test('splitCommand: quotes and escapes, no shell', () => {
  assert.equal(splitCommand(`a 'b c' "d e" f\\ g {input}`), ['a', 'b c', 'd e', 'f g', '{input}']);
  assert.throws(() => splitCommand(`a 'b`), /unterminated/);
});

test('a faithful command translator passes the whole matrix', async () => {
  const s = await runSuite({ root: repo, filters: {}, adapter: cmd(), jobs: 4, determinism: false });
  const c = counts(s);
  assert.ok(s.results.length > 200);
  assert.is(c.fail + c.broken, 0, JSON.stringify(s.results.filter((r) => r.status !== 'pass').map((r) => r.message)));
  // virtgold's own refusals are no claim a command translator is held to: skipped, each
  // with the reason; everything else passes.
  assert.ok(c.skip > 0);
  assert.ok(s.results.filter((r) => r.status === 'skip').every((r) => r.message === OWN_REFUSAL));
  assert.is(c.pass + c.skip, s.results.length);
});

test('a translator that mangles one field fails exactly the entries containing it', async () => {
  const s = await runSuite({ root: repo, filters: { mode: ['xml2argv'] }, adapter: cmd('mangle'), jobs: 4, determinism: false });
  const failed = s.results.filter((r) => r.status === 'fail').map((r) => `${r.entry.case.name}.${r.entry.snapshot.arch}-${r.entry.snapshot.version}`).sort();
  const expected = globSync('**/*.args', { cwd: join(repo, 'golden/xml2argv') })
    .filter((f) => readFileSync(join(repo, 'golden/xml2argv', f), 'utf8').includes('"driver":"vfio-pci"'))
    .map((f) => f.replace(/\.args$/, '')).sort();
  assert.ok(expected.length > 5);
  assert.equal(failed, expected);
  for (const r of s.results.filter((x) => x.status === 'fail')) assert.match(r.message!, /^\+.*"driver":"vfio-pcx"/m);
});

test('a hanging translator is cut off per call; a crashing one is reported for its entries only', async () => {
  const hang = await runSuite({ root: repo, filters: { case: ['domain/minimal'] }, adapter: commandAdapter(`${echo} {mode} {caps} {input} hang=domain/minimal`, 300), jobs: 6, determinism: false });
  assert.is(hang.results.length, 6);
  for (const r of hang.results) assert.match(r.message!, /broken translator: timed out after 300 ms/);
  const crash = await runSuite({ root: repo, filters: { case: ['domain/minimal'] }, adapter: cmd('crash=domain/minimal'), jobs: 2, determinism: false });
  assert.is(crash.results.length, 6);
  assert.ok(crash.results.every((r) => r.status === 'broken' && /killed by SIGSEGV/.test(r.message!)));
  const both = await runSuite({ root: repo, filters: { case: ['domain/general'] }, adapter: cmd('both=domain/general'), jobs: 2, determinism: false });
  assert.ok(both.results.every((r) => r.status === 'broken' && /output on stderr/.test(r.message!)));
  const other = await runSuite({ root: repo, filters: { case: ['hostdev/vfio'] }, adapter: cmd('crash=domain/minimal'), jobs: 2, determinism: false });
  assert.ok(other.results.every((r) => r.status === 'pass'));
});

test('worker adapter: the built-in worker passes; a hanging, dying or garbling worker breaks only its entries', async () => {
  const builtin = await runSuite({ root: repo, filters: { version: ['7.2.0'] }, adapter: workerAdapter(`node ${repo}/bin/virtgold.js worker`, 10000, 2), jobs: 2, determinism: true });
  assert.ok(builtin.results.length > 50);
  assert.is(counts(builtin).pass + counts(builtin).skip, builtin.results.length);
  assert.ok(builtin.results.filter((r) => r.status === 'skip').every((r) => r.message === OWN_REFUSAL));
  const fixture = `node ${repo}/test/fixtures/golden-worker.mjs`;
  for (const [how, message] of [['hang', /timed out after 2000 ms/], ['die', /worker exited \(3\)/], ['garble', /not JSON/],
    ['twice', /^broken translator: worker answered request \d+ twice$/], ['endless', /worker sent more than 2112 KiB without a newline/]] as const) {
    const s = await runSuite({ root: repo, filters: { case: ['{domain/minimal,hostdev/vfio}'], version: ['7.2.0'] }, adapter: workerAdapter(`${fixture} ${how}=domain/minimal`, how === 'hang' ? 2000 : 60_000, 1, 1024 * 1024), jobs: 1, determinism: false });
    const victims = s.results.filter((r) => r.entry.case.name === 'domain/minimal');
    const others = s.results.filter((r) => r.entry.case.name !== 'domain/minimal');
    assert.is(victims.length, 2);
    assert.is(others.length, 2);
    for (const r of victims) assert.match(r.message!, message);
    for (const r of victims) assert.is(r.status, 'broken');
    for (const r of others) assert.is(r.status, 'pass', r.message);
  }
});

/** Pids of live processes running `sleep SECONDS` (a unique duration names a test's sleeper). */
function sleepers(seconds: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return readFileSync(`/proc/${d}/cmdline`, 'utf8') === `sleep\0${seconds}\0`; } catch { return false; }
  }).map(Number);
}
const minimal = { case: ['domain/minimal'], mode: ['xml2argv' as const], version: ['7.2.0'] };

test('output beyond --max-output breaks the entry at once, the translator killed', async () => {
  const s = await runSuite({ root: repo, filters: minimal, adapter: commandAdapter(`sh -c 'yes | head -c 2M; sleep 611' {mode} {input}`, 60_000, 1024 * 1024), jobs: 1, determinism: false });
  assert.is(s.results[0]!.status, 'broken');
  assert.is(s.results[0]!.message, 'broken translator: more than 1 MiB of output (--max-output)');
  assert.equal(sleepers(611), []);
  const err = await runSuite({ root: repo, filters: minimal, adapter: commandAdapter(`sh -c 'yes >&2; exit 1' {mode} {input}`, 60_000, 1024 * 1024), jobs: 1, determinism: false });
  assert.match(err.results[0]!.message!, /more than 1 MiB of output/);
});

test('a timed-out translator and every descendant are killed, even those that left its process group', async () => {
  // One detached child closes the pipes (the run returns at the timeout, but it survived
  // before); one keeps them (the run waited for it).
  const cmd = `sh -c 'setsid sh -c "exec >/dev/null 2>&1; sleep 612" & setsid sleep 613 & sleep 614' {mode} {input}`;
  const s = await runSuite({ root: repo, filters: minimal, adapter: commandAdapter(cmd, 500), jobs: 1, determinism: false });
  assert.is(s.results[0]!.message, 'broken translator: timed out after 500 ms');
  assert.equal([...sleepers(612), ...sleepers(613), ...sleepers(614)], []);
  // And what a translator leaves behind when it exits normally does not outlive its entry.
  const leaves = `sh -c 'setsid sh -c "exec >/dev/null 2>&1; sleep 615" & exec ${echo} "$@"' sh {mode} {caps} {input}`;
  const bg = await runSuite({ root: repo, filters: minimal, adapter: commandAdapter(leaves, 10_000), jobs: 1, determinism: false });
  assert.is(bg.results[0]!.status, 'pass', bg.results[0]!.message);
  assert.equal(sleepers(615), []);
});

test('a worker that dies during the determinism re-run is broken, not "not deterministic"', async () => {
  const s = await runSuite({ root: repo, filters: minimal, adapter: workerAdapter(`node ${repo}/test/fixtures/golden-worker.mjs dieagain=domain/minimal`, 10_000, 1), jobs: 1, determinism: true });
  assert.is(s.results[0]!.status, 'broken');
  assert.is(s.results[0]!.message, 'broken translator (second run): worker exited (4)');
});

test('determinism: two different answers for one entry fail it', async () => {
  const s = await runSuite({ root: repo, filters: { case: ['domain/minimal'], version: ['7.2.0'] }, adapter: cmd('random'), jobs: 1, determinism: true });
  assert.ok(s.results.every((r) => r.status === 'fail' && /not deterministic/.test(r.message!)));
});

test('reporters: TAP, JUnit and JSON describe the same run', async () => {
  const s = await runSuite({ root: repo, filters: { case: ['hostdev/vfio*', 'vf-token/*'], mode: ['xml2argv'] }, adapter: cmd('mangle'), jobs: 4, determinism: false });
  const c = counts(s);
  assert.ok(c.fail > 0 && c.pass > 0);
  const t = tap(s);
  assert.is((t.match(/^not ok /gm) ?? []).length, c.fail);
  assert.match(t, new RegExp(`^1\\.\\.${s.results.length}$`, 'm'));
  const j = junit(s);
  assert.is(XMLValidator.validate(j), true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(j);
  assert.is(Number(doc.testsuites.testsuite.failures), c.fail);
  assert.is(doc.testsuites.testsuite.testcase.length, s.results.length);
  const o = JSON.parse(json(s, repo));
  assert.is(o.summary.failed, c.fail);
  assert.is(o.results.filter((r: { status: string }) => r.status === 'fail').length, c.fail);
});

test('update --check lists changes without writing, exit 1; a second update is refused while one runs', async () => {
  const dir = tempDir('check');
  try {
    for (const d of ['cases', 'capabilities', 'firmware', 'golden']) cpSync(join(repo, d), join(dir, d), { recursive: true });
    const g = join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args');
    writeFileSync(g, 'x\n');
    const bin = join(repo, 'bin/virtgold.js');
    const r = await execa('node', [bin, 'update', '--check', '--root', dir], { reject: false });
    assert.is(r.exitCode, 1);
    assert.match(r.stdout, /would be updated {3}golden\/xml2argv\/domain\/minimal\.x86_64-7\.2\.0\.args/);
    assert.is(readFileSync(g, 'utf8'), 'x\n');
    const sleeper = execa('sleep', ['30']);
    writeFileSync(join(dir, 'golden/.update.lock'), `${sleeper.pid}\n`);
    const locked = await execa('node', [bin, 'update', '--root', dir], { reject: false });
    assert.is(locked.exitCode, 1);
    assert.match(locked.stderr, /another update is running \(pid \d+/);
    sleeper.kill();
    await sleeper.catch(() => undefined);
    const after = await execa('node', [bin, 'update', '--root', dir], { reject: false });
    assert.is(after.exitCode, 0, after.stderr);
    assert.is(readFileSync(g, 'utf8'), readFileSync(join(repo, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args'), 'utf8'));
    // Stale goldens: listed by `update`, removed by `update --prune` (npm run update-golden prunes).
    const stale = join(dir, 'golden/xml2xml/gone.x86_64-7.2.0.xml');
    writeFileSync(stale, 'stale\n');
    const listed = await execa('node', [bin, 'update', '--root', dir], { reject: false });
    assert.match(listed.stdout, /^stale {5}golden\/xml2xml\/gone\.x86_64-7\.2\.0\.xml/m);
    assert.is(readFileSync(stale, 'utf8'), 'stale\n');
    const pruned = await execa('node', [bin, 'update', '--prune', '--root', dir], { reject: false });
    assert.match(pruned.stdout, /^removed {3}golden\/xml2xml\/gone\.x86_64-7\.2\.0\.xml/m);
    assert.not.ok(existsSync(stale));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
