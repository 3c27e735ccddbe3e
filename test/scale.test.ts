// Re-run and focus, CI at scale, reduce and coverage, in-process: shards, the last-run
// record and --only-failures, what a watched change affects, merging shard reports,
// ddmin and the XML tree reduce works on, and the RELAX NG walk of coverage.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coverageOf, documentAreas, loadGrammar, schemaAreas } from '../harness/coverage.js';
import { ddmin } from '../harness/ddmin.js';
import { SetupError, UsageError, UserError } from '../harness/errors.js';
import { focusOf } from '../harness/focus.js';
import { LAST_RUN, readLastRun, recordOf, writeLastRun } from '../harness/last-run.js';
import { mergeShards, readShard, type ShardFile } from '../harness/merge-reports.js';
import { disagreement, parseTree, reduce, serialize } from '../harness/reduce.js';
import { caseTarget, writeNewCase } from '../harness/reduce-cli.js';
import { withPositionals } from '../harness/run.js';
import { entryName, type SuiteResult } from '../harness/runner.js';
import { inShard, parseShard, selectionDigest } from '../harness/shard.js';
import type { Adapter, MatrixEntry, Mode } from '../harness/types.js';
import { affectedBy } from '../harness/watch.js';
import { tempDir } from './helpers/tmp.js';

const entry = (name: string, mode: Mode = 'xml2argv', arch = 'x86_64', version = '7.2.0'): MatrixEntry => ({
  case: { name, path: `/p/cases/${name}.xml`, arch, options: {} }, snapshot: { arch, version, path: `/p/capabilities/caps_${version}_${arch}.xml` },
  mode, stem: `/p/golden/${mode}/${name}.${arch}-${version}`, relStem: `golden/${mode}/${name}.${arch}-${version}`,
});
const matrix = Array.from({ length: 40 }, (_, i) => [entry(`area/c${i}`), entry(`area/c${i}`, 'xml2xml'), entry(`area/c${i}`, 'xml2argv', 'x86_64', '8.1.0')]).flat();

test('--shard K/N: parsed strictly', () => {
  assert.equal(parseShard('2/4'), { index: 2, total: 4 });
  assert.equal(parseShard('1/1'), { index: 1, total: 1 });
  for (const bad of ['0/3', '4/3', '1/0', '1', 'a/b', '1/2/3', '-1/2']) assert.throws(() => parseShard(bad), (e: Error) => e instanceof UsageError && /--shard takes K\/N/.test(e.message));
});

test('shards: every entry in exactly one, sizes within one, the same whatever the order, in matrix order', () => {
  for (const n of [1, 2, 3, 7]) {
    const parts = Array.from({ length: n }, (_, i) => inShard(matrix, { index: i + 1, total: n }));
    const all = parts.flat();
    assert.is(all.length, matrix.length);
    assert.is(new Set(all).size, matrix.length);
    const sizes = parts.map((p) => p.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, String(sizes));
    for (const p of parts) assert.equal(p, matrix.filter((e) => p.includes(e)));
    const reversed = inShard([...matrix].reverse(), { index: 1, total: n }).map(entryName).sort();
    assert.equal(reversed, parts[0]!.map(entryName).sort());
  }
  // Fixed by the names alone: a known entry stays in its shard (machines agree).
  assert.equal(inShard(matrix, { index: 2, total: 3 }).map(entryName), inShard(matrix.map((e) => ({ ...e })), { index: 2, total: 3 }).map(entryName));
  assert.is(selectionDigest(matrix), selectionDigest([...matrix].reverse()));
  assert.is.not(selectionDigest(matrix), selectionDigest(matrix.slice(1)));
});

test('positional arguments are --case patterns', () => {
  assert.equal(withPositionals({ case: ['a/*'] }, ['hostdev/*']).case, ['a/*', 'hostdev/*']);
  assert.equal(withPositionals({} as { case?: string[] }, ['x']).case, ['x']);
  const v: { case?: string[]; mode: string[] } = { mode: ['xml2argv'] };
  assert.is(withPositionals(v, []), v);
});

