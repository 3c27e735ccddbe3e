// The `virtgold` command as a user runs it: stdout, stderr and exit codes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shippedProject } from './helpers/shipped.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/virtgold.js');
const caps = join(repo, 'capabilities/caps_7.2.0_x86_64.xml');
const caps81 = join(repo, 'capabilities/caps_8.1.0_x86_64.xml');
const tmp = tempDir('cli');
// Each call starts a process (~0.5 s): start them all at once, await them in the tests.
interface Result { exitCode?: number; stdout: string; stderr: string }
const started = new Map<string, Promise<Result>>();
const spawn = (cwd: string, args: string[]): Promise<Result> => execa('node', [bin, ...args], { reject: false, cwd });
function runIn(cwd: string, ...args: string[]): Promise<Result> {
  const key = JSON.stringify([cwd, args]);
  if (!started.has(key)) started.set(key, spawn(cwd, args));
  return started.get(key)!;
}
const run = (...args: string[]) => runIn(repo, ...args);
// Runs that run entries do so in a copy of the shipped project: they write .virtgold/
// (the last run's record) into their project, which must not be the checkout.
const shipped = shippedProject(repo);

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const oneLine = (s: string) => s.endsWith('\n') && s.trimEnd().split('\n').length === 1;

test('xml2argv prints the golden and exits 0', async () => {
  const r = await run('xml2argv', '--caps', caps, join(repo, 'cases/domain/minimal.xml'));
  assert.is(r.exitCode, 0);
  assert.is(r.stdout + '\n', readFileSync(join(repo, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args'), 'utf8'));
  assert.is(r.stderr, '');
});

test('xml2xml prints the golden and exits 0', async () => {
  const r = await run('xml2xml', '--caps', caps81, join(repo, 'cases/vf-token/hostdev.xml'));
  assert.is(r.exitCode, 0);
  assert.is(r.stdout + '\n', readFileSync(join(repo, 'golden/xml2xml/vf-token/hostdev.x86_64-8.1.0.xml'), 'utf8'));
});

test('a translation error: the .err text on stderr, nothing on stdout, exit 1', async () => {
  const r = await run('xml2argv', '--caps', caps, join(repo, 'cases/vf-token/malformed.xml'));
  assert.is(r.exitCode, 1);
  assert.is(r.stdout, '');
  assert.is(r.stderr + '\n', readFileSync(join(repo, 'golden/xml2argv/vf-token/malformed.x86_64-7.2.0.err'), 'utf8'));
});

test('vf-token without the capability is refused, naming vf-token', async () => {
  const r = await run('xml2argv', '--caps', caps, join(repo, 'cases/vf-token/hostdev.xml'));
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /^unsupported configuration: .*vf-token/);
});

const bad: [string, string[], number, RegExp][] = [
  ['a closing tag that does not match', ['xml2xml', '--caps', caps, 'MALFORMED'], 1, /^\(domain_definition\):2: Opening and ending tag mismatch: name line 2 and nam$/],
  ['malformed XML', ['xml2xml', '--caps', caps, 'UNCLOSED'], 1, /^XML error: domain XML is not well-formed at line \d+, column \d+/],
  // A file the tool cannot read is a setup error (2), never a translation error (1).
  ['a missing input file', ['xml2xml', '--caps', caps, join(tmp, 'nope.xml')], 2, /^virtgold: cannot read domain XML .*nope\.xml: no such file$/],
  ['a missing caps file', ['xml2xml', '--caps', join(tmp, 'nope-caps.xml'), join(repo, 'cases/domain/minimal.xml')], 2, /^virtgold: cannot read capabilities file .*: no such file$/],
  ['a file that is not a caps file', ['xml2xml', '--caps', join(repo, 'cases/domain/minimal.xml'), join(repo, 'cases/domain/minimal.xml')], 2, /not a QEMU capabilities file \(root element is <domain>/],
  ['an unknown machine type', ['xml2argv', '--caps', caps, join(repo, 'cases/domain/machine-unknown.xml')], 1, /^unsupported configuration: Emulator '\/usr\/bin\/qemu-system-x86_64' does not support machine type 'pc-i440fx-99\.0'$/],
  ['no --caps', ['xml2argv', join(repo, 'cases/domain/minimal.xml')], 2, /--caps FILE is required/],
  ['an unknown command', ['frobnicate'], 2, /unknown command 'frobnicate'/],
  ['an unknown option', ['xml2xml', '--nope', '--caps', caps, 'x.xml'], 2, /^virtgold: unknown option '--nope'\n\(virtgold xml2xml --help shows the usage\)$/],
  ['a --timeout no timer can hold', ['run', '--timeout', '3000000000'], 2, /--timeout takes a positive number of milliseconds, at most 2147483647/],
  ['a --max-output that is no size', ['run', '--max-output', 'lots'], 2, /--max-output takes a size/],
];

const realArgs = (args: string[]) =>
  args.map((a) => (a === 'MALFORMED' ? file('bad.xml', "<domain type='qemu'>\n<name>x</nam>\n</domain>\n")
    : a === 'UNCLOSED' ? file('unclosed.xml', "<domain type='qemu>\n<name>x</name>\n</domain>\n") : a));
for (const [, args] of bad) run(...realArgs(args));
runIn(shipped, 'run');

for (const [what, args, code, message] of bad) {
  test(`${what}: one clear line on stderr, exit ${code}`, async () => {
    const r = await run(...realArgs(args));
    assert.is(r.exitCode, code);
    assert.is(r.stdout, '');
    assert.match(r.stderr, message);
    assert.not.match(r.stderr, /\n\s+at /); // no stack trace
    if (code === 1) assert.ok(oneLine(r.stderr + '\n'), r.stderr);
    // A usage or setup error: one line, and for usage a hint where the usage is, never
    // the whole usage text.
    if (code === 2) assert.ok(r.stderr.trimEnd().split('\n').length <= 2 && !/usage:/.test(r.stderr), r.stderr);
  });
}

// Runs that would test nothing: one line, exit 2; --pass-with-no-entries lets them pass.
const noCaps = tempDir('nocaps');
for (const d of ['cases', 'capabilities']) mkdirSync(join(noCaps, d));
writeFileSync(join(noCaps, 'cases/m.xml'), readFileSync(join(repo, 'cases/domain/minimal.xml')));
writeFileSync(join(noCaps, 'capabilities/README'), 'no snapshot here\n');
const typo = tempDir('typo');
for (const d of ['cases', 'capabilities']) cpSync(join(repo, d), join(typo, d), { recursive: true });
writeFileSync(join(typo, 'cases/domain/minimal.json'), '{ "versions": ["9.9.9"] }');
const nothing: [string, string, string[], RegExp][] = [
  ['--root /nonexistent', repo, ['run', '--root', '/nonexistent'], /^virtgold: --root \/nonexistent: not a virtgold project/],
  ['outside any project', tmpdir(), ['run'], /^virtgold: not inside a virtgold project/],
  ['--case nomatch', repo, ['run', '--case', 'nomatch'], /^virtgold: --case 'nomatch' matches no case/],
  ['--arch arm', repo, ['run', '--arch', 'arm'], /^virtgold: --arch arm: no snapshot for it/],
  ['--version 9.9.9', repo, ['run', '--version', '9.9.9'], /^virtgold: --version 9\.9\.9: no snapshot of it/],
  ['a case whose options name no snapshot', typo, ['run'], /^virtgold: cases\/domain\/minimal\.xml: its options name versions 9\.9\.9/],
  ['a capabilities/ without caps_*.xml', noCaps, ['run'], /^virtgold: no snapshot: .*capabilities holds no caps_VERSION_ARCH\.xml/],
  ['update --root /nonexistent', repo, ['update', '--root', '/nonexistent'], /^virtgold: --root \/nonexistent: not a virtgold project/],
  ['update --case nomatch', repo, ['update', '--check', '--case', 'nomatch'], /^virtgold: --case 'nomatch' matches no case/],
];
for (const [, cwd, args] of nothing) runIn(cwd, ...args);
runIn(shipped, 'run', '--case', 'nomatch', '--pass-with-no-entries');
runIn(join(shipped, 'cases', 'hostdev'), 'run', '--case', 'hostdev/*', '--mode', 'xml2argv', '--reporter', 'json');
runIn(join(repo, 'golden'), 'update', '--check', '--case', 'domain/minimal');
runIn(shipped, 'run', '--case', 'domain/minimal', '--case', 'usb/none', '--mode', 'xml2argv', '--mode', 'xml2xml', '--version', '7.2.0', '--reporter', 'json');

for (const [what, cwd, args, message] of nothing) {
  test(`a run that tests nothing (${what}): one line, exit 2`, async () => {
    const r = await runIn(cwd, ...args);
    assert.is(r.exitCode, 2, r.stderr + r.stdout);
    assert.match(r.stderr, message);
    assert.ok(oneLine(r.stderr + '\n'), r.stderr);
    assert.is(r.stdout, '');
  });
}

test('update never creates golden/ outside a project', async () => {
  await runIn(repo, 'update', '--root', '/nonexistent');
  assert.not.ok(existsSync('/nonexistent/golden'));
  const r = await runIn(join(repo, 'golden'), 'update', '--check', '--case', 'domain/minimal');
  assert.is(r.exitCode, 0, r.stderr);
  assert.not.ok(existsSync(join(repo, 'golden/golden')));
});

test('--pass-with-no-entries: an empty run passes', async () => {
  const r = await runIn(shipped, 'run', '--case', 'nomatch', '--pass-with-no-entries');
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^0 passed, 0 failed, 0 skipped$/m);
});

test('virtgold run from inside cases/ runs the project above it', async () => {
  const r = await runIn(join(shipped, 'cases', 'hostdev'), 'run', '--case', 'hostdev/*', '--mode', 'xml2argv', '--reporter', 'json');
  assert.is(r.exitCode, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { summary: { passed: number }; results: { case: string }[] };
  const hostdevCases = readdirSync(join(repo, 'cases', 'hostdev')).filter((f) => f.endsWith('.xml')).length;
  assert.is(o.summary.passed, hostdevCases * 3); // three x86_64 snapshots
  assert.ok(o.results.every((x) => x.case.startsWith('hostdev/')));
});

test('repeated filters combine', async () => {
  const r = await runIn(shipped, 'run', '--case', 'domain/minimal', '--case', 'usb/none', '--mode', 'xml2argv', '--mode', 'xml2xml', '--version', '7.2.0', '--reporter', 'json');
  const o = JSON.parse(r.stdout) as { results: { case: string; mode: string }[] };
  assert.equal(o.results.map((x) => `${x.mode} ${x.case}`).sort(), ['xml2argv domain/minimal', 'xml2argv usb/none', 'xml2xml domain/minimal', 'xml2xml usb/none']);
});

test('virtgold run passes on the shipped corpus', async () => {
  const r = await runIn(shipped, 'run');
  assert.is(r.exitCode, 0, r.stdout);
  assert.match(r.stdout, /^\d+ passed, 0 failed, 0 skipped$/m);
});

test('virtgold run fails, with a diff, when a golden is wrong', async () => {
  const dir = tempDir('run');
  await execa('cp', ['-r', join(repo, 'cases'), join(repo, 'capabilities'), join(repo, 'firmware'), join(repo, 'golden'), dir]);
  const g = join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args');
  writeFileSync(g, readFileSync(g, 'utf8').replace('-m 214', '-m 215'));
  const r = await run('run', '--root', dir, '--case', 'domain/minimal');
  rmSync(dir, { recursive: true, force: true });
  assert.is(r.exitCode, 1);
  assert.match(r.stdout, /FAIL xml2argv domain\/minimal x86_64-7\.2\.0/);
  assert.match(r.stdout, /^-\s*-m 215 \\$/m);
  assert.match(r.stdout, /^\+\s*-m 214 \\$/m);
});

test('a full disk on stdout: one line, exit 2, no stack trace', async () => {
  for (const args of [['run', '--case', 'domain/minimal'], ['xml2argv', '--caps', caps, join(repo, 'cases/domain/minimal.xml')]]) {
    const r = await execa('sh', ['-c', 'exec node "$@" > /dev/full', 'sh', bin, ...args], { reject: false, cwd: shipped });
    assert.is(r.exitCode, 2, r.stderr);
    assert.is(r.stderr, 'virtgold: cannot write the output: no space left on device (ENOSPC)');
  }
});

/** Pids of live processes running `sleep SECONDS` (a unique duration names a test's sleeper). */
function sleepers(seconds: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return readFileSync(`/proc/${d}/cmdline`, 'utf8') === `sleep\0${seconds}\0`; } catch { return false; }
  }).map(Number);
}

