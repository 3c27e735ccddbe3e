// Re-run and focus, CI at scale, reduce and coverage as a user runs them: positional
// filters, --only-failures, --shard and merge-reports, reduce on a translator that is wrong
// in one attribute of one device kind, coverage against libvirt's installed schema.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { XMLValidator } from 'fast-xml-parser';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/virtgold.js');
const vg = (cwd: string, ...args: string[]) => execa('node', [bin, ...args], { reject: false, cwd, stripFinalNewline: false });
const schemaInstalled = existsSync('/usr/share/libvirt/schemas/domain.rng');

/** A project of a few cases on two x86_64 snapshots: 3 cases × 2 snapshots × 2 modes. */
function project(): string {
  const dir = tempDir('scale-cli');
  for (const d of ['capabilities', 'host', 'firmware']) mkdirSync(join(dir, d));
  for (const s of ['caps_7.2.0_x86_64', 'caps_8.1.0_x86_64']) {
    cpSync(join(repo, 'capabilities', `${s}.xml`), join(dir, 'capabilities', `${s}.xml`));
    if (existsSync(join(repo, 'host', `${s}.json`))) cpSync(join(repo, 'host', `${s}.json`), join(dir, 'host', `${s}.json`));
    if (existsSync(join(repo, 'firmware', s))) cpSync(join(repo, 'firmware', s), join(dir, 'firmware', s), { recursive: true });
  }
  for (const c of ['domain/minimal', 'domain/general', 'hostdev/vfio']) {
    mkdirSync(join(dir, 'cases', c, '..'), { recursive: true });
    cpSync(join(repo, 'cases', `${c}.xml`), join(dir, 'cases', `${c}.xml`));
    for (const m of ['xml2argv', 'xml2xml']) {
      for (const v of ['7.2.0', '8.1.0']) {
        for (const ext of ['args', 'xml', 'err']) {
          const rel = join('golden', m, `${c}.x86_64-${v}.${ext}`);
          if (existsSync(join(repo, rel))) cpSync(join(repo, rel), join(dir, rel));
        }
      }
    }
  }
  return dir;
}

test('positional arguments filter like --case, for run, update and review', async () => {
  const dir = project();
  const pos = await vg(dir, 'run', 'hostdev/*', 'minimal');
  const opt = await vg(dir, 'run', '--case', 'hostdev/*', '--case', 'minimal');
  assert.is(pos.exitCode, 0, pos.stderr);
  assert.match(pos.stdout, /8 entries in/);
  assert.match(opt.stdout, /8 entries in/);
  const update = await vg(dir, 'update', '--check', 'vfio');
  assert.is(update.exitCode, 0, update.stderr);
  assert.match(update.stdout, /4 unchanged/);
  const none = await vg(dir, 'run', 'nothing/*');
  assert.is(none.exitCode, 2);
  assert.match(none.stderr, /--case 'nothing\/\*' matches no case/);
  const review = await vg(dir, 'review', 'vfio');
  assert.is(review.exitCode, 0, review.stderr);
});