const suiteOf = (statuses: Record<string, 'pass' | 'fail' | 'broken' | 'skip'>, stale: string[] = []): SuiteResult => ({
  adapter: 'builtin', ms: 5, stale,
  results: Object.entries(statuses).map(([name, status]) => ({ entry: matrix.find((e) => entryName(e) === name)!, name, status, ms: 1 })),
});

test('the last-run record: written atomically inside the project, read back, refused when foreign', () => {
  const root = tempDir('scale');
  assert.is(readLastRun(root), undefined);
  const names = matrix.slice(0, 4).map(entryName);
  const s = suiteOf({ [names[0]!]: 'pass', [names[1]!]: 'fail', [names[2]!]: 'broken', [names[3]!]: 'skip' }, ['/p/golden/x']);
  assert.is(writeLastRun(root, recordOf(s, new Date('2026-01-02T03:04:05Z'))), undefined);
  assert.equal(readdirSync(join(root, '.virtgold')), ['last-run.json']); // no temporary file left
  assert.equal(readLastRun(root), { version: 1, finished: '2026-01-02T03:04:05.000Z', translator: 'builtin', entries: 4, failed: [names[1]!, names[2]!], stale: 1 });
  writeFileSync(join(root, LAST_RUN), '{"version":2}');
  assert.throws(() => readLastRun(root), (e: Error) => e instanceof SetupError && /not a record this virtgold wrote; remove it/.test(e.message));
  writeFileSync(join(root, LAST_RUN), 'nope');
  assert.throws(() => readLastRun(root), /is not JSON/);
  // .virtgold a link out of the project: not followed, said in one line
  const other = tempDir('scale');
  const linked = tempDir('scale');
  symlinkSync(other, join(linked, '.virtgold'));
  assert.match(writeLastRun(linked, recordOf(s))!, /^cannot record the run in \.virtgold\/last-run\.json: /);
  assert.not.ok(existsSync(join(other, 'last-run.json')));
});

test('--only-failures: no record, nothing failed, the failed entries only, none left', () => {
  const root = tempDir('scale');
  const said: string[] = [];
  const say = (l: string) => said.push(l);
  assert.throws(() => focusOf(root, { onlyFailures: true }, say), (e: Error) => e instanceof SetupError && /no record of a last run \(\.virtgold\/last-run\.json\); run without it first/.test(e.message));
  const names = matrix.map(entryName);
  writeLastRun(root, recordOf(suiteOf({ [names[0]!]: 'pass' })));
  assert.match(focusOf(root, { onlyFailures: true }, say) as string, /nothing failed in the last run \(.*translator builtin: 1 entry\); nothing to re-run/);
  writeLastRun(root, recordOf(suiteOf({ [names[0]!]: 'pass', [names[1]!]: 'fail', [names[5]!]: 'broken' })));
  const f = focusOf(root, { onlyFailures: true }, say);
  assert.type(f, 'object');
  const focus = f as Exclude<typeof f, string>;
  assert.equal(focus.narrow!(matrix), [matrix[1]!, matrix[5]!]);
  assert.match(said.at(-1)!, /^re-running the 2 entries that failed in the last run/);
  assert.equal(focus.narrow!(matrix.slice(0, 3)), [matrix[1]!]);
  assert.match(said.at(-1)!, /re-running the 1 entry .*; 1 other is not selected or no longer exist/);
  assert.throws(() => focus.narrow!(matrix.slice(10)), /none of the 2 entries that failed in the last run .* is selected or still exists/);
  assert.is(focus.skipStale, false);
});

test('--shard in the focus: the part, stale goldens left to shard 1, the report member', () => {
  const said: string[] = [];
  const f1 = focusOf('/nowhere', { shard: '1/3' }, (l) => said.push(l)) as Exclude<ReturnType<typeof focusOf>, string>;
  const f2 = focusOf('/nowhere', { shard: '2/3' }, (l) => said.push(l)) as Exclude<ReturnType<typeof focusOf>, string>;
  assert.is(f1.skipStale, false);
  assert.is(f2.skipStale, true);
  const part = f2.narrow!(matrix);
  assert.equal(part, inShard(matrix, { index: 2, total: 3 }));
  assert.equal(f2.shardReport!(), { index: 2, total: 3, selected: matrix.length, digest: selectionDigest(matrix), entries: part.length });
  assert.match(said.at(-1)!, /^shard 2\/3: 40 entries of 120 \(stale goldens are reported by shard 1\)$/);
});

