// The command line for tool authors (issue 12): every adapter blesses goldens (`update`,
// `review`), virtgold's own refusals are skipped by every translator but the reference one,
// setup errors are one line and exit 2 before any entry runs, and the command-line fixes
// (--help, --version, one-line usage errors, `-` for stdin, repeated options, report
// paths, plurals, stale goldens counted apart, diff headers).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isVirtgoldCorpus, missingGoldenHint, staleHint } from '../harness/hints.js';
import { libvirtUnavailable } from '../harness/libvirt.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/virtgold.js');
const caps = join(repo, 'capabilities/caps_7.2.0_x86_64.xml');
const minimal = join(repo, 'cases/domain/minimal.xml');
const virtgold = `node ${bin}`;

interface Result { exitCode?: number; stdout: string; stderr: string }
const vg = (cwd: string, args: string[], input?: string): Promise<Result> =>
  execa('node', [bin, ...args], { reject: false, cwd, timeout: 60_000, ...(input === undefined ? { stdin: 'ignore' } : { input }) });

/** A project of two cases (one that virtgold refuses on purpose), on 7.2.0 and 8.1.0. */
function project(name: string, snapshots = ['caps_7.2.0_x86_64.xml', 'caps_8.1.0_x86_64.xml']): string {
  const dir = tempDir(name);
  mkdirSync(join(dir, 'cases/d'), { recursive: true });
  mkdirSync(join(dir, 'capabilities'));
  cpSync(minimal, join(dir, 'cases/d/minimal.xml'));
  cpSync(join(repo, 'cases/domain-misc/genid-empty.xml'), join(dir, 'cases/d/genid-empty.xml'));
  for (const s of snapshots) cpSync(join(repo, 'capabilities', s), join(dir, 'capabilities', s));
  return dir;
}

/** A translator of the contract that prints one line naming what it was given. */
function myTool(dir: string): string {
  const path = join(dir, 'my-tool');
  writeFileSync(path, '#!/bin/sh\necho "my-tool $1 $(basename "$2")"\n');
  chmodSync(path, 0o755);
  return path;
}

const lines = (s: string) => s.trimEnd().split('\n');

// ---- --help, --version, usage errors ----

test('every command\'s --help prints its usage and exits 0; worker --help starts no worker', async () => {
  const cmds = ['run', 'xml2argv', 'xml2xml', 'update', 'review', 'compare', 'worker'];
  // (stdin open and empty: a worker would answer nothing and exit 0 without a usage)
  const all = await Promise.all(cmds.map((cmd) => vg(repo, [cmd, '--help'], '')));
  for (const [i, cmd] of cmds.entries()) {
    const r = all[i]!;
    assert.is(r.exitCode, 0, `${cmd}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^usage:\\n {2}virtgold ${cmd} `));
    assert.not.match(r.stdout, /virtgold xml2argv .*\n[\s\S]*virtgold compare /); // not the whole usage
    assert.is(r.stderr, '');
  }
  // Each command's own exit status, not the paragraph that mixes them all.
  const [reduce, accept] = await Promise.all([vg(repo, ['reduce', '--help']), vg(repo, ['accept', '--help'])]);
  assert.match(reduce.stdout, /\nexit status: 0 reduced, 1 the two sides do not disagree on the domain/);
  assert.match(accept.stdout, /\nexit status: 0 accepted, 1 a pending result whose entry is gone/);
  assert.not.match(reduce.stdout + accept.stdout, /translation error, failing goldens, or a compare/);
  const h = await vg(repo, ['run', '-h']);
  assert.match(h.stdout, /FILTERS/);
  const help = await vg(repo, ['help', 'update']);
  assert.match(help.stdout, /^usage:\n {2}virtgold update [\s\S]*TRANSLATOR \(update, review\)/);
  const w = await vg(repo, ['worker', '--bogus'], '');
  assert.is(w.exitCode, 2);
  assert.match(w.stderr, /^virtgold: worker takes no arguments/);
});

test('--version prints the version', async () => {
  const r = await vg(repo, ['--version']);
  assert.is(r.exitCode, 0);
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
  assert.is(r.stdout, `virtgold ${pkg.version}`); // (execa drops the last newline)
});