test('--only-failures: no record, the failed entries again, nothing failed', async () => {
  const dir = project();
  const none = await vg(dir, 'run', '--only-failures');
  assert.is(none.exitCode, 2);
  assert.is(none.stderr, 'virtgold: --only-failures: no record of a last run (.virtgold/last-run.json); run without it first\n');
  const golden = join(dir, 'golden/xml2argv/domain/general.x86_64-8.1.0.args');
  const text = readFileSync(golden, 'utf8');
  writeFileSync(golden, text.replace('-msg timestamp=on', '-msg timestamp=off'));
  const first = await vg(dir, 'run');
  assert.is(first.exitCode, 1);
  assert.match(first.stdout, /12 entries in/);
  const record = JSON.parse(readFileSync(join(dir, '.virtgold/last-run.json'), 'utf8'));
  assert.equal(record.failed, ['xml2argv domain/general x86_64-8.1.0']);
  const again = await vg(dir, 'run', '--only-failures');
  assert.is(again.exitCode, 1);
  assert.match(again.stderr, /^re-running the 1 entry that failed in the last run \(.* UTC, translator builtin\)\n/);
  assert.match(again.stdout, /FAIL xml2argv domain\/general x86_64-8\.1\.0\n[\s\S]*1 entries in|1 entry in/);
  writeFileSync(golden, text);
  const fixed = await vg(dir, 'run', '--only-failures');
  assert.is(fixed.exitCode, 0, fixed.stdout);
  const nothing = await vg(dir, 'run', '--only-failures');
  assert.is(nothing.exitCode, 0);
  assert.match(nothing.stdout, /^--only-failures: nothing failed in the last run \(.*: 1 entry\); nothing to re-run\n$/);
  // the record is the project's: found from inside it, git-ignored in virtgold's own tree
  const inside = await vg(join(dir, 'cases'), 'run', '--only-failures');
  assert.match(inside.stdout, /nothing failed/);
});

test('--shard K/N: disjoint parts covering the selection, stale goldens once; merge-reports makes one report', async () => {
  const dir = project();
  writeFileSync(join(dir, 'golden/xml2argv/domain/gone.x86_64-7.2.0.args'), 'x\n');
  const reports = [1, 2, 3].map((k) => join(dir, `shard-${k}.json`));
  const runs = await Promise.all([1, 2, 3].map((k) => vg(dir, 'run', '--shard', `${k}/3`, '--reporter', `json:${reports[k - 1]}`, '--reporter', 'pretty')));
  const parts = reports.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const names = parts.flatMap((p) => p.results.map((r: { name: string }) => r.name));
  assert.is(names.length, 12);
  assert.is(new Set(names).size, 12);
  for (const p of parts) assert.ok(p.results.length === 4, JSON.stringify(p.shard));
  assert.equal(parts.map((p) => p.stale.length), [1, 0, 0]);
  assert.equal(runs.map((r) => r.exitCode), [1, 0, 0]);
  assert.match(runs[1]!.stderr, /^shard 2\/3: 4 entries of 12 \(stale goldens are reported by shard 1\)\n/);
  // the same split on a second run (machines and runs agree)
  const again = await vg(dir, 'run', '--shard', '2/3', '--reporter', 'json');
  assert.equal(JSON.parse(again.stdout).results.map((r: { name: string }) => r.name), parts[1].results.map((r: { name: string }) => r.name));

  const out = (f: string) => join(dir, 'merged', f);
  const merged = await vg(dir, 'merge-reports', ...reports, '--reporter', `junit:${out('r.xml')}`, '--reporter', `html:${out('r.html')}`, '--reporter', `json:${out('r.json')}`);
  assert.is(merged.exitCode, 1, merged.stderr); // the stale golden fails the whole run
  assert.match(merged.stderr, /^merged 3 shards: 12 entries, 12 passed, 0 failed, 0 skipped; 1 stale golden\n$/);
  const junit = readFileSync(out('r.xml'), 'utf8');
  assert.is(XMLValidator.validate(junit), true);
  assert.match(junit, /tests="13" failures="1"/);
  assert.match(readFileSync(out('r.html'), 'utf8'), /golden\/xml2argv\/domain\/gone\.x86_64-7\.2\.0\.args/);
  const json = JSON.parse(readFileSync(out('r.json'), 'utf8'));
  assert.is(json.results.length, 12);
  assert.equal(json.merged, { shards: 3, of: 3, missing: [] });

  const partial = await vg(dir, 'merge-reports', reports[0]!, reports[2]!, '--reporter', `json:${out('p.json')}`);
  assert.is(partial.exitCode, 2);
  assert.match(partial.stderr, /incomplete: no report of shard 2 of 3 \(4 entries missing\); the report holds the 8 entries of the others/);
  assert.is(JSON.parse(readFileSync(out('p.json'), 'utf8')).results.length, 8);

  const other = await vg(dir, 'run', '--shard', '2/3', '--case', 'domain/*', '--reporter', `json:${join(dir, 'other.json')}`);
  assert.is(other.exitCode, 0);
  const mixed = await vg(dir, 'merge-reports', reports[0]!, join(dir, 'other.json'));
  assert.is(mixed.exitCode, 2);
  assert.match(mixed.stderr, /the reports are not shards of one run: .*shard-1\.json is shard 1\/3 of 12 entries .* but .*other\.json is shard 2\/3 of 8 entries/);
  const plain = await vg(dir, 'run', '--reporter', `json:${join(dir, 'plain.json')}`);
  assert.is(plain.exitCode, 1);
  const notShard = await vg(dir, 'merge-reports', join(dir, 'plain.json'));
  assert.is(notShard.exitCode, 2);
  assert.match(notShard.stderr, /plain\.json: not the report of a shard/);
  const usage = await vg(dir, 'merge-reports');
  assert.is(usage.exitCode, 2);
  const badShard = await vg(dir, 'run', '--shard', '4/3');
  assert.is(badShard.exitCode, 2);
  assert.match(badShard.stderr, /--shard takes K\/N with 1 <= K <= N/);
});