test('Ctrl-C during run kills every translator, also those that left their process group; exit 130', async () => {
  const translator = `sh -c 'setsid sh -c "exec >/dev/null 2>&1; sleep 621" & sleep 622' {mode} {input}`;
  const child = execa('node', [bin, 'run', '--case', 'domain/minimal', '--jobs', '2', '--timeout', '60000', '--translator-cmd', translator], { reject: false, cwd: shipped });
  // Wait (not timed: until it happens) for both translators and their detached children.
  for (let i = 0; i < 600 && (sleepers(621).length < 2 || sleepers(622).length < 2); i++) await new Promise((r) => setTimeout(r, 100));
  assert.is(sleepers(621).length, 2);
  child.kill('SIGINT');
  const r = await child;
  assert.is(r.exitCode, 130, r.stderr);
  assert.equal([...sleepers(621), ...sleepers(622)], []);
});

// As root permissions do not stop writes: the update runs as nobody (setpriv).
const asNobody = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');
test('a golden/ partly read-only: the update stops with one line, exit 2, and lists what it applied', async () => {
  if (!asNobody) { console.log('  skipped: needs root and setpriv to run the update as another user'); return; }
  const dir = tempDir('readonly');
  // (a snapshot's host facts come with it: without them other goldens would change too)
  for (const d of ['cases', 'capabilities', 'firmware', 'host', 'golden']) cpSync(join(repo, d), join(dir, d), { recursive: true });
  const changed = join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args');
  writeFileSync(changed, 'old\n');
  rmSync(join(dir, 'golden/xml2xml/usb/none.x86_64-8.1.0.xml'));
  await execa('chown', ['-R', '65534:65534', dir]);
  await execa('chmod', ['a-w', join(dir, 'golden/xml2xml/usb')]);
  await execa('chmod', ['a+rx', dir]);
  const nobody = (...args: string[]) => execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', 'HOME=/tmp', 'node', bin, ...args], { reject: false, cwd: repo });
  const r = await nobody('update', '--root', dir);
  assert.is(r.exitCode, 2, r.stderr);
  assert.is(r.stderr, 'virtgold: update stopped: cannot write golden/xml2xml/usb/none.x86_64-8.1.0.xml: permission denied (EACCES); the changes above were applied, 1 not (virtgold update --check lists them)');
  assert.match(r.stdout, /^updated {3}golden\/xml2argv\/domain\/minimal\.x86_64-7\.2\.0\.args$/m);
  assert.is(readFileSync(changed, 'utf8'), readFileSync(join(repo, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args'), 'utf8'));
  await execa('chmod', ['a-w', join(dir, 'golden')]);
  const locked = await nobody('update', '--root', dir);
  assert.is(locked.exitCode, 2);
  assert.is(locked.stderr, 'virtgold: cannot take the update lock: cannot write golden/.update.lock: permission denied (EACCES)');
});

test('test folders are removed however the test process ends', async () => {
  for (const how of ['throw', 'SIGTERM', 'exit']) {
    const r = await execa('node', ['--import', 'tsx', join(repo, 'test/fixtures/temp-user.ts'), how], { reject: false, cwd: repo });
    const dir = r.stdout.trim();
    assert.match(dir, /virtgold-tmp-test-/);
    assert.not.ok(existsSync(dir), `${how}: ${dir} left behind`);
  }
});

test.after(() => { for (const d of [tmp, noCaps, typo]) rmSync(d, { recursive: true, force: true }); });

test.run();