test('watch: what a changed file affects', () => {
  const root = '/p';
  const tr = '/v/translator';
  const e = entry('hostdev/vfio');
  const pick = (path: string) => affectedBy(root, path, tr);
  assert.is(pick('/v/translator/devices/hostdev.ts'), 'all');
  assert.is(pick('/v/translator/README'), undefined);
  const on = (path: string, x: MatrixEntry) => (pick(path) as (m: MatrixEntry) => boolean)(x);
  assert.ok(on('/p/cases/hostdev/vfio.xml', e));
  assert.not.ok(on('/p/cases/hostdev/vfio-multiple.xml', e));
  assert.ok(on('/p/cases/hostdev/vfio.json', e));
  assert.ok(on('/p/cases/hostdev/options.json', e));
  assert.not.ok(on('/p/cases/usb/options.json', e));
  assert.ok(on('/p/cases/options.json', e));
  assert.ok(on('/p/golden/xml2argv/hostdev/vfio.x86_64-7.2.0.args', e));
  assert.not.ok(on('/p/golden/xml2argv/hostdev/vfio.x86_64-8.1.0.args', e));
  assert.not.ok(on('/p/golden/xml2xml/hostdev/vfio.x86_64-7.2.0.err', e));
  assert.ok(on('/p/capabilities/caps_7.2.0_x86_64.xml', e));
  assert.ok(on('/p/host/caps_7.2.0_x86_64.json', e));
  assert.ok(on('/p/firmware/caps_7.2.0_x86_64/60-ovmf.json', e));
  assert.not.ok(on('/p/capabilities/caps_8.1.0_x86_64.xml', e));
  for (const ignored of ['/p/golden/xml2argv/hostdev/.vfio.x86_64-7.2.0.args.123.tmp', '/p/golden/.update.lock', '/p/README.md', '/p/.virtgold/last-run.json', '/elsewhere/cases/a.xml']) {
    assert.is(pick(ignored), undefined, ignored);
  }
});

const shardFile = (index: number, total: number, names: string[], extra: Partial<ShardFile> = {}): ShardFile => ({
  file: `s${index}.json`, translator: 'builtin', seconds: index, stale: index === 1 ? ['golden/xml2argv/old.x86_64-7.2.0.args'] : [],
  shard: { index, total, selected: 6, digest: 'd1', entries: names.length },
  results: names.map((n) => {
    const e = matrix.find((x) => entryName(x) === n)!;
    return { name: n, case: e.case.name, mode: e.mode, arch: e.snapshot.arch, version: e.snapshot.version, status: n.includes('c1 ') ? 'fail' : 'pass', ms: 2, ...(n.includes('c1 ') ? { message: 'diff', expected: 'a\n', actual: { kind: 'output', text: 'b\n' }, golden: `${e.relStem}.args` } : {}) };
  }),
  ...extra,
});

test('merge-reports: shards of one run become one suite, in matrix order; what does not belong is refused', () => {
  const names = matrix.slice(0, 6).map(entryName);
  const a = shardFile(1, 2, [names[4]!, names[0]!, names[2]!]);
  const b = shardFile(2, 2, [names[1]!, names[3]!, names[5]!]);
  const m = mergeShards([b, a]);
  assert.equal(m.suite.results.map((r) => r.name), [...names].sort((x, y) => {
    const k = (n: string) => { const e = matrix.find((q) => entryName(q) === n)!; return [e.case.name, e.snapshot.version, e.mode].join(' '); };
    return k(x) < k(y) ? -1 : 1;
  }));
  assert.equal(m.missing, []);
  assert.is(m.suite.ms, 2000);
  assert.equal(m.suite.stale, ['golden/xml2argv/old.x86_64-7.2.0.args']);
  const failed = m.suite.results.find((r) => r.status === 'fail')!;
  assert.equal([failed.expected, failed.outcome, failed.goldenPath], ['a\n', { kind: 'output', text: 'b\n' }, 'golden/xml2argv/area/c1.x86_64-7.2.0.args']);
  const partial = mergeShards([a]);
  assert.equal([partial.missing, partial.missingEntries], [[2], 3]);
  const refused = (shards: ShardFile[], re: RegExp) => assert.throws(() => mergeShards(shards), (e: Error) => e instanceof SetupError && re.test(e.message));
  refused([a, shardFile(2, 2, [names[1]!], { translator: 'other' })], /not shards of one run: s1\.json is shard 1\/2 of 6 entries \(selection d1, translator builtin\), but s2\.json is shard 2\/2 .*translator other/);
  refused([a, { ...b, shard: { ...b.shard, digest: 'd2' } }], /not shards of one run/);
  refused([a, shardFile(2, 3, [names[1]!])], /not shards of one run/);
  refused([a, { ...a, file: 'copy.json' }], /s1\.json and copy\.json are both shard 1\/2/);
  refused([a, shardFile(2, 2, [names[0]!])], /is in both s1\.json and s2\.json; shards hold disjoint entries/);
  assert.throws(() => mergeShards([]), (e: Error) => e instanceof UsageError);
});