/** A domain with many devices and one vfio hostdev (virt-install's q35 guest plus one). */
function richDomain(dir: string): string {
  const src = readFileSync(join(repo, 'cases/virt-install/debian11-q35-spice.xml'), 'utf8');
  const hostdev = `    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <driver name='vfio'/>\n      <source>\n        <address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/>\n      </source>\n    </hostdev>\n  </devices>`;
  const path = join(dir, 'rich.xml');
  writeFileSync(path, src.replace('  </devices>', hostdev));
  return path;
}

const mangler = `node ${join(repo, 'test/fixtures/mangle-worker.mjs')}`;

test('reduce: a translator wrong in one attribute of one device kind; the reduced domain holds that device and little else', async () => {
  const dir = project();
  const rich = richDomain(dir);
  const caps = join(dir, 'capabilities/caps_8.1.0_x86_64.xml');
  const r = await vg(dir, 'reduce', '--translator-worker', mangler, '--reference', 'builtin', '--caps', caps, rich, '--out', 'cases/reduced/vfio-pcx.xml');
  assert.is(r.exitCode, 0, r.stderr);
  assert.is(r.stdout, '');
  const reduced = readFileSync(join(dir, 'cases/reduced/vfio-pcx.xml'), 'utf8');
  assert.is(XMLValidator.validate(reduced), true);
  assert.match(reduced, /<hostdev[^>]*>[\s\S]*<driver name='vfio'\/>/);
  const elements = reduced.match(/<[a-z]/g)!.length;
  assert.ok(elements <= 12, reduced);
  for (const gone of ['<disk', '<interface', '<graphics', '<video', '<controller', '<channel', '<rng', '<sound']) assert.not.ok(reduced.includes(gone), `${gone} left in\n${reduced}`);
  assert.match(r.stderr, /^reduced .*rich\.xml \(xml2argv\) from \d+ elements, \d+ attributes to \d+ elements, \d+ attributes in \d+ tests\ndisagreement kept: differs: translator output \| reference output\n/);
  assert.match(r.stderr, /^\+-device '\{"driver":"vfio-pcx"/m);
  assert.match(r.stderr, /wrote cases\/reduced\/vfio-pcx\.xml \(virtgold update --case reduced\/vfio-pcx writes its goldens\)/);
  // the reduced domain still disagrees, the same way (reduce finds nothing more to remove)
  const twice = await vg(dir, 'reduce', '--translator-worker', mangler, '--caps', caps, join(dir, 'cases/reduced/vfio-pcx.xml'));
  assert.is(twice.exitCode, 0, twice.stderr);
  assert.is(twice.stdout, reduced);
  // never over a file
  const again = await vg(dir, 'reduce', '--translator-worker', mangler, '--caps', caps, rich, '--out', 'cases/reduced/vfio-pcx.xml');
  assert.is(again.exitCode, 2);
  assert.is(again.stderr, 'virtgold: cases/reduced/vfio-pcx.xml already exists; reduce writes only new cases\n');
  assert.is(readFileSync(join(dir, 'cases/reduced/vfio-pcx.xml'), 'utf8'), reduced);
});

test('reduce --reference golden: a case that fails against its golden, the reference translator standing in for it', async () => {
  const dir = project();
  const caps = join(dir, 'capabilities/caps_8.1.0_x86_64.xml');
  const r = await vg(dir, 'reduce', '--translator-worker', mangler, '--reference', 'golden', '--caps', caps, 'cases/hostdev/vfio.xml');
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /<hostdev[^>]*>/);
  assert.match(r.stderr, /disagreement kept: differs: translator output \| reference output/);
  const golden = join(dir, 'golden/xml2argv/hostdev/vfio.x86_64-8.1.0.args');
  writeFileSync(golden, readFileSync(golden, 'utf8').replace('-msg timestamp=on', '-msg timestamp=off'));
  const stale = await vg(dir, 'reduce', '--translator-worker', mangler, '--reference', 'golden', '--caps', caps, 'cases/hostdev/vfio.xml');
  assert.is(stale.exitCode, 2);
  assert.is(stale.stderr, 'virtgold: --reference golden: golden/xml2argv/hostdev/vfio.x86_64-8.1.0.args is not what the reference translator now gives for cases/hostdev/vfio.xml (virtgold update --check lists it); reduce needs a translator that stands for the golden on smaller domains\n');
  const outside = await vg(dir, 'reduce', '--reference', 'golden', '--caps', caps, richDomain(dir));
  assert.is(outside.exitCode, 2);
  assert.match(outside.stderr, /--reference golden: the domain must be a case of the project/);
  cpSync(join(dir, 'cases/hostdev/vfio.xml'), join(dir, 'cases/hostdev/new.xml'));
  const none = await vg(dir, 'reduce', '--reference', 'golden', '--caps', caps, '--mode', 'xml2xml', 'cases/hostdev/new.xml');
  assert.is(none.exitCode, 2);
  assert.is(none.stderr, 'virtgold: --reference golden: cases/hostdev/new.xml has no golden on x86_64 8.1.0 in xml2xml\n');
});

