// The harness in-process: where the project is, what a selection holds, folder options,
// --case globs, runs that would test nothing, stale goldens seen alike by run and update,
// and libvirt's command line normalized word for word.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinAdapter, builtinAdapterWith, commandAdapter } from '../harness/adapters.js';
import { checkedSelection, discoverCases, selectEntries } from '../harness/cases.js';
import { SetupError } from '../harness/errors.js';
import { matchGlob } from '../harness/filters.js';
import { excuseNetdev, hostCpuDiffers, normalizeNativeArgv } from '../harness/libvirt.js';
import { existingGoldens, lookupGolden } from '../harness/goldens.js';
import { findProject } from '../harness/project.js';
import { runCommand, selectionOf } from '../harness/run.js';
import { counts, runSuite } from '../harness/runner.js';
import type { Filters } from '../harness/types.js';
import { outOfDate, plan } from '../harness/update.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
// tempDir's folders are removed when the test process ends, however it ends.
const temp = () => tempDir('harness');

/** A throw-away project: some of the shipped snapshots, cases and goldens, plus files. */
function project(o: { caps?: string[]; areas?: string[]; files?: Record<string, string> } = {}): string {
  const dir = temp();
  mkdirSync(join(dir, 'capabilities'));
  mkdirSync(join(dir, 'cases'));
  for (const c of o.caps ?? ['caps_7.2.0_x86_64.xml', 'caps_8.1.0_x86_64.xml']) {
    cpSync(join(repo, 'capabilities', c), join(dir, 'capabilities', c));
    // the host facts the snapshot carries (hugetlbfs mounts) come with it
    const host = join('host', c.replace(/\.xml$/, '.json'));
    if (existsSync(join(repo, host))) cpSync(join(repo, host), join(dir, host));
  }
  for (const a of o.areas ?? []) {
    cpSync(join(repo, 'cases', a), join(dir, 'cases', a), { recursive: true });
    for (const m of ['xml2argv', 'xml2xml']) cpSync(join(repo, 'golden', m, a), join(dir, 'golden', m, a), { recursive: true });
  }
  for (const [p, text] of Object.entries(o.files ?? {})) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

const minimalXml = (arch = 'x86_64') => `<domain type='qemu'><name>m</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1899</uuid>
<memory>219136</memory><os><type arch='${arch}' machine='pc'>hvm</type></os></domain>\n`;

function setupError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SetupError) return e.message;
    throw e;
  }
  throw new Error('expected a SetupError');
}

// ---- the project root ----

