// `virtgold compare` as a user runs it: exit codes, reporters, translators that disagree or
// break; and, with real libvirt, that every domain a compare defines is undefined again
// when the compare is interrupted (SIGTERM to it, SIGINT to its process group as Ctrl-C
// sends), and that a domain of the host with the same name is never touched.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libvirtUnavailable } from '../harness/libvirt.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/virtgold.js');
const caps = join(repo, 'capabilities/caps_7.2.0_x86_64.xml');
const echo = join(repo, 'test/fixtures/golden-echo.sh');
const tmp = tempDir('compare');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const compare = (...args: string[]) => execa('node', [bin, 'compare', ...args], { reject: false, cwd: repo });
const oneLine = (s: string) => s.trim().split('\n')[0]!;

test('the reference translator against itself: nothing differs, exit 0, the class table', async () => {
  const r = await compare('--reference', 'builtin', '--caps', caps, '--arch', 'x86_64', 'cases');
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^same +\d+$/m);
  assert.match(r.stdout, /^differs +0$/m);
  assert.match(r.stdout, /^translator: builtin; reference: builtin; \d+ entries in/m);
});

test('a translator that differs: its diffs, the json counts, exit 1', async () => {
  const file = join(tmp, 'mangle.json');
  const r = await compare('--translator-cmd', `${echo} {mode} {caps} {input} mangle`, '--reference', 'builtin', '--caps', caps,
    '--mode', 'xml2argv', '--reporter', 'pretty', '--reporter', `json:${file}`, 'cases/hostdev');
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stdout, /^DIFFERS xml2argv cases\/hostdev\/\S+\.xml \(x86_64 QEMU 7\.2\.0\): different output$/m);
  assert.match(r.stdout, /^\+.*"driver":"vfio-pcx"/m);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(Object.keys(j.counts), ['same', 'refused', 'differs', 'message', 'broken', 'skipped']);
  assert.ok(j.counts.differs > 0);
  assert.is(j.entries.filter((e: { class: string }) => e.class === 'differs').length, j.counts.differs);
});

test('a translator that crashes is broken, exit 1; junit and tap say so', async () => {
  const junitFile = join(tmp, 'broken.xml');
  const r = await compare('--translator-cmd', `${echo} {mode} {caps} {input} crash=domain/minimal`, '--reference', 'builtin', '--caps', caps,
    '--reporter', 'tap', '--reporter', `junit:${junitFile}`, 'cases/domain/minimal.xml', 'cases/domain/general.xml');
  assert.is(r.exitCode, 1, r.stderr);
  assert.is((r.stdout.match(/^not ok /gm) ?? []).length, 2);
  assert.match(r.stdout, /killed by SIGSEGV/);
  assert.match(readFileSync(junitFile, 'utf8'), /errors="2"/);
});

test('compare holds the same limits: too much output, a worker answering twice, a huge diff', async () => {
  const r = await compare('--translator-cmd', "sh -c 'yes | head -c 2M' {mode} {input}", '--max-output', '1M', '--reference', 'builtin', '--caps', caps,
    '--mode', 'xml2argv', 'cases/domain/minimal.xml');
  assert.is(r.exitCode, 1, r.stderr);
  assert.match(r.stdout, /^BROKEN xml2argv cases\/domain\/minimal\.xml .*: more than 1 MiB of output \(--max-output\)$/m);
  const twice = await compare('--translator-worker', `node ${repo}/test/fixtures/golden-worker.mjs twice=domain/minimal`, '--reference', 'builtin', '--caps', caps,
    '--mode', 'xml2argv', 'cases/domain/minimal.xml', 'cases/domain/general.xml');
  assert.is(twice.exitCode, 1, twice.stderr);
  assert.match(twice.stdout, /^BROKEN xml2argv cases\/domain\/minimal\.xml .*: worker answered request \d+ twice$/m);
  assert.match(twice.stdout, /^same +1$/m);
  const big = await compare('--translator-cmd', "sh -c 'yes | head -c 10M' {mode} {input}", '--reference', 'builtin', '--caps', caps,
    '--mode', 'xml2argv', 'cases/domain/minimal.xml');
  assert.is(big.exitCode, 1);
  assert.ok(big.stdout.split('\n').length < 500, `${big.stdout.split('\n').length} lines`);
  assert.match(big.stdout, /^\\ … \d+ more added lines not shown$/m);
});