test('merge-reports reads only shard reports, whole', () => {
  const bad = (text: string, re: RegExp) => assert.throws(() => readShard('x.json', text), (e: Error) => e instanceof SetupError && re.test(e.message));
  bad('nope', /x\.json: not JSON/);
  bad('{"results":[]}', /not a JSON report of virtgold run/);
  bad('{"translator":"b","results":[],"stale":[]}', /not the report of a shard \(run --shard K\/N --reporter json:FILE\)/);
  bad('{"translator":"b","results":[],"stale":[],"shard":{"index":1,"total":2,"selected":4,"digest":"x","entries":2}}', /holds 0 of the 2 entries of shard 1\/2; it is cut short/);
  assert.throws(() => readShard('/nonexistent/x.json'), /cannot read it \(ENOENT\)/);
});

test('ddmin: a 1-minimal subset that keeps the property', async () => {
  const items = Array.from({ length: 30 }, (_, i) => i);
  let tests = 0;
  const got = await ddmin(items, async (kept) => { tests++; return kept.includes(7) && kept.includes(21); });
  assert.equal(got, [7, 21]);
  assert.ok(tests < 100, String(tests));
  assert.equal(await ddmin(items, async () => true), []);
  assert.equal(await ddmin([1], async (k) => k.length === 1), [1]);
});

test('reduce works on a tree of the domain: well-formed candidates, text and order kept', () => {
  const xml = `<?xml version='1.0' encoding='UTF-8'?>\n<!-- c -->\n<domain type='kvm'>\n  <name>a &amp; b</name>\n  <devices>\n    <disk type="file" note="it's">\n      <source file='/x'/>\n    </disk>\n    <hostdev mode='subsystem'/>\n  </devices>\n</domain>\n`;
  const t = parseTree(xml);
  const none = { elements: new Set<number>(), attrs: new Set<`${number}@${string}`>() };
  assert.is(serialize(t, none), `<?xml version='1.0' encoding='UTF-8'?>\n<domain type='kvm'>\n  <name>a &amp; b</name>\n  <devices>\n    <disk type='file' note="it's">\n      <source file='/x'/>\n    </disk>\n    <hostdev mode='subsystem'/>\n  </devices>\n</domain>\n`);
  const disk = t.elements.find((e) => e.name === 'disk')!;
  const hostdev = t.elements.find((e) => e.name === 'hostdev')!;
  assert.is(serialize(t, { elements: new Set([disk.id]), attrs: new Set([`${hostdev.id}@mode` as const]) }), `<?xml version='1.0' encoding='UTF-8'?>\n<domain type='kvm'>\n  <name>a &amp; b</name>\n  <devices>\n    <hostdev/>\n  </devices>\n</domain>\n`);
  assert.throws(() => parseTree('<domain><name></domain>'), /not well-formed XML at line 1/);
});