test('the project is the nearest directory upwards with cases/ and capabilities/', () => {
  assert.is(findProject(undefined, join(repo, 'cases', 'hostdev')), repo.replace(/\/$/, ''));
  assert.is(findProject(undefined, join(repo, 'golden', 'xml2argv')), repo.replace(/\/$/, ''));
  assert.is(findProject(repo), repo.replace(/\/$/, ''));
  assert.match(setupError(() => findProject(undefined, temp())), /^not inside a virtgold project: no directory from .* upwards holds cases\/ and capabilities\//);
  assert.match(setupError(() => findProject('/nonexistent')), /^--root \/nonexistent: not a virtgold project \(no cases\/ and no capabilities\//);
  assert.match(setupError(() => findProject(join(repo, 'cases'))), /not a virtgold project/); // --root is exact, never searched upwards
});

test('update and review never create golden/ outside a project', async () => {
  const notProject = join(temp(), 'nonexistent');
  for (const cmd of ['update', 'review'] as const) {
    const e = await runCommand(cmd, ['--root', notProject]).then(() => undefined, (x: Error) => x);
    assert.ok(e instanceof SetupError, String(e));
  }
  assert.not.ok(existsSync(join(notProject, 'golden')));
  // From inside golden/ the project is the one above it, not golden/ itself.
  assert.is(selectionOf({}, join(repo, 'golden')).root, repo.replace(/\/$/, ''));
});

// ---- filters ----

test('--case globs: path-wise *, crossing **, a bare pattern matches the last segment', () => {
  const yes: [string, string][] = [
    ['minimal', 'domain/minimal'], ['minimal', 's390x/minimal'], ['hostdev/*', 'hostdev/vfio'], ['**/vf-token*', 'vf-token-x'],
    ['**/vf-token*', 'a/b/vf-token-y'], ['vf-token/**', 'vf-token/a/b'], ['{domain/minimal,usb/*}', 'usb/none'], ['vfio*', 'hostdev/vfio-multiple'],
    ['hostdev/vfio-[mr]*', 'hostdev/vfio-rom-boot'],
  ];
  const no: [string, string][] = [
    ['minimal', 'domain/minimal-x'], ['hostdev/*', 'hostdev/a/b'], ['**/vf-token*', 'vf-token/hostdev'], ['hostdev/*', 'vf-token/hostdev'],
    ['domain', 'domain/minimal'],
  ];
  for (const [p, n] of yes) assert.ok(matchGlob(p, n), `${p} should match ${n}`);
  for (const [p, n] of no) assert.not.ok(matchGlob(p, n), `${p} should not match ${n}`);
});

// The filter tests need every snapshot and a few areas, not the whole shipped corpus.
let smallProject: string | undefined;
const small = () => (smallProject ??= project({
  caps: ['caps_7.2.0_x86_64.xml', 'caps_8.1.0_x86_64.xml', 'caps_8.2.0_x86_64.xml', 'caps_7.2.0_s390x.xml', 'caps_8.1.0_s390x.xml'],
  areas: ['domain', 'usb'],
}));

test('repeated filters combine (union within a filter, intersection across filters)', () => {
  const names = (f: Filters) => selectEntries(small(), f).entries.map((e) => `${e.mode} ${e.case.name} ${e.snapshot.version}`);
  assert.equal(names({ case: ['domain/minimal', 'usb/none'], mode: ['xml2argv'], version: ['7.2.0', '8.1.0'] }), [
    'xml2argv domain/minimal 7.2.0', 'xml2argv domain/minimal 8.1.0', 'xml2argv usb/none 7.2.0', 'xml2argv usb/none 8.1.0',
  ]);
  assert.is(names({ mode: ['xml2argv', 'xml2xml'], case: ['usb/none'] }).length, 6);
  const sel = selectionOf({ case: ['a', 'b'], mode: ['xml2xml'], arch: ['x86_64', 's390x'], version: ['7.2.0'], root: small() });
  assert.equal(sel.filters, { case: ['a', 'b'], arch: ['x86_64', 's390x'], version: ['7.2.0'], mode: ['xml2xml'] });
});

// ---- a run that would test nothing ----

test('a selection that tests nothing is a one-line setup error, unless --pass-with-no-entries', () => {
  const cases: [Filters, RegExp][] = [
    [{ case: ['nomatch'] }, /^--case 'nomatch' matches no case under cases\//],
    [{ arch: ['arm'] }, /^--arch arm: no snapshot for it \(snapshots are for s390x, x86_64\)/],
    [{ version: ['9.9.9'] }, /^--version 9\.9\.9: no snapshot of it \(snapshots are of 7\.2\.0, 8\.1\.0, 8\.2\.0\)/],
    [{ arch: ['s390x'], version: ['8.2.0'] }, /^no entry matches --arch s390x --version 8\.2\.0/],
    [{ case: ['domain/minimal', 'nomatch'] }, /^--case 'nomatch' matches no case/], // one good pattern does not hide a typo
  ];
  for (const [f, re] of cases) {
    const message = setupError(() => checkedSelection(small(), f));
    assert.match(message, re);
    assert.match(message, /\(--pass-with-no-entries to run anyway\)$/);
    assert.not.match(message, /\n/);
    checkedSelection(small(), f, true); // opted in: no error
  }
});

test('a project without snapshots or cases, and a case no snapshot can run, are refused', () => {
  assert.match(setupError(() => checkedSelection(project({ caps: [], files: { 'cases/a/m.xml': minimalXml() } }), {})), /^no snapshot: .*capabilities holds no caps_VERSION_ARCH\.xml/);
  assert.match(setupError(() => checkedSelection(project(), {})), /^no case: .*cases holds no \*\.xml/);
  const typo = project({ files: { 'cases/a/m.xml': minimalXml(), 'cases/a/m.json': '{ "versions": ["9.9.9"] }', 'cases/a/ok.xml': minimalXml() } });
  assert.match(setupError(() => checkedSelection(typo, {})), /^cases\/a\/m\.xml: its options name versions 9\.9\.9, but the x86_64 snapshots are 7\.2\.0, 8\.1\.0/);
  assert.is(checkedSelection(typo, { case: ['ok'] }).entries.length, 4); // only the selected cases are held to it
  const arm = project({ files: { 'cases/arm.xml': minimalXml('aarch64') } });
  assert.match(setupError(() => checkedSelection(arm, {})), /^cases\/arm\.xml: no snapshot for its arch aarch64/);
});

test('runSuite and update refuse an empty selection the same way', async () => {
  const e1 = await runSuite({ root: small(), filters: { case: ['nomatch'] }, adapter: builtinAdapter, jobs: 1, determinism: false }).then(() => undefined, (x: Error) => x);
  const e2 = await plan({ root: small(), filters: { case: ['nomatch'] } }).then(() => undefined, (x: Error) => x);
  assert.ok(e1 instanceof SetupError && e2 instanceof SetupError);
  assert.is(e1.message, e2.message);
  const empty = await runSuite({ root: small(), filters: { case: ['nomatch'] }, adapter: builtinAdapter, jobs: 1, determinism: false, passWithNoEntries: true });
  assert.is(empty.results.length, 0);
  assert.equal(counts(empty), { pass: 0, fail: 0, broken: 0, skip: 0, stale: 0 });
});

// ---- folder options ----

test('folder options apply to every case below; the nearest file wins per key; null unsets', () => {
  const dir = project({
    caps: ['caps_7.2.0_x86_64.xml', 'caps_8.1.0_x86_64.xml', 'caps_8.2.0_x86_64.xml'],
    files: {
      'cases/options.json': '{ "modes": ["xml2xml"] }',
      'cases/a/options.json': '{ "versions": ["7.2.0", "8.1.0"], "notIdempotent": "because" }',
      'cases/a/b/options.json': '{ "modes": ["xml2argv"] }',
      'cases/a/b/c.xml': minimalXml(),
      'cases/a/b/c.json': '{ "notIdempotent": null, "versions": ["8.2.0"] }',
      'cases/a/d.xml': minimalXml(),
      'cases/e.xml': minimalXml(),
      'cases/f/g.xml': minimalXml(),
      'cases/f/g.json': '{ "modes": null }',
    },
  });
  const opts = Object.fromEntries(discoverCases(dir).map((c) => [c.name, c.options]));
  assert.equal(opts, {
    'a/b/c': { modes: ['xml2argv'], versions: ['8.2.0'] },
    'a/d': { modes: ['xml2xml'], versions: ['7.2.0', '8.1.0'], notIdempotent: 'because' },
    e: { modes: ['xml2xml'] },
    'f/g': {},
  });
  const entries = selectEntries(dir).all.map((e) => e.relStem);
  assert.ok(entries.includes('golden/xml2argv/a/b/c.x86_64-8.2.0'));
  assert.is(entries.length, 1 + 2 + 3 + 6);
});

test('options files are checked: stray NAME.json, a case called options, bad values', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ 'cases/a/x.xml': minimalXml(), 'cases/a/y.json': '{}' }, /^cases\/a\/y\.json: no case a\/y\.xml beside it/],
    [{ 'cases/a/options.xml': minimalXml() }, /a case cannot be called 'options'/],
    [{ 'cases/a/x.xml': minimalXml(), 'cases/a/options.json': '{ "version": ["7.2.0"] }' }, /^cases\/a\/options\.json: unknown option 'version'/],
    [{ 'cases/a/x.xml': minimalXml(), 'cases/a/options.json': '{ "modes": [] }' }, /"modes" must list xml2argv and\/or xml2xml/],
    [{ 'cases/a/x.xml': minimalXml(), 'cases/a/x.json': '{ nope' }, /^cases\/a\/x\.json: invalid JSON/],
    [{ 'cases/a b/x.xml': minimalXml() }, /case and folder names use letters/],
  ];
  for (const [files, re] of bad) assert.match(setupError(() => discoverCases(project({ files }))), re);
});