test('usage errors: one line and a hint, our own words (bad numbers, repeated options, missing values)', async () => {
  const cases: [string[], RegExp][] = [
    [['run', '--jobs', '-1'], /^virtgold: --jobs takes a positive whole number \(got '-1'\)$/],
    [['run', '--jobs', 'many'], /^virtgold: --jobs takes a positive whole number \(got 'many'\)$/],
    [['run', '--timeout', '-5'], /^virtgold: --timeout takes a positive number of milliseconds/],
    [['run', '--jobs'], /^virtgold: --jobs needs a value$/],
    [['xml2argv', '--caps', caps, '--caps', caps, minimal], /^virtgold: --caps given twice \(it takes one value\)$/],
    [['run', '--root', repo, '--root', repo], /^virtgold: --root given twice/],
    [['run', '--bogus'], /^virtgold: unknown option '--bogus'$/],
  ];
  const all = await Promise.all(cases.map(([args]) => vg(repo, args)));
  for (const [i, [args, message]] of cases.entries()) {
    const r = all[i]!;
    assert.is(r.exitCode, 2, args.join(' '));
    const [first, hint, ...rest] = lines(r.stderr);
    assert.match(first!, message);
    assert.is(hint, `(virtgold ${args[0]} --help shows the usage)`);
    assert.equal(rest, []);
  }
  const unknown = await vg(repo, ['frobnicate']);
  assert.equal(lines(unknown.stderr), ["virtgold: unknown command 'frobnicate'", '(virtgold --help shows the usage)']);
});

