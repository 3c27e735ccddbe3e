// npm run interop:snapshots as a process, with test/fixtures/fake-libvirt-tests standing in
// for libvirt's two test programs (VIRTGOLD_LIBVIRT_TESTS): exit codes, the summary, the
// failures it must report (a difference, a rejected snapshot, a program that records
// nothing) and the one-line refusals when it cannot run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const fake = join(repo, 'test/fixtures/fake-libvirt-tests');
const tmp = tempDir('snapshots-test');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

interface Result { exitCode?: number; stdout: string; stderr: string }
const SOME = ['--version', '8.1.0', '--arch', 'x86_64', '--case', 'domain/minimal', '--case', 'domain-misc/genid-empty', '--case', 'vf-token/hostdev'];
// Each run starts processes (~1 s): start them all at once, await them in the tests.
const run = (env: Record<string, string>, args = SOME): Promise<Result> =>
  execa('node', ['--import', 'tsx', 'scripts/interop-snapshots.ts', ...args], {
    cwd: repo, reject: false, env: { VIRTGOLD_LIBVIRT_TESTS: fake, TMPDIR: tmp, ...env },
  });
const okTmp = join(tmp, 'ok');
mkdirSync(okTmp);
// What killed runs left: swept, unless kept on purpose (its path was shown).
const deadPid = (() => {
  for (let p = 4_000_000; ; p++) {
    try { process.kill(p, 0); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ESRCH') return p; }
  }
})();
const killed = `virtgold-snapshots-${deadPid}-AbC123`;
const kept = `virtgold-snapshots-${deadPid}-kEpT99`;
mkdirSync(join(okTmp, killed, 'in'), { recursive: true });
mkdirSync(join(okTmp, kept));
writeFileSync(join(okTmp, kept, '.virtgold-kept'), '');
const agrees = run({ TMPDIR: okTmp });
const differs = run({ FAKE_LIBVIRT: 'differ' });
const rejects = run({ FAKE_LIBVIRT: 'reject' });
const silent = run({ FAKE_LIBVIRT: 'silent' });
const missing = run({ VIRTGOLD_LIBVIRT_TESTS: join(tmp, 'nowhere') });
const noSuchVersion = run({}, ['--version', '9.9.9']);
const badOption = run({}, ['--frobnicate']);

const summary = (r: Result) => r.stdout.split('\n').find((l) => l.startsWith('interop:snapshots: checked')) ?? '';

test('a harness that agrees: exit 0, the excused entries listed under their excuse, nothing left behind', async () => {
  const r = await agrees;
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(summary(r), /^interop:snapshots: checked 6: same 4, excused 2 \(by vf-token 2, unsupported 0, hostdev-vfio 0, native-nics 0, numad 0; an entry can need two\), failures 0 \(/);
  assert.match(r.stdout, /^excused by vf-token \(.*\): 2\n {2}xml2argv vf-token\/hostdev x86_64-8.1.0\n {2}xml2xml vf-token\/hostdev x86_64-8.1.0$/m);
  assert.not.match(r.stdout, 'FAIL');
  assert.equal(readdirSync(okTmp).filter((d) => d.startsWith('virtgold-')), [kept], 'the work directory is removed when nothing failed, a killed run\'s swept');
});

test('a difference is a failure with its diff, and exit 1; the answers are kept', async () => {
  const r = await differs;
  assert.is(r.exitCode, 1);
  assert.match(r.stdout, /^FAIL xml2argv domain\/minimal x86_64-8\.1\.0$/m);
  assert.match(r.stdout, /^\+-fake$/m);
  assert.match(r.stdout, /^FAIL xml2argv vf-token\/hostdev x86_64-8\.1\.0$/m);
  assert.match(r.stdout, 'vf-token do not account for it');
  assert.match(summary(r), /failures 2 /);
  assert.match(r.stdout, new RegExp(`^libvirt's answers and logs: ${tmp}/virtgold-snapshots-`, 'm'));
});

test('a snapshot libvirt\'s loader rejects fails all its entries, said once', async () => {
  const r = await rejects;
  assert.is(r.exitCode, 1);
  const said = r.stdout.match(/^libvirt's loader rejects capabilities\/caps_8\.1\.0_x86_64\.xml: internal error: missing emulator in QEMU capabilities cache$/gm) ?? [];
  assert.is(said.length, 1);
  assert.match(r.stdout, /^FAIL 6 entries: xml2argv domain-misc\/genid-empty x86_64-8\.1\.0, xml2xml domain-misc\/genid-empty x86_64-8\.1\.0, xml2argv domain\/minimal x86_64-8\.1\.0, /m);
  assert.match(summary(r), /checked 6: same 0, .* failures 6 /);
});

test('a program that records nothing fails every entry it was given', async () => {
  const r = await silent;
  assert.is(r.exitCode, 1);
  assert.match(r.stdout, /^libvirt's qemuxml2argvtest recorded no answer \(exit 0; log: /m);
  assert.match(r.stdout, /^libvirt's qemuxml2xmltest recorded no answer \(exit 0; log: /m);
  assert.match(summary(r), /failures 6 /);
});

test('when it cannot run: exit 2 and one line saying why', async () => {
  for (const [r, why] of [
    [await missing, /^interop:snapshots: qemuxml2(argv|xml)test could not run: /],
    [await noSuchVersion, /^interop:snapshots: --version 9\.9\.9: no snapshot of it/],
    [await badOption, /^interop:snapshots: Unknown option '--frobnicate'/],
  ] as const) {
    assert.is(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, why);
    assert.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  }
});

test.run();