// ---- stale goldens: run and update --check agree ----

test('run and update --check name the same stale goldens, within the same filters', async () => {
  const dir = project({ caps: ['caps_7.2.0_x86_64.xml', 'caps_8.1.0_x86_64.xml', 'caps_8.2.0_x86_64.xml'], areas: ['usb', 'domain'] });
  writeFileSync(join(dir, 'golden/xml2xml/usb/gone.x86_64-7.2.0.xml'), 'stale\n');
  for (const [filters, expected] of [
    [{}, ['golden/xml2xml/usb/gone.x86_64-7.2.0.xml']],
    [{ case: ['usb/*'] }, ['golden/xml2xml/usb/gone.x86_64-7.2.0.xml']],
    [{ case: ['gone'] , mode: ['xml2xml'] }, ['golden/xml2xml/usb/gone.x86_64-7.2.0.xml']],
    [{ case: ['domain/*'] }, []],
    [{ case: ['usb/*'], version: ['8.1.0'] }, []],
  ] as [Filters, string[]][]) {
    const passWithNoEntries = filters.case?.[0] === 'gone'; // a stale golden's case matches no case, by definition
    const suite = await runSuite({ root: dir, filters, adapter: builtinAdapter, jobs: 1, determinism: false, passWithNoEntries });
    const { report } = await plan({ root: dir, filters, passWithNoEntries });
    assert.equal(suite.stale.map((p) => p.slice(dir.length + 1)), expected, JSON.stringify(filters));
    assert.equal(report.stale, expected, JSON.stringify(filters));
    assert.is(outOfDate(report), expected.length > 0);
    assert.is(counts(suite).stale, expected.length);
  }
});

