// `virtgold compare --reference libvirt-tests` as a user runs it: against the stand-in for
// libvirt's two test programs (test/fixtures/fake-libvirt-tests): one program run per
// snapshot and mode, several --caps each on its arch, a difference, a program that dies
// on one domain (that domain broken, the rest answered), no programs at all (exit 2), and
// `run --translator libvirt-tests` on goldens. Then
// against libvirt's real harness where it is built (skipped, with the reason, elsewhere).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shippedProject } from './helpers/shipped.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/virtgold.js');
const fake = join(repo, 'test/fixtures/fake-libvirt-tests');
const tmp = tempDir('compare-harness');
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const caps = (v: string, arch: string) => join(repo, `capabilities/caps_${v}_${arch}.xml`);
const CAPS = ['--caps', caps('8.2.0', 'x86_64'), '--caps', caps('8.1.0', 'x86_64'), '--caps', caps('8.1.0', 's390x')];

const compare = (env: Record<string, string>, ...args: string[]) =>
  execa('node', [bin, 'compare', '--reference', 'libvirt-tests', ...args], { reject: false, cwd: repo, env: { TMPDIR: tmp, ...env } });

const dies = join(tmp, 'dies');
mkdirSync(dies);
const minimal = readFileSync(join(repo, 'cases/domain/minimal.xml'), 'utf8');
writeFileSync(join(dies, 'a.xml'), minimal);
writeFileSync(join(dies, 'b.xml'), minimal.replace(/<name>[^<]*<\/name>/, '<name>harness-dies</name>'));
writeFileSync(join(dies, 'c.xml'), minimal.replace(/<name>[^<]*<\/name>/, '<name>after</name>'));

// Each compare starts processes (~1 s): start them all at once, await them in the tests.
const agrees = compare({ VIRTGOLD_LIBVIRT_TESTS: fake }, ...CAPS, '--reporter', 'json', 'cases/domain', 'cases/s390x');
const differs = compare({ VIRTGOLD_LIBVIRT_TESTS: fake, FAKE_LIBVIRT: 'differ' }, '--caps', caps('8.2.0', 'x86_64'), '--mode', 'xml2argv', 'cases/domain/minimal.xml');
const died = compare({ VIRTGOLD_LIBVIRT_TESTS: fake, FAKE_LIBVIRT: 'die' }, '--caps', caps('8.2.0', 'x86_64'), '--mode', 'xml2argv', '--reporter', 'json', dies);
const run = execa('node', [bin, 'run', '--translator', 'libvirt-tests', '--version', '8.1.0', '--arch', 'x86_64', '--case', 'domain/minimal', '--case', 'domain-misc/genid-empty', '--case', 'vf-token/hostdev'],
  { reject: false, cwd: shippedProject(repo), env: { TMPDIR: tmp, VIRTGOLD_LIBVIRT_TESTS: fake } }); // (a run writes .virtgold/ into its project)
const missing = compare({ VIRTGOLD_LIBVIRT_TESTS: join(tmp, 'nowhere') }, '--caps', caps('8.2.0', 'x86_64'), 'cases/domain/minimal.xml');

interface Entry { input: string; mode: string; arch: string; version: string; class: string; reason?: string }

