// Pending results from the command line: a failing `run` keeps them and says how to act
// on them, `accept` / `reject`, `run --update` and VIRTGOLD_UPDATE=1, and the progress
// lines of a run whose stdout is no terminal.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shippedProject } from './helpers/shipped.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/virtgold.js');
const ARGS = 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args';
const XML = 'golden/xml2xml/domain/minimal.x86_64-7.2.0.xml';
const PENDING = '.virtgold/pending/xml2argv/domain/minimal.x86_64-7.2.0.args';

function project(): string {
  const dir = tempDir('pending-cli');
  for (const f of ['cases/domain/minimal.xml', 'capabilities/caps_7.2.0_x86_64.xml', ARGS, XML]) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(repo, f), join(dir, f));
  }
  writeFileSync(join(dir, ARGS), readFileSync(join(repo, ARGS), 'utf8').replace('-m 214', '-m 215'));
  return dir;
}

/** The environment without what changes colour or update mode, plus ENV. */
function envWith(env: Record<string, string>): Record<string, string> {
  const e = { ...process.env } as Record<string, string>;
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'VIRTGOLD_UPDATE']) delete e[k];
  return { ...e, ...env };
}
const virtgold = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  execa('node', [bin, ...args], { cwd, reject: false, extendEnv: false, env: envWith(env) });

test('a failing run keeps the result, shows where it comes from and how to act on it; accept makes it the golden', async () => {
  const dir = project();
  const r = await virtgold(dir, ['run']);
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stdout, /FAIL xml2argv domain\/minimal x86_64-7\.2\.0\n {2}case: {7}cases\/domain\/minimal\.xml\n/);
  assert.match(r.stdout, /^ {2}reproduce: {2}npx virtgold xml2argv --caps capabilities\/caps_7\.2\.0_x86_64\.xml cases\/domain\/minimal\.xml$/m);
  assert.match(r.stdout, /^1 result pending in \.virtgold\/pending\/:$/m);
  assert.match(r.stdout, /virtgold review/);
  assert.not.match(r.stdout, /npm run update-golden/); // a project of one's own has no such script
  assert.is(readFileSync(join(dir, PENDING), 'utf8'), readFileSync(join(repo, ARGS), 'utf8'));
  // With the report on stdout, the footer goes to stderr.
  const j = await virtgold(dir, ['run', '--reporter', 'json']);
  assert.is(JSON.parse(j.stdout).summary.failed, 1);
  assert.match(j.stderr, /1 result pending/);

  const none = await virtgold(dir, ['accept', '--mode', 'xml2xml']);
  assert.is(none.exitCode, 0);
  assert.match(none.stdout, /^no pending result matching --mode xml2xml/);
  const a = await virtgold(dir, ['accept']);
  assert.is(a.exitCode, 0, a.stderr);
  assert.is(a.stdout, `accepted  ${ARGS}\n1 accepted`);
  assert.is(readFileSync(join(dir, ARGS), 'utf8'), readFileSync(join(repo, ARGS), 'utf8'));
  assert.not.ok(existsSync(join(dir, PENDING)));
  const after = await virtgold(dir, ['run']);
  assert.is(after.exitCode, 0, after.stdout);
  assert.not.match(after.stdout, /pending/);
});

test('reject drops the pending result and leaves the golden', async () => {
  const dir = project();
  const wrong = readFileSync(join(dir, ARGS), 'utf8');
  await virtgold(dir, ['run']);
  const r = await virtgold(dir, ['reject', '--case', 'domain/*']);
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout, `rejected  ${PENDING}\n1 rejected matching --case 'domain/*'`);
  assert.is(readFileSync(join(dir, ARGS), 'utf8'), wrong);
  assert.not.ok(existsSync(join(dir, '.virtgold/pending/xml2argv')));
});