test('a golden is looked up in the listing of the golden tree when given one, and read from disk', () => {
  const dir = project({ caps: ['caps_8.1.0_x86_64.xml'], files: { 'cases/m.xml': minimalXml(), 'golden/xml2argv/m.x86_64-8.1.0.args': 'argv\n' } });
  const entry = selectEntries(dir).all.find((e) => e.mode === 'xml2argv')!;
  const listed = new Set(existingGoldens(dir));
  assert.equal(lookupGolden(entry, listed), { rel: 'golden/xml2argv/m.x86_64-8.1.0.args', kind: 'output', text: 'argv\n' });
  assert.equal(lookupGolden(entry), lookupGolden(entry, listed));
  // The listing is what the run saw: a golden written after it is not the run's.
  assert.match(String(lookupGolden(entry, new Set())), /^no golden: /);
  writeFileSync(join(dir, 'golden/xml2argv/m.x86_64-8.1.0.err'), 'error\n');
  assert.match(String(lookupGolden(entry)), /^both .* exist; remove one$/);
  assert.equal(lookupGolden(entry, listed), { rel: 'golden/xml2argv/m.x86_64-8.1.0.args', kind: 'output', text: 'argv\n' });
});

// ---- libvirt's command line, as libvirt wrote it ----

test("libvirt's words are kept as written: its quoting is compared, not re-rendered", () => {
  const line = "LC_ALL=C PATH=/usr/local/bin:/usr/bin HOME='/var/lib/libvirt/qemu/domain--1-a b' USER=root " +
    "XDG_DATA_HOME='/var/lib/libvirt/qemu/domain--1-a b/.local/share' /usr/bin/qemu-system-x86_64 -name 'guest=a b,debug-threads=on' " +
    "-chardev 'socket,id=charmonitor,path=/var/lib/libvirt/qemu/domain--1-a b/monitor.sock,server=on,wait=off' -S";
  assert.is(normalizeNativeArgv(line), [
    'LC_ALL=C', 'PATH=/bin', "HOME='/var/lib/libvirt/qemu/domain--1-a b'", 'USER=test', 'LOGNAME=test',
    "XDG_DATA_HOME='/var/lib/libvirt/qemu/domain--1-a b/.local/share'", '/usr/bin/qemu-system-x86_64',
    "-name 'guest=a b,debug-threads=on'", '-chardev socket,id=charmonitor,fd=1729,server=on,wait=off', '-S',
  ].join(' \\\n') + '\n');
  // The .args layout of libvirt's own test harness (the oracle) reads the same way, its home moved.
  const oracle = 'LC_ALL=C \\\nHOME=/tmp/lib/domain--1-x \\\n/usr/bin/qemu-system-x86_64 \\\n' +
    `-object '{"qom-type":"secret","id":"masterKey0","format":"raw","file":"/tmp/lib/domain--1-x/master-key.aes"}' \\\n-S\n`;
  assert.is(normalizeNativeArgv(oracle, { oracle: true }), 'LC_ALL=C \\\nHOME=/var/lib/libvirt/qemu/domain--1-x \\\nUSER=test \\\nLOGNAME=test \\\n' +
    `/usr/bin/qemu-system-x86_64 \\\n-object '{"qom-type":"secret","id":"masterKey0","format":"raw","file":"/var/lib/libvirt/qemu/domain--1-x/master-key.aes"}' \\\n-S\n`);
});