test('a harness that agrees: exit 0, each domain on the snapshots of its arch, named as the goldens are', async () => {
  const r = await agrees;
  assert.is(r.exitCode, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { counts: Record<'same' | 'differs' | 'broken' | 'message', number>; entries: Entry[] };
  assert.is(j.counts.differs + j.counts.broken + j.counts.message, 0);
  assert.ok(j.counts.same > 10);
  const where = (input: string) => [...new Set(j.entries.filter((e) => e.input === input).map((e) => `${e.arch}-${e.version}`))];
  assert.equal(where('cases/domain/minimal.xml'), ['x86_64-8.2.0', 'x86_64-8.1.0']);
  const s390 = j.entries.find((e) => e.arch === 's390x')!;
  assert.equal(where(s390.input), ['s390x-8.1.0'], 'its file names it 8.1.0 (QEMU says 8.0.50)');
});

test('a difference is printed with its diff; exit 1', async () => {
  const r = await differs;
  assert.is(r.exitCode, 1);
  assert.match(r.stdout, /^DIFFERS xml2argv cases\/domain\/minimal\.xml \(x86_64 QEMU 8\.2\.0\): different output$/m);
  assert.match(r.stdout, /^--fake$/m); // the reference's line: diffs put the reference first
});

test('a program that dies on one domain breaks that domain only; the rest of its batch is answered', async () => {
  const r = await died;
  assert.is(r.exitCode, 1, r.stderr);
  const j = JSON.parse(r.stdout) as { entries: Entry[] };
  const by = Object.fromEntries(j.entries.map((e) => [e.input.split('/').pop(), e]));
  assert.is(by['a.xml']!.class, 'same');
  assert.is(by['c.xml']!.class, 'same');
  assert.is(by['b.xml']!.class, 'broken');
  assert.match(by['b.xml']!.reason!, /qemuxml2argvtest was killed by SIGSEGV on it/);
});

test('run --translator libvirt-tests: the goldens held to the harness; virtgold refusals and vf-token skipped', async () => {
  const r = await run;
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^2 passed, 0 failed, 4 skipped \(2 of them virtgold's own `unsupported` refusals\)$/m);
  assert.match(r.stdout, /virtgold.s own `unsupported` refusal, not a claim about libvirt/);
  assert.match(r.stdout, /libvirt 9\.0\.0 has no vf-token support/);
});

test('no programs where it looks: exit 2, one line why', async () => {
  const r = await missing;
  assert.is(r.exitCode, 2);
  assert.match(r.stderr, /no qemuxml2argvtest in .*nowhere/);
});

test('an xml2xml entry is answered with the xml2xml answer, even once the xml2argv answers of its snapshot (rebuilt NICs) are in', async () => {
  // The answers of the input with its interfaces rebuilt (harness/native-nics.ts) stand
  // for xml2argv's only; they were once looked up by snapshot and domain alone, and an
  // xml2xml entry answered after them got a command line (seen on s390x's NIC cases).
  const { libvirtTestsAdapter } = await import('../harness/libvirt-tests-adapter.js');
  const { selectEntries } = await import('../harness/cases.js');
  const { entries } = selectEntries(repo, { case: ['net/models'], arch: ['x86_64'], version: ['8.1.0'] });
  const argv = entries.find((e) => e.mode === 'xml2argv')!;
  const xml = entries.find((e) => e.mode === 'xml2xml')!;
  const text = readFileSync(argv.case.path, 'utf8');
  const a = await libvirtTestsAdapter(fake);
  try {
    await a.prepare!([{ entry: argv, xml: text }]);
    await a.translate(argv, text);
    const out = await a.translate(xml, text);
    assert.is(out.kind, 'output', JSON.stringify(out));
    assert.match((out as { text: string }).text, /^<domain type=/);
  } finally {
    await a.close?.();
  }
});

// ---- the real harness ----------------------------------------------------------------------

const check = await execa(join(repo, 'scripts/libvirt-harness.sh'), ['--check'], { reject: false, stdin: 'ignore' });
const built = process.env.VIRTGOLD_LIBVIRT_TESTS || (check.exitCode === 0 ? check.stdout.trim() : undefined);
if (!built) {
  console.log(`  (skipped: compare against libvirt's real test harness — ${check.stderr.trim().replace(/^libvirt-harness: /, '') || 'not built'}; npm run interop:snapshots builds it)`);
} else {
  test("libvirt's real harness agrees with the reference translator on the shipped domain cases", async () => {
    const r = await compare({ VIRTGOLD_LIBVIRT_TESTS: built }, ...CAPS, '--reporter', 'json', 'cases/domain');
    assert.is(r.exitCode, 0, r.stderr + r.stdout.slice(0, 3000));
    const j = JSON.parse(r.stdout) as { counts: Record<'same' | 'differs' | 'broken' | 'message', number> };
    assert.is(j.counts.differs + j.counts.broken, 0);
    assert.ok(j.counts.same > 10, JSON.stringify(j.counts));
  });
}

test.run();