test('reduce keeps the kind: an error that one side gives stays that error; agreeing sides, bad usage', async () => {
  const dir = project();
  const caps = join(dir, 'capabilities/caps_7.2.0_x86_64.xml');
  const rich = richDomain(dir);
  const agree = await vg(dir, 'reduce', '--caps', caps, rich);
  assert.is(agree.exitCode, 1);
  assert.match(agree.stderr, /^virtgold: the two sides do not disagree on this domain \(xml2argv: translator output; reference output; xml2xml: translator output; reference output\); nothing to reduce\n$/);
  const vf = join(dir, 'vf.xml');
  writeFileSync(vf, readFileSync(rich, 'utf8').replace("function='0x5'/>", "function='0x5'><vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/></address>"));
  // the translator under test ignores --caps (uses 8.1.0): it accepts vf-token, the reference refuses it
  const err = await vg(dir, 'reduce', '--translator-worker', `${mangler} caps=${join(dir, 'capabilities/caps_8.1.0_x86_64.xml')}`, '--mode', 'xml2argv', '--caps', caps, vf);
  assert.is(err.exitCode, 0, err.stderr);
  assert.match(err.stderr, /disagreement kept: differs: translator output \| reference error unsupported configuration: .*vf-token/);
  assert.match(err.stdout, /<vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'\/>/);
  for (const [args, re] of [[['reduce', rich], /--caps FILE is required/], [['reduce', '--caps', caps], /name one domain file/],
    [['reduce', '--caps', caps, rich, '--out', 'elsewhere/x.xml'], /--out must name a new case, cases\/AREA\/NAME\.xml/],
    [['reduce', '--caps', caps, rich, '--mode', 'xml2bogus'], /--mode must be one of/]] as const) {
    const u = await vg(dir, ...args);
    assert.is(u.exitCode, 2, `${args.join(' ')}: ${u.stderr}`);
    assert.match(u.stderr, re);
  }
  writeFileSync(join(dir, 'broken.xml'), '<domain><name>x</domain>\n');
  const broken = await vg(dir, 'reduce', '--caps', caps, join(dir, 'broken.xml'));
  assert.is(broken.exitCode, 2);
  assert.match(broken.stderr, /^virtgold: reduce: .*broken\.xml is not well-formed XML \(line 1: .*\); reduce works on elements and attributes\n$/);
  const missing = await vg(dir, 'reduce', '--caps', caps, join(dir, 'nope.xml'));
  assert.is(missing.exitCode, 2);
  assert.match(missing.stderr, /cannot read .*nope\.xml: ENOENT/);
});

test('coverage: the table by area, the uncovered listed, json, an area filter, no schema', async () => {
  const dir = project();
  if (schemaInstalled) {
    mkdirSync(join(dir, 'cases/xml'));
    writeFileSync(join(dir, 'cases/xml/mismatch.xml'), "<domain type='kvm'><name>x</nam></domain>\n");
    const r = await vg(dir, 'coverage');
    assert.is(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^4 case inputs against libvirt's domain schema \(.*\); 1 not well-formed, left out\n/);
    assert.match(r.stdout, /\ndevices\/hostdev +\d+\/\d+ +\d+% +\d+\/\d+ +\d+%\n/);
    assert.match(r.stdout, /\ntotal +\d+\/\d+/);
    assert.match(r.stdout, /\nuncovered:\n[\s\S]*  devices\/lease: <key> <lease> /);
    const file = join(dir, 'cov.json');
    const j = await vg(dir, 'coverage', '--reporter', `json:${file}`, 'devices/hostdev');
    assert.is(j.exitCode, 0, j.stderr);
    assert.is(j.stdout, '');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(json.areas.map((a: { area: string }) => a.area), ['devices/hostdev']);
    const hostdev = json.areas[0];
    for (const k of ['hostdev', 'driver', 'source', 'address']) assert.ok(hostdev.elements.covered.includes(k), k);
    assert.ok(hostdev.attributes.covered.includes('hostdev@managed'));
    assert.ok(hostdev.elements.uncovered.includes('rom'));
    // a case that adds <rom> covers it
    appendFileSync(join(dir, 'cases/hostdev/vfio.xml'), '');
    writeFileSync(join(dir, 'cases/hostdev/vfio.xml'), readFileSync(join(dir, 'cases/hostdev/vfio.xml'), 'utf8').replace("<driver name='vfio'/>", "<driver name='vfio'/><rom bar='off'/>"));
    const after = JSON.parse((await vg(dir, 'coverage', '--reporter', 'json', 'devices/hostdev')).stdout);
    assert.ok(after.areas[0].elements.covered.includes('rom'));
    assert.ok(after.areas[0].attributes.covered.includes('rom@bar'));
    const bad = await vg(dir, 'coverage', 'devices/nothing');
    assert.is(bad.exitCode, 2);
    assert.match(bad.stderr, /no area matches devices\/nothing \(areas: domain, /);
  }
  const none = await execa('node', [bin, 'coverage'], { reject: false, cwd: dir, env: { VIRTGOLD_LIBVIRT_SCHEMAS: join(dir, 'no-schema') }, stripFinalNewline: false });
  assert.is(none.exitCode, 2);
  assert.match(none.stderr, /^virtgold: coverage: libvirt's RELAX NG schema is not installed: .*no-schema\/domain\.rng is missing/);
  const badReporter = await vg(dir, 'coverage', '--reporter', 'junit');
  assert.is(badReporter.exitCode, 2);
});

test.run();