test('reduce keeps the kind of disagreement', () => {
  const out = { kind: 'output', text: 'x' } as const;
  const err = (text: string) => ({ kind: 'error', text }) as const;
  assert.is(disagreement('differs', out, out), 'differs: translator output | reference output');
  assert.is(disagreement('differs', err('XML error: a\n'), out), 'differs: translator error XML error: a | reference output');
  assert.is(disagreement('message', err('a'), err('b')), 'message: translator error a | reference error b');
  assert.is(disagreement('broken', { kind: 'crash', message: 'x' }, out), 'broken: translator');
  for (const c of ['same', 'refused', 'skipped'] as const) assert.is(disagreement(c, out, out), undefined);
});

test('reduce: ddmin over elements then attributes, the kind kept, namespace declarations kept, a new case never over a file', async () => {
  // The translator is wrong on a hostdev with bad='1'; both sides refuse a domain without <name> alike.
  const side = (name: string, wrong: boolean): Adapter => ({
    name,
    translate: async (_e, xml) => (!xml.includes('<name>') ? { kind: 'error', text: 'XML error: no name\n' }
      : wrong && /<hostdev[^>]*bad='1'/.test(xml) ? { kind: 'output', text: 'wrong\n' } : { kind: 'output', text: 'right\n' }),
  });
  const xml = `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>d</name><memory unit='KiB'>1024</memory>
  <devices><disk type='file'><source file='/a'/></disk><hostdev mode='subsystem' bad='1'><source><address bus='1'/></source></hostdev><hostdev bad='0'/></devices>
  <qemu:commandline><qemu:arg value='-x'/></qemu:commandline>
</domain>`;
  const snapshot = { arch: 'x86_64', version: '7.2.0', path: '/nowhere/caps.xml' };
  const r = await reduce({ xml, snapshot, arch: 'x86_64', modes: ['xml2argv'], translator: side('t', true), reference: side('r', false) });
  assert.is(r.xml, `<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n  <name>d</name>\n  <devices>\n    <hostdev bad='1'/>\n  </devices>\n</domain>\n`);
  assert.is(r.kind, 'differs: translator output | reference output');
  assert.equal([r.before, r.after], [{ elements: 12, attributes: 10 }, { elements: 4, attributes: 2 }]);
  assert.match(r.diff!, /^-right\n\+wrong$/m);
  const agree = await reduce({ xml, snapshot, arch: 'x86_64', modes: ['xml2argv', 'xml2xml'], translator: side('t', false), reference: side('r', false) }).catch((e: Error) => e);
  assert.ok(agree instanceof UserError);
  assert.match((agree as Error).message, /^the two sides do not disagree on this domain \(xml2argv: translator output; reference output; xml2xml: .*\); nothing to reduce$/);
  const capped = await reduce({ xml, snapshot, arch: 'x86_64', modes: ['xml2argv'], translator: side('t', true), reference: side('r', false), maxTests: 3 });
  assert.ok(capped.cutShort);
  // --out: a new case, atomically, never over a file
  const root = tempDir('scale');
  const target = caseTarget('cases/reduced/x.xml', root, root);
  writeNewCase(root, target, r.xml);
  assert.is(readFileSync(join(root, 'cases/reduced/x.xml'), 'utf8'), r.xml);
  assert.throws(() => writeNewCase(root, target, 'other'), (e: Error) => e instanceof SetupError && e.message === 'cases/reduced/x.xml already exists; reduce writes only new cases');
  assert.is(readFileSync(join(root, 'cases/reduced/x.xml'), 'utf8'), r.xml);
  assert.equal(readdirSync(join(root, 'cases/reduced')), ['x.xml']);
  for (const bad of ['x.xml', 'cases/x.xml', 'cases/a/b.txt', 'cases/a/options.xml', 'cases/a b/c.xml', '../cases/a/b.xml']) {
    assert.throws(() => caseTarget(bad, root, root), (e: Error) => e instanceof UsageError, bad);
  }
});