test('- is stdin for xml2argv and xml2xml', async () => {
  const xml = readFileSync(minimal, 'utf8');
  const argv = await vg(repo, ['xml2argv', '--caps', caps, '-'], xml);
  assert.is(argv.exitCode, 0, argv.stderr);
  assert.is(argv.stdout + '\n', readFileSync(join(repo, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args'), 'utf8'));
  const x = await vg(repo, ['xml2xml', '--caps', caps, '-'], xml);
  assert.is(x.stdout + '\n', readFileSync(join(repo, 'golden/xml2xml/domain/minimal.x86_64-7.2.0.xml'), 'utf8'));
});

test('an empty domain or caps file: no "column undefined" in the message', async () => {
  const dir = tempDir('empty');
  const empty = join(dir, 'empty.xml');
  writeFileSync(empty, '');
  const d = await vg(repo, ['xml2argv', '--caps', caps, empty]);
  assert.is(d.exitCode, 1);
  assert.is(d.stderr, 'XML error: domain XML is empty');
  const c = await vg(repo, ['xml2argv', '--caps', empty, minimal]);
  assert.is(c.exitCode, 2);
  assert.not.match(c.stderr, /undefined/);
  assert.match(c.stderr, /is empty/);
});

// ---- setup errors: one message, exit 2, before any entry ----

test('a translator that cannot be run, an unknown placeholder: one line, exit 2, nothing run', async () => {
  const dir = project('setup');
  const notExecutable = join(dir, 'not-executable');
  writeFileSync(notExecutable, '#!/bin/sh\n');
  chmodSync(notExecutable, 0o644);
  const noInterpreter = join(dir, 'broken-tool');
  writeFileSync(noInterpreter, '#!/nonexistent/interpreter\n');
  chmodSync(noInterpreter, 0o755);
  const cases: [string[], RegExp][] = [
    [['run', '--translator-cmd', '/nonexistent/tool {mode} {input}'], /^virtgold: --translator-cmd: cannot run \/nonexistent\/tool: no such file$/],
    [['run', '--translator-cmd', 'no-such-tool-here {mode} {input}'], /^virtgold: --translator-cmd: cannot run no-such-tool-here: not found in PATH$/],
    [['run', '--translator-cmd', `${notExecutable} {mode} {input}`], /cannot run .*not-executable: not executable$/],
    [['run', '--translator-cmd', `${noInterpreter} {mode} {input}`], /^virtgold: --translator-cmd: cannot run .*broken-tool: its #! interpreter \/nonexistent\/interpreter is not there$/],
    [['run', '--translator-worker', noInterpreter], /^virtgold: --translator-worker: cannot run .*broken-tool: its #! interpreter \/nonexistent\/interpreter is not there$/],
    [['run', '--translator-worker', '/nonexistent/w'], /^virtgold: --translator-worker: cannot run \/nonexistent\/w: no such file$/],
    [['run', '--translator-cmd', `${virtgold} {mode} --caps {caps} {bogus}`], /^virtgold: --translator-cmd: unknown placeholder \{bogus\} \(the placeholders are \{mode\} \{caps\} \{input\} \{arch\} \{version\}\)$/],
    [['run', '--translator-worker', `${virtgold} worker {caps}`], /^virtgold: --translator-worker: no placeholders here/],
    [['update', '--translator-cmd', '/nonexistent/tool {mode} {input}'], /cannot run \/nonexistent\/tool/],
    [['review', '--translator-worker', '/nonexistent/w'], /cannot run \/nonexistent\/w/],
    [['compare', '--reference-cmd', '/nonexistent/tool {mode} {input}', '--caps', caps, minimal], /^virtgold: --reference-cmd: cannot run \/nonexistent\/tool/],
  ];
  await Promise.all(cases.map(async ([args, message]) => {
    const r = await vg(dir, args);
    assert.is(r.exitCode, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines(r.stderr)[0]!, message);
    assert.ok(lines(r.stderr).length <= 2, r.stderr);
    assert.is(r.stdout, '', args.join(' '));
  }));
});

test('a snapshot that cannot be read or is not one: one line, exit 2, for every adapter', async () => {
  const dir = project('badcaps', ['caps_7.2.0_x86_64.xml']);
  writeFileSync(join(dir, 'capabilities/caps_8.1.0_x86_64.xml'), '');
  for (const adapter of [[], ['--translator-worker', `${virtgold} worker`], ['--translator-cmd', `${virtgold} {mode} --caps {caps} {input}`]]) {
    const r = await vg(dir, ['run', ...adapter]);
    assert.is(r.exitCode, 2, r.stderr);
    assert.equal(lines(r.stderr), ['virtgold: capabilities/caps_8.1.0_x86_64.xml: not a QEMU capabilities file (XML error: capabilities/caps_8.1.0_x86_64.xml is empty)']);
    assert.is(r.stdout, '');
  }
  const u = await vg(dir, ['update']);
  assert.is(u.exitCode, 2);
  assert.match(u.stderr, /^virtgold: capabilities\/caps_8\.1\.0_x86_64\.xml: not a QEMU capabilities file/);
});

test('report files are checked before the run: one line, exit 2, at once', async () => {
  for (const [spec, message] of [
    ['json:/etc/passwd/x.json', /^virtgold: cannot write the report \/etc\/passwd\/x\.json: \/etc\/passwd is not a folder$/],
    ['json:/proc/virtgold/x.json', /^virtgold: cannot write the report \/proc\/virtgold\/x\.json: \/proc is in a kernel file system \(proc\)$/],
    ['html:/', /it is a folder/],
  ] as const) {
    const start = Date.now();
    const r = await vg(repo, ['run', '--reporter', spec]);
    assert.is(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.is(lines(r.stderr).length, 1);
    assert.ok(Date.now() - start < 20_000, 'checked before the run, not after it');
  }
});

// ---- blessing your own translator ----

test('update --translator-cmd writes that translator\'s outputs as goldens; run with it then passes', async () => {
  const dir = project('bless');
  const tool = myTool(dir);
  const first = await vg(dir, ['update']);
  assert.is(first.exitCode, 0, first.stderr);
  // The reference translator's goldens, 4 of which are its own refusals: said so.
  assert.match(first.stdout, /^8 created \(4 of them virtgold's own `unsupported` refusals\), 0 updated, 0 removed, 0 unchanged$/m);
  const check = await vg(dir, ['update', '--check', '--translator-cmd', `${tool} {mode} {input}`]);
  assert.is(check.exitCode, 1);
  assert.match(check.stdout, /^would be updated {3}golden\/xml2argv\/d\/minimal\.x86_64-7\.2\.0\.args$/m);
  const bless = await vg(dir, ['update', '--translator-cmd', `${tool} {mode} {input}`]);
  assert.is(bless.exitCode, 0, bless.stderr);
  assert.is(readFileSync(join(dir, 'golden/xml2argv/d/minimal.x86_64-8.1.0.args'), 'utf8'), 'my-tool xml2argv minimal.xml\n');
  assert.is(readFileSync(join(dir, 'golden/xml2xml/d/minimal.x86_64-7.2.0.xml'), 'utf8'), 'my-tool xml2xml minimal.xml\n');
  // virtgold's own refusals are no claim: kept, and said why.
  assert.match(bless.stdout, /^not recorded 4 goldens: the golden is virtgold's own `unsupported` refusal, not a claim about libvirt \(golden\/xml2argv\/d\/genid-empty\.x86_64-7\.2\.0\.\*, /m);
  assert.match(bless.stdout, /^0 created, 4 updated, 0 removed, 0 unchanged, 4 not recorded$/m);
  const run = await vg(dir, ['run', '--translator-cmd', `${tool} {mode} {input}`]);
  assert.is(run.exitCode, 0, run.stdout);
  assert.match(run.stdout, /^4 passed, 0 failed, 4 skipped \(4 of them virtgold's own `unsupported` refusals\)$/m);
  const builtin = await vg(dir, ['run']);
  assert.is(builtin.exitCode, 1);
});

test('review --translator-worker: the worker\'s outputs are the changes to accept', async () => {
  const dir = project('review-worker', ['caps_7.2.0_x86_64.xml']);
  const worker = join(dir, 'worker.mjs');
  writeFileSync(worker, `import { createInterface } from 'node:readline';
for await (const line of createInterface({ input: process.stdin })) {
  const r = JSON.parse(line);
  process.stdout.write(JSON.stringify({ id: r.id, ok: true, output: 'worker ' + r.mode + '\\n' }) + '\\n');
}
`);
  const r = await vg(dir, ['review', '--translator-worker', `node ${worker}`], 'A\n');
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(readFileSync(join(dir, 'golden/xml2argv/d/minimal.x86_64-7.2.0.args'), 'utf8'), 'worker xml2argv\n');
});

test('own refusals: every translator but the reference one skips them, with the reason, counted', async () => {
  const dir = project('refusals', ['caps_7.2.0_x86_64.xml']);
  assert.is((await vg(dir, ['update'])).exitCode, 0);
  for (const adapter of [['--translator-cmd', `${virtgold} {mode} --caps {caps} {input}`], ['--translator-worker', `${virtgold} worker`]]) {
    const r = await vg(dir, ['run', ...adapter]);
    assert.is(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^skip xml2argv d\/genid-empty x86_64-7\.2\.0: the golden is virtgold's own `unsupported` refusal, not a claim about libvirt$/m);
    assert.match(r.stdout, /^2 passed, 0 failed, 2 skipped \(2 of them virtgold's own `unsupported` refusals\)$/m);
  }
  const one = await vg(dir, ['run', '--translator-cmd', `${virtgold} {mode} --caps {caps} {input}`, '--case', 'genid-empty', '--mode', 'xml2argv']);
  assert.match(one.stdout, /^0 passed, 0 failed, 1 skipped \(1 of them virtgold's own `unsupported` refusal\)$/m);
  const builtin = await vg(dir, ['run', '--reporter', 'json']);
  const j = JSON.parse(builtin.stdout) as { summary: { passed: number; skipped: number } };
  assert.equal([j.summary.passed, j.summary.skipped], [4, 0]); // the reference translator is held to them
});

test('a worker\'s tool error (a file it cannot read) breaks the entry; it is never compared with .err', async () => {
  const dir = project('tool-error', ['caps_7.2.0_x86_64.xml']);
  assert.is((await vg(dir, ['update'])).exitCode, 0);
  const worker = join(dir, 'worker.mjs');
  writeFileSync(worker, `import { createInterface } from 'node:readline';
for await (const line of createInterface({ input: process.stdin })) {
  const r = JSON.parse(line);
  process.stdout.write(JSON.stringify({ id: r.id, ok: false, tool: 'cannot read ' + r.caps }) + '\\n');
}
`);
  const r = await vg(dir, ['run', '--translator-worker', `node ${worker}`, '--case', 'minimal']);
  assert.is(r.exitCode, 1);
  // (the failure's context — case, snapshot, translator, reproduce — sits between the two)
  assert.match(r.stdout, /^FAIL xml2argv d\/minimal x86_64-7\.2\.0 \(broken translator\)\n(?: {2}.*\n)*broken translator: the worker could not translate it: cannot read /m);
  // The reference worker says so for a snapshot it cannot read.
  const w = await execa('node', [bin, 'worker'], { input: `${JSON.stringify({ id: 1, mode: 'xml2argv', caps: '/nonexistent/caps.xml', input: minimal })}\n`, reject: false });
  assert.equal(JSON.parse(w.stdout), { id: 1, ok: false, tool: 'cannot read capabilities file /nonexistent/caps.xml: no such file' });
});

// ---- reports ----

test('stale goldens are counted on their own, relative in every reporter; diff headers end without a tab; plurals', async () => {
  const dir = project('stale', ['caps_7.2.0_x86_64.xml']);
  assert.is((await vg(dir, ['update'])).exitCode, 0);
  writeFileSync(join(dir, 'golden/xml2argv/d/minimal.x86_64-9.9.9.args'), 'x\n'); // no 9.9.9 snapshot
  const one = await vg(dir, ['run', '--case', 'minimal', '--mode', 'xml2argv', '--reporter', 'pretty', '--reporter', 'tap:t.tap', '--reporter', 'junit:j.xml', '--reporter', 'html:h.html', '--reporter', 'json:r.json']);
  assert.is(one.exitCode, 1);
  assert.match(one.stdout, /; 1 entry in /);
  assert.match(one.stdout, /^1 passed, 0 failed, 0 skipped; 1 stale golden$/m);
  // (a project of one's own: no npm run update-golden there, and it would write the reference's goldens)
  assert.match(one.stdout, /^STALE golden\/xml2argv\/d\/minimal\.x86_64-9\.9\.9\.args: no case produces it \(delete it\)$/m);
  const rel = 'golden/xml2argv/d/minimal.x86_64-9.9.9.args';
  const html = readFileSync(join(dir, 'h.html'), 'utf8');
  assert.ok(html.includes(`<li>${rel}</li>`));
  assert.not.ok(html.includes('All entries match their goldens'));
  assert.match(html, /1 stale golden/);
  assert.ok(readFileSync(join(dir, 't.tap'), 'utf8').includes(`not ok 2 - stale golden ${rel}\n`));
  assert.ok(readFileSync(join(dir, 'j.xml'), 'utf8').includes(`name="${rel}"`));
  assert.not.ok(readFileSync(join(dir, 't.tap'), 'utf8').includes(dir));
  assert.not.ok(readFileSync(join(dir, 'j.xml'), 'utf8').includes(dir));
  const j = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { summary: Record<string, number>; stale: string[] };
  assert.equal([j.summary.passed, j.summary.failed, j.summary.stale], [1, 0, 1]);
  assert.equal(j.stale, [rel]);
  // A failing golden: the diff headers end in the name, not in a tab.
  writeFileSync(join(dir, 'golden/xml2argv/d/minimal.x86_64-7.2.0.args'), 'wrong\n');
  const fail = await vg(dir, ['run', '--case', 'minimal', '--mode', 'xml2argv']);
  assert.match(fail.stdout, /^--- golden\/xml2argv\/d\/minimal\.x86_64-7\.2\.0\.args \(golden\)$/m);
  assert.not.match(fail.stdout, /\t$/m);
  assert.match(fail.stdout, /^0 passed, 1 failed, 0 skipped; 1 stale golden$/m);
});

test('hints name commands that work in the project: accept for a missing golden, npm run update-golden only in virtgold\'s own', async () => {
  const dir = project('hints', ['caps_7.2.0_x86_64.xml']);
  const r = await vg(dir, ['run', '--case', 'minimal', '--mode', 'xml2argv']);
  assert.is(r.exitCode, 1);
  assert.match(r.stdout, /^no golden: golden\/xml2argv\/d\/minimal\.x86_64-7\.2\.0\.args or golden\/xml2argv\/d\/minimal\.x86_64-7\.2\.0\.err is missing \(virtgold accept makes this run's result the golden\)$/m);
  assert.match(r.stdout, /^ {2}virtgold accept \[FILTERS\]/m);
  assert.not.match(r.stdout, /npm run update-golden/); // no such script here; it would write the reference's goldens
  assert.not.match(r.stdout, /--root/); // run inside the project
  // Run with --root from elsewhere: the commands it prints need that --root too.
  const away = await vg(repo, ['run', '--root', dir, '--case', 'minimal', '--mode', 'xml2argv']);
  assert.ok(away.stdout.includes(`  (from here, each of these with --root ${dir})`), away.stdout);
  assert.ok(isVirtgoldCorpus(repo));
  assert.not.ok(isVirtgoldCorpus(dir));
  assert.match(missingGoldenHint(repo), /^npm run update-golden writes it/);
  assert.is(staleHint(repo), 'npm run update-golden removes it');
});

test('review in a terminal marks the changed words of a pending result (reverse video)', async () => {
  if (!existsSync('/usr/bin/script')) return void console.log('  (skipped: review in a terminal needs script from util-linux)');
  const dir = project('review-words', ['caps_7.2.0_x86_64.xml']);
  assert.is((await vg(dir, ['update'])).exitCode, 0);
  const golden = join(dir, 'golden/xml2argv/d/minimal.x86_64-7.2.0.args');
  writeFileSync(golden, readFileSync(golden, 'utf8').replace('-m 214', '-m 215'));
  assert.is((await vg(dir, ['run', '--case', 'minimal', '--mode', 'xml2argv'])).exitCode, 1);
  const env = { ...process.env, TERM: 'xterm' } as Record<string, string>;
  for (const k of ['NO_COLOR', 'FORCE_COLOR']) delete env[k];
  const child = execa('/usr/bin/script', ['-qfec', `node ${bin} review --root ${dir}`, '/dev/null'], { stdin: 'pipe', reject: false, extendEnv: false, env, timeout: 60_000 });
  let screen = '';
  let answered = false;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    screen += d;
    if (!answered && screen.includes('q quit > ')) answered = child.stdin!.write('q') || true;
  });
  const r = await child;
  assert.is(r.exitCode, 0, screen);
  assert.ok(screen.includes('\x1b[31m--m \x1b[7m215\x1b[27m'), screen);
  assert.ok(screen.includes('\x1b[32m+-m \x1b[7m214\x1b[27m'), screen);
});

// ---- real libvirt: the record mode ----

const noLibvirt = await libvirtUnavailable();
if (noLibvirt) {
  console.log(`  (skipped: update --translator libvirt records libvirt's output — ${noLibvirt})`);
} else {
  test('update --translator libvirt records real libvirt\'s output on the host\'s snapshot; says what it could not record', async () => {
    const dir = project('record');
    assert.is((await vg(dir, ['update'])).exitCode, 0);
    const golden = join(dir, 'golden/xml2argv/d/minimal.x86_64-7.2.0.args');
    const right = readFileSync(golden, 'utf8');
    writeFileSync(golden, 'wrong\n');
    const r = await vg(dir, ['update', '--translator', 'libvirt']);
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^updated {3}golden\/xml2argv\/d\/minimal\.x86_64-7\.2\.0\.args$/m);
    assert.match(r.stdout, /^not recorded 4 goldens: libvirt here drives QEMU 7\.2\.0, not 8\.1\.0 /m);
    assert.match(r.stdout, /^not recorded golden\/xml2argv\/d\/genid-empty\.x86_64-7\.2\.0\.\*: the golden is virtgold's own `unsupported` refusal/m);
    assert.match(r.stdout, /^0 created, 1 updated, 0 removed, 1 unchanged, 6 not recorded$/m);
    // libvirt's answer on minimal is the reference translator's.
    assert.is(readFileSync(golden, 'utf8'), right);
  });
}

test.run();