test("libvirt's line breaks: words that are not options stay on the line before them while an option follows", () => {
  const line = 'LC_ALL=C /usr/bin/qemu-system-x86_64 -name x -unknown a b -set c -msg timestamp=on tail';
  assert.is(normalizeNativeArgv(line), ['LC_ALL=C', '/usr/bin/qemu-system-x86_64', '-name x', '-unknown a b', '-set c', '-msg timestamp=on', 'tail'].join(' \\\n') + '\n');
});

test('-netdev values are excused on both sides alike', () => {
  const a = excuseNetdev("-m 214 \\\n-netdev '{\"type\":\"tap\",\"fd\":\"-1\",\"id\":\"hostnet0\"}' \\\n-S\n");
  const b = excuseNetdev('-m 214 \\\n-netdev \'{"type":"tap","fd":"27","vhost":true,"id":"hostnet0"}\' \\\n-S\n');
  assert.is(a, b);
  assert.match(a, /^-netdev '\(value not compared: .*\)' \\$/m);
  assert.match(a, /^-S$/m);
});

test('the in-process translator obeys --timeout: a translation past it is a broken entry, not a refusal', async () => {
  const big = minimalXml().replace('</os>', `</os><devices>${"<input type='mouse' bus='ps2'/>".repeat(5000)}</devices>`);
  const dir = project({ caps: ['caps_7.2.0_x86_64.xml'], files: { 'cases/big.xml': big } });
  const late = await runSuite({ root: dir, filters: {}, adapter: builtinAdapterWith(0), jobs: 1, determinism: false });
  assert.equal(late.results.map((r) => [r.status, r.message]), [['broken', 'broken translator: timed out after 0 ms'], ['broken', 'broken translator: timed out after 0 ms']]);
});

test('host-model command lines are held to real libvirt only where its probe has the snapshot\'s host CPU data', () => {
  const dir = tempDir('hostcpu');
  const cpu = (model: string) => `<qemuCaps><hostCPU type='kvm' model='${model}' migratability='yes'><property name='f' type='boolean' value='true'/></hostCPU></qemuCaps>`;
  writeFileSync(join(dir, 'snap.xml'), cpu('base'));
  writeFileSync(join(dir, 'same.xml'), cpu('base'));
  writeFileSync(join(dir, 'other.xml'), cpu('max'));
  const hm = "<domain><cpu mode='host-model'/></domain>";
  assert.is(hostCpuDiffers('xml2argv', hm, join(dir, 'snap.xml'), join(dir, 'same.xml')), undefined);
  assert.match(hostCpuDiffers('xml2argv', hm, join(dir, 'snap.xml'), join(dir, 'other.xml'))!, /host-model follows the host's CPU/);
  assert.match(hostCpuDiffers('xml2argv', hm, join(dir, 'snap.xml'), undefined)!, /host-model/);
  // The inactive XML keeps host-model unexpanded; other CPU modes do not follow the host's data.
  assert.is(hostCpuDiffers('xml2xml', hm, join(dir, 'snap.xml'), join(dir, 'other.xml')), undefined);
  assert.is(hostCpuDiffers('xml2argv', "<domain><cpu mode='host-passthrough'/></domain>", join(dir, 'snap.xml'), join(dir, 'other.xml')), undefined);
});

test('a command template needs both {mode} and {input}', () => {
  for (const cmd of ['node {mode} --caps {caps}', 'node --caps {caps} {input}', 'node --caps {caps}']) {
    assert.throws(() => commandAdapter(cmd, 1000), /--translator-cmd needs the \{mode\} and \{input\} placeholders/, cmd);
  }
  assert.is(commandAdapter('node {mode} --caps {caps} {input}', 1000).name, 'command: node {mode} --caps {caps} {input}');
});

test.run();