test('reduce keeps what makes a case deterministic: the domain\'s <name> and <uuid>, an interface\'s <mac address>', async () => {
  const side = (name: string, wrong: boolean): Adapter => ({
    name,
    translate: async (_e, xml) => ({ kind: 'output', text: wrong && /<interface[^>]*bad='1'/.test(xml) ? 'wrong\n' : 'right\n' }),
  });
  const xml = `<domain type='kvm'>
  <name>d</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid><memory unit='KiB'>1024</memory>
  <devices><disk type='file'><source file='/a'/></disk><interface type='user' bad='1'><mac address='52:54:00:11:22:33'/><model type='virtio'/></interface></devices>
</domain>`;
  const snapshot = { arch: 'x86_64', version: '7.2.0', path: '/nowhere/caps.xml' };
  const r = await reduce({ xml, snapshot, arch: 'x86_64', modes: ['xml2argv'], translator: side('t', true), reference: side('r', false) });
  assert.is(r.xml, `<domain>\n  <name>d</name>\n  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>\n  <devices>\n    <interface bad='1'>\n      <mac address='52:54:00:11:22:33'/>\n    </interface>\n  </devices>\n</domain>\n`);
});

test('coverage: the grammar walked from <start> through includes, overrides and combines, by area', () => {
  const dir = tempDir('scale');
  const rng = (body: string) => `<?xml version="1.0"?>\n<grammar xmlns="http://relaxng.org/ns/structure/1.0">${body}</grammar>`;
  writeFileSync(join(dir, 'domain.rng'), rng(`<start><ref name="domain"/></start>
    <include href="common.rng"><define name="overridden"><element name="kept"><empty/></element></define></include>
    <define name="devs" combine="choice"><element name="hostdev"><attribute name="mode"/><ref name="address"/></element></define>`));
  writeFileSync(join(dir, 'common.rng'), rng(`
    <define name="domain"><element name="domain"><attribute name="type"/><interleave>
      <element name="name"><text/></element>
      <optional><element name="os"><element name="type"><attribute name="arch"/><text/></element><optional><element><choice><name>loader</name><name>nvram</name></choice><empty/></element></optional></element></optional>
      <ref name="overridden"/>
      <element name="devices"><zeroOrMore><ref name="devs"/></zeroOrMore><optional><element name="emulator"><text/></element></optional></element>
    </interleave></element></define>
    <define name="overridden"><element name="dropped"><empty/></element></define>
    <define name="devs"><element name="disk"><attribute name="type"/><ref name="address"/><optional><element><anyName/><text/></element></optional></element></define>
    <define name="address"><optional><element name="address"><attribute name="bus"/><optional><ref name="address"/></optional></element></optional></define>`));
  const schema = schemaAreas(loadGrammar(join(dir, 'domain.rng')));
  const plain = (a: typeof schema) => Object.fromEntries([...a].map(([k, v]) => [k, { elements: [...v.elements].sort(), attributes: [...v.attributes].sort() }]));
  assert.equal(plain(schema), {
    domain: { elements: ['domain', 'kept', 'name'], attributes: ['domain@type'] },
    os: { elements: ['loader', 'nvram', 'os', 'type'], attributes: ['type@arch'] },
    devices: { elements: ['devices', 'emulator'], attributes: [] },
    'devices/disk': { elements: ['address', 'disk'], attributes: ['address@bus', 'disk@type'] },
    'devices/hostdev': { elements: ['address', 'hostdev'], attributes: ['address@bus', 'hostdev@mode'] },
  });
  const corpus = documentAreas(`<domain type='kvm' xmlns:qemu='x'><name>a</name><os><type arch='x86_64'>hvm</type></os><devices><emulator>/q</emulator><disk type='file' extra='1'/><hostdev mode='subsystem'><address bus='1'/></hostdev></devices></domain>`, schema);
  const rows = coverageOf(schema, corpus);
  assert.equal(rows.map((r) => r.area), ['domain', 'devices', 'devices/disk', 'devices/hostdev', 'os']);
  const disk = rows.find((r) => r.area === 'devices/disk')!;
  assert.equal(disk.elements, { total: 2, covered: ['disk'], uncovered: ['address'] });
  assert.equal(disk.attributes, { total: 2, covered: ['disk@type'], uncovered: ['address@bus'] });
  assert.equal(rows.find((r) => r.area === 'os')!.elements.uncovered, ['loader', 'nvram']);
  assert.equal(rows.find((r) => r.area === 'domain')!.elements.uncovered, ['kept']);
  assert.throws(() => loadGrammar(join(dir, 'missing.rng')), (e: Error) => e instanceof SetupError && /cannot read the schema file .*missing\.rng: ENOENT/.test(e.message));
});

test.run();