const usage: [string, string[], RegExp][] = [
  ['no reference', ['--caps', caps, 'cases'], /name the reference/],
  ['two references', ['--reference', 'builtin', '--reference-cmd', 'x {mode} {input}', '--caps', caps, 'cases'], /use one of --reference, --reference-cmd, --reference-worker/],
  ['no PATH', ['--reference', 'builtin', '--caps', caps], /name at least one domain file or folder/],
  ['a PATH that is not there', ['--reference', 'builtin', '--caps', caps, 'nope'], /no such file or folder: nope/],
  ['an arch no domain has', ['--reference', 'builtin', '--caps', caps, '--arch', 'ppc64', 'cases'], /no domain of arch ppc64/],
  ['a caps file that is not one', ['--reference', 'builtin', '--caps', join(repo, 'cases/domain/minimal.xml'), 'cases'], /^virtgold: --caps: .*not a QEMU capabilities file/],
  ['an unknown reporter', ['--reference', 'builtin', '--caps', caps, '--reporter', 'nope', 'cases'], /unknown reporter 'nope'/],
];
for (const [what, args, message] of usage) {
  test(`${what}: one line on stderr, exit 2`, async () => {
    const r = await compare(...args);
    assert.is(r.exitCode, 2);
    assert.is(r.stdout, '');
    assert.match(oneLine(r.stderr), message);
  });
}

// ---- with real libvirt (root, libvirtd up: npm run interop sets it up) ----

const noLibvirt = await libvirtUnavailable();
const virsh = (...args: string[]) => execa('virsh', ['-q', '-c', 'qemu:///system', ...args], { reject: false });
const exists = async (name: string) => (await virsh('domuuid', name)).exitCode === 0;

function domain(name: string): string {
  const path = join(tmp, `${name}.xml`);
  writeFileSync(path, `<domain type='qemu'>\n  <name>${name}</name>\n  <uuid>${randomUUID()}</uuid>\n  <memory>219136</memory>\n` +
    `  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n</domain>\n`);
  return path;
}

function libvirtTest(name: string, fn: () => Promise<void>): void {
  if (noLibvirt) {
    console.log(`  (skipped: ${name} — ${noLibvirt})`);
    return;
  }
  test(name, fn);
}

libvirtTest('--reference libvirt runs only on the snapshot of the host QEMU', async () => {
  const r = await compare('--reference', 'libvirt', '--caps', join(repo, 'capabilities/caps_8.1.0_x86_64.xml'), 'cases/domain/minimal.xml');
  assert.is(r.exitCode, 2);
  assert.match(oneLine(r.stderr), /libvirt runs only on the snapshot of the host's QEMU \(.*x86_64 7\.2\.0.*\); --caps is x86_64 QEMU 8\.1\.0/);
});

for (const [signal, group, code] of [['SIGTERM', false, 143], ['SIGINT', true, 130]] as const) {
  libvirtTest(`${signal}${group ? ' to the process group (Ctrl-C)' : ''} while a domain is defined: it is undefined, exit ${code}`, async () => {
    const name = `virtgold-killtest-${process.pid}-${signal}`;
    const realVirsh = (await execa('sh', ['-c', 'command -v virsh'])).stdout.trim();
    const child = execa('node', [bin, 'compare', '--reference', 'libvirt', '--mode', 'xml2xml', domain(name)], {
      reject: false, cwd: repo, detached: true,
      env: { PATH: `${join(repo, 'test/fixtures/slow-virsh')}:${process.env.PATH}`, REAL_VIRSH: realVirsh, SLOW_VIRSH_HOLD: '30' },
    });
    try {
      const deadline = Date.now() + 20_000;
      while (!(await exists(name))) {
        assert.ok(Date.now() < deadline, 'the compare never defined its domain');
        await new Promise((r) => setTimeout(r, 50));
      }
      process.kill(group ? -child.pid! : child.pid!, signal);
      const r = await child;
      assert.is(r.exitCode, code, r.stderr);
      assert.match(r.stderr, new RegExp(`${signal}: undefined ${name}`));
      assert.not.ok(await exists(name), 'the domain is still defined');
    } finally {
      child.kill('SIGKILL');
      if (await exists(name)) await virsh('undefine', name);
    }
  });
}

libvirtTest('a domain of the host with the same name is never touched: skipped, with the reason', async () => {
  const name = `virtgold-hosttest-${process.pid}`;
  const file = domain(name);
  const mine = readFileSync(file, 'utf8');
  assert.is((await virsh('define', file)).exitCode, 0);
  try {
    const before = (await virsh('dumpxml', '--inactive', name)).stdout;
    writeFileSync(file, mine.replace('<memory>219136</memory>', '<memory>524288</memory>').replace(/<uuid>.*<\/uuid>/, `<uuid>${randomUUID()}</uuid>`));
    const r = await compare('--reference', 'libvirt', '--mode', 'xml2xml', '--reporter', 'json', file);
    assert.is(r.exitCode, 0, r.stderr);
    const e = JSON.parse(r.stdout).entries[0];
    assert.is(e.class, 'skipped');
    assert.match(e.reason, /already defined on this host/);
    assert.is((await virsh('dumpxml', '--inactive', name)).stdout, before);
  } finally {
    await virsh('undefine', name);
  }
});

test.run();