test('accept and reject take positional filters, as run does', async () => {
  const dir = project();
  await virtgold(dir, ['run']);
  const none = await virtgold(dir, ['reject', 'usb/*']);
  assert.is(none.exitCode, 0, none.stderr);
  assert.is(none.stdout, "no pending result matching --case 'usb/*' (a failing virtgold run keeps them in .virtgold/pending/)");
  assert.ok(existsSync(join(dir, PENDING)));
  const bad = await virtgold(dir, ['accept', 'domain/*', '--bogus']);
  assert.is(bad.exitCode, 2);
  assert.match(bad.stderr, /^virtgold: unknown option '--bogus'\n\(virtgold accept --help shows the usage\)$/);
  const a = await virtgold(dir, ['accept', 'minimal', '--mode', 'xml2argv']);
  assert.is(a.exitCode, 0, a.stderr);
  assert.is(a.stdout, `accepted  ${ARGS}\n1 accepted matching --case minimal --mode xml2argv`);
  assert.not.ok(existsSync(join(dir, PENDING)));
  // review too: the positional is a --case glob
  writeFileSync(join(dir, ARGS), 'wrong\n');
  await virtgold(dir, ['run']);
  const r = await execa('node', [bin, 'review', 'domain/min*', '--mode', 'xml2argv'], { cwd: dir, reject: false, extendEnv: false, env: envWith({}), input: 'r\n' });
  assert.match(r.stdout, /\[1\/1\] xml2argv domain\/minimal x86_64-7\.2\.0/);
  const other = await execa('node', [bin, 'review', 'usb/*'], { cwd: dir, reject: false, extendEnv: false, env: envWith({}), input: '' });
  assert.is(other.exitCode, 2);
  assert.match(other.stderr, /--case 'usb\/\*' matches no case/);
});

for (const [how, args, env] of [['run --update', ['run', '--update'], {}], ['run -u', ['run', '-u'], {}], ['VIRTGOLD_UPDATE=1', ['run'], { VIRTGOLD_UPDATE: '1' }]] as const) {
  test(`${how}: failing results are written as goldens during the run, which passes`, async () => {
    const dir = project();
    const r = await virtgold(dir, [...args], env);
    assert.is(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^2 passed, 0 failed, 0 skipped$/m);
    assert.match(r.stdout, new RegExp(`^written {3}${ARGS.replace(/\./g, '\\.')}\n1 golden written from this run's results \\(--update\\)$`, 'm'));
    assert.is(readFileSync(join(dir, ARGS), 'utf8'), readFileSync(join(repo, ARGS), 'utf8'));
    assert.not.ok(existsSync(join(dir, '.virtgold/pending/xml2argv')));
  });
}

test('review with a named translator reviews what update with it would change, pending results or not', async () => {
  const dir = project();
  await virtgold(dir, ['run']);
  assert.ok(existsSync(join(dir, PENDING)));
  const tool = join(dir, 'mine.sh');
  writeFileSync(tool, '#!/bin/sh\necho "mine $1"\n', { mode: 0o755 });
  const r = await execa('node', [bin, 'review', '--translator-cmd', `${tool} {mode} {input}`], { cwd: dir, reject: false, extendEnv: false, env: envWith({}), input: 'A\n' });
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^1 pending result left as they are \(`virtgold review` without a translator walks them\)$/m);
  assert.match(r.stdout, /reviewing what `virtgold update --prune --translator-cmd '.*mine\.sh \{mode\} \{input\}'` would change/);
  assert.match(r.stdout, /\[1\/2\] update golden\/xml2argv\/domain\/minimal\.x86_64-7\.2\.0\.args/);
  assert.match(r.stdout, /2 accepted, 0 rejected, 0 skipped/);
  assert.is(readFileSync(join(dir, ARGS), 'utf8'), 'mine xml2argv\n');
  assert.is(readFileSync(join(dir, XML), 'utf8'), 'mine xml2xml\n');
  assert.ok(existsSync(join(dir, PENDING)), 'the pending result is left as it is');
  // Without a translator, review still walks the pending results.
  const p = await execa('node', [bin, 'review'], { cwd: dir, reject: false, extendEnv: false, env: envWith({}), input: 'q\n' });
  assert.match(p.stdout, /\[1\/1\] xml2argv domain\/minimal x86_64-7\.2\.0/);
});

test('outside a terminal a long run prints progress lines on stderr; stdout holds only the report', async () => {
  // (in a copy of the shipped project: a run writes .virtgold/ into its project)
  const r = await virtgold(shippedProject(repo), ['run', '--case', 'usb/*', '--reporter', 'json', '--jobs', '2']);
  assert.is(r.exitCode, 0, r.stderr);
  const total = (JSON.parse(r.stdout) as { results: unknown[] }).results.length;
  assert.ok(total >= 50, `only ${total} entries`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('virtgold: '));
  assert.ok(lines.length >= 8, r.stderr); // a tenth at a time, the last one left to the summary
  for (const l of lines) assert.match(l, new RegExp(`^virtgold: \\d+/${total} entries, 0 failed, \\d+ s$`));
});

test.run();
