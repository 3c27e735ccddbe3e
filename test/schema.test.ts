// libvirt 9.0.0's RELAX NG schema plus virtgold's vf-token overlay: the forms the overlay
// accepts and refuses, held next to the translator's own refusals; the schemaInvalid
// marking (the corpus itself: schema-corpus.test.ts); `run --schema` and update's
// warning in-process. Skipped, with the reason printed, where the schema is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinAdapter } from '../harness/adapters.js';
import { discoverCases } from '../harness/cases.js';
import { SetupError } from '../harness/errors.js';
import { readCaps } from '../harness/io.js';
import { counts, runSuite } from '../harness/runner.js';
import { checkCorpus, DEBIAN_SCHEMAS, libvirtSchemaDir, loadSchema, OVERLAY, schemaCheck, schemaUnavailable, type Schema } from '../harness/schema.js';
import type { Adapter } from '../harness/types.js';
import { formatUpdateReport, plan, updateGoldens } from '../harness/update.js';
import { isTranslationError, translate } from '../translator/index.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
// tempDir's folders are removed when the test process ends, however it ends.
const temp = () => tempDir('schema');

const read = (rel: string) => readFileSync(join(repo, rel), 'utf8');
const TOKEN = '00112233-4455-6677-8899-aabbccddeeff';
const CAPS_WITH_TOKEN = join(repo, 'capabilities/caps_8.1.0_x86_64.xml');

test('the overlay is virtgold\'s own: it includes libvirt\'s installed schema and copies none of it', () => {
  assert.equal(readdirSync(join(repo, 'schema')), ['domain.rng']);
  const overlay = readFileSync(OVERLAY, 'utf8');
  assert.match(overlay, `<include href="${DEBIAN_SCHEMAS}/domain.rng"/>`);
  // Only its own two defines: libvirt's pciaddress is extended, not restated.
  assert.equal([...overlay.matchAll(/<define name="([^"]+)"/g)].map((m) => m[1]), ['pciaddress', 'virtgoldVfToken']);
  assert.match(overlay, /<define name="pciaddress" combine="interleave">/);
});

test('a missing schema is refused with its reason, and VIRTGOLD_LIBVIRT_SCHEMAS names another place', async () => {
  const nowhere = join(temp(), 'none');
  assert.match(schemaUnavailable(nowhere)!, /libvirt's RELAX NG schema is not installed: .*none\/domain\.rng is missing \(Debian: apt-get install libvirt-clients/);
  const e = await loadSchema(nowhere).catch((x: unknown) => x);
  assert.ok(e instanceof SetupError && /not installed/.test(e.message));
  assert.is(libvirtSchemaDir({ VIRTGOLD_LIBVIRT_SCHEMAS: '/opt/s' }), '/opt/s');
  assert.is(libvirtSchemaDir({}), DEBIAN_SCHEMAS);
});

const why = schemaUnavailable();
if (why) {
  console.log(`SKIP schema tests: ${why}`);
  test.skip('the overlay and the corpus against libvirt\'s schema', () => {});
} else {
  const schema: Schema = await loadSchema();

  /** cases/vf-token/hostdev.xml with its token element replaced. */
  const hostdevWith = (token: string) => read('cases/vf-token/hostdev.xml').replace(/<vf-token[^>]*\/>/, token);
  const translatorSays = (xml: string) => {
    try {
      translate('xml2xml', xml, readCaps(CAPS_WITH_TOKEN));
      return 'accepts';
    } catch (e) {
      if (!isTranslationError(e)) throw e;
      return e.message;
    }
  };

  test('libvirt\'s schema alone accepts general.xml and rejects every vf-token golden; with the overlay both validate', async () => {
    const x = await import('libxml2-wasm');
    // loadSchema has handed libxml2 libvirt's files, so its includes resolve.
    const rng = x.XmlDocument.fromString(readFileSync(join(DEBIAN_SCHEMAS, 'domain.rng'), 'utf8'), { url: join(DEBIAN_SCHEMAS, 'domain.rng') });
    const plain = x.RelaxNGValidator.fromDoc(rng);
    rng.dispose();
    const plainValid = (xml: string) => {
      const doc = x.XmlDocument.fromString(xml);
      try {
        plain.validate(doc);
        return true;
      } catch {
        return false;
      } finally {
        doc.dispose();
      }
    };
    try {
      const general = read('golden/xml2xml/domain/general.x86_64-7.2.0.xml');
      assert.ok(plainValid(general));
      assert.is(schema.validate(general), undefined);
      const tokens = readdirSync(join(repo, 'golden/xml2xml/vf-token')).filter((f) => f.endsWith('.xml'));
      assert.ok(tokens.length >= 5);
      for (const f of tokens) {
        const xml = read(`golden/xml2xml/vf-token/${f}`);
        assert.ok(xml.includes('<vf-token'), f);
        assert.not.ok(plainValid(xml), `libvirt's schema alone accepts ${f}`);
        assert.is(schema.validate(xml), undefined, f);
      }
    } finally {
      plain.dispose();
    }
  });

  const BLAMES_TOKEN = /^<vf-token[ >].* at line \d+ \(\/domain\/devices\/hostdev\/source\/address\/vf-token(\[2\])?\)/;
  // Each form: what the overlay says, and what the translator says on the same domain.
  // The two agree except where a schema cannot see the rule or libvirt's parser ignores
  // what its schema refuses; those rows say so.
  const FORMS: { name: string; xml: string; schema: 'valid' | RegExp; translator: RegExp | 'accepts' }[] = [
    { name: 'hostdev token', xml: hostdevWith(`<vf-token uuid='${TOKEN}'/>`), schema: 'valid', translator: 'accepts' },
    { name: 'upper case', xml: hostdevWith(`<vf-token uuid='${TOKEN.toUpperCase()}'/>`), schema: 'valid', translator: 'accepts' },
    { name: 'interface type=hostdev', xml: read('cases/vf-token/net-hostdev.xml'), schema: 'valid', translator: 'accepts' },
    { name: 'no token', xml: hostdevWith(''), schema: 'valid', translator: 'accepts' },
    { name: 'bad hex digit', xml: hostdevWith(`<vf-token uuid='${TOKEN.replace(/f$/, 'g')}'/>`), schema: BLAMES_TOKEN, translator: /^XML error: malformed vf-token uuid/ },
    { name: '32 bare hex digits (libvirt\'s UUID define takes them; the contract does not)', xml: hostdevWith(`<vf-token uuid='${TOKEN.replace(/-/g, '')}'/>`), schema: BLAMES_TOKEN, translator: /malformed vf-token uuid/ },
    { name: 'braces', xml: hostdevWith(`<vf-token uuid='{${TOKEN}}'/>`), schema: BLAMES_TOKEN, translator: /malformed vf-token uuid/ },
    { name: 'empty uuid', xml: hostdevWith(`<vf-token uuid=''/>`), schema: BLAMES_TOKEN, translator: /malformed vf-token uuid ''/ },
    { name: 'missing uuid', xml: hostdevWith('<vf-token/>'), schema: BLAMES_TOKEN, translator: /missing 'uuid' attribute in <vf-token>/ },
    { name: 'two tokens', xml: hostdevWith(`<vf-token uuid='${TOKEN}'/><vf-token uuid='${TOKEN}'/>`), schema: BLAMES_TOKEN, translator: /only one <vf-token>/ },
    // Differences, on purpose:
    { name: 'no vfio driver (a rule across elements: only the translator sees it)', xml: read('cases/vf-token/no-driver.xml'), schema: 'valid', translator: /vf-token requires <driver name='vfio'\/>/ },
    { name: 'an extra attribute (the translator reads uuid only, as libvirt reads attributes)', xml: hostdevWith(`<vf-token uuid='${TOKEN}' x='1'/>`), schema: BLAMES_TOKEN, translator: 'accepts' },
    { name: 'content inside the token (ignored by the translator)', xml: hostdevWith(`<vf-token uuid='${TOKEN}'><x/></vf-token>`), schema: /^<x> at line \d+ \(\/domain\/devices\/hostdev\/source\/address\/vf-token\/x\)/, translator: 'accepts' },
    { name: 'a token in the guest address (the patch\'s pciaddress admits it; libvirt and the translator ignore it)', xml: hostdevWith('').replace(/(<address type='pci'[^>]*)\/>/, `$1><vf-token uuid='${TOKEN}'/></address>`), schema: 'valid', translator: 'accepts' },
  ];

  for (const f of FORMS) {
    test(`vf-token form: ${f.name}`, () => {
      const got = schema.validate(f.xml);
      if (f.schema === 'valid') assert.is(got, undefined);
      else assert.match(got ?? 'valid', f.schema);
      const says = translatorSays(f.xml);
      if (f.translator === 'accepts') assert.is(says, 'accepts');
      else assert.match(says, f.translator);
    });
  }

  test('messages: one line naming the element, its line and path; the second of two tokens', () => {
    const bad = schema.validate(hostdevWith(`<vf-token uuid='nope'/>`))!;
    assert.is(bad, "<vf-token uuid='nope'> at line 23 (/domain/devices/hostdev/source/address/vf-token): not allowed there, or an attribute or child of it is missing, extra or malformed");
    assert.match(schema.validate(hostdevWith(`<vf-token uuid='${TOKEN}'/><vf-token uuid='${TOKEN}'/>`))!, /^<vf-token uuid='[^']+'> at line 23 \(.*\/address\/vf-token\[2\]\)/);
    assert.match(schema.validate(hostdevWith(`<vf-token uuid='${TOKEN}' x='1'/>`))!, /: attribute x is not allowed there or its value is invalid$/);
    assert.match(schema.validate('<domain')!, /^not well-formed XML at line 1: /);
    // Two unrelated problems: no single element to blame, so libxml2's own words.
    assert.match(schema.validate(read('cases/domain/unknown-elements-ignored.xml'))!, /^does not validate: Element domain has extra content: frobnicate \(\/domain\/frobnicate, line 5\)$/);
    for (const f of FORMS) assert.not.match(schema.validate(f.xml) ?? '', /\n/);
  });

  /** A throw-away project with the 8.1.0 x86_64 snapshot and the given files. */
  function project(files: Record<string, string>): string {
    const dir = temp();
    mkdirSync(join(dir, 'capabilities'));
    for (const v of ['8.1.0']) cpSync(join(repo, `capabilities/caps_${v}_x86_64.xml`), join(dir, `capabilities/caps_${v}_x86_64.xml`));
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    return dir;
  }

  test('schemaInvalid: unmarked invalid inputs and marks on valid inputs are both problems; folder marks and null apply', () => {
    const dir = project({
      'cases/a/valid.xml': read('cases/vf-token/hostdev.xml'),
      'cases/a/valid.json': '{ "schemaInvalid": "stale mark" }',
      'cases/a/bad.xml': read('cases/vf-token/malformed.xml'),
      'cases/b/options.json': '{ "schemaInvalid": "the folder tests refusals" }',
      'cases/b/bad.xml': read('cases/vf-token/no-uuid.xml'),
      'cases/b/good.xml': read('cases/vf-token/uppercase.xml'),
      'cases/b/good.json': '{ "schemaInvalid": null }',
    });
    const r = checkCorpus(dir, schema);
    assert.is(r.invalidOnPurpose, 1);
    assert.equal(r.problems, [
      `cases/a/bad.xml: <vf-token uuid='00112233-4455-6677-8899-aabbccddeefg'> at line 13 (/domain/devices/hostdev/source/address/vf-token): not allowed there, or an attribute or child of it is missing, extra or malformed (if that is on purpose, say why in its options: "schemaInvalid": "…")`,
      `cases/a/valid.xml is marked schemaInvalid ("stale mark") but validates against libvirt 9.0.0's domain schema + schema/domain.rng; remove the mark`,
    ]);
    const empty = project({ 'cases/x.xml': read('cases/domain/minimal.xml'), 'cases/x.json': '{ "schemaInvalid": " " }' });
    assert.throws(() => discoverCases(empty), /"schemaInvalid" must say why/);
  });

  test('run --schema in-process: inputs and xml2xml outputs; an invalid output is a failed entry with one line', async () => {
    const good = await runSuite({ root: repo, filters: { case: ['vf-token/{hostdev,net-hostdev,malformed}', 'domain/unknown-elements-ignored'], version: ['8.1.0'] }, adapter: builtinAdapter, jobs: 2, determinism: false, schema: schemaCheck(schema) });
    assert.is(good.results.length, 8);
    assert.is(counts(good).fail + counts(good).broken, 0, JSON.stringify(good.results.filter((r) => r.status !== 'pass').map((r) => r.message)));
    // A translator whose xml2xml output doubles the token, and whose .args are right.
    const doubling: Adapter = {
      name: 'doubling',
      translate: async (entry, xml) => {
        const out = await builtinAdapter.translate(entry, xml);
        return out.kind === 'output' && entry.mode === 'xml2xml' ? { kind: 'output', text: out.text.replace(/( *)(<vf-token[^>]*\/>)\n/, '$1$2\n$1$2\n') } : out;
      },
    };
    const bad = await runSuite({ root: repo, filters: { case: ['vf-token/hostdev'], version: ['8.1.0'] }, adapter: doubling, jobs: 1, determinism: false, schema: schemaCheck(schema) });
    const byMode = Object.fromEntries(bad.results.map((r) => [r.entry.mode, r]));
    assert.is(byMode.xml2argv!.status, 'pass');
    assert.is(byMode.xml2xml!.status, 'fail');
    const line = byMode.xml2xml!.message!.split('\n').find((l) => l.startsWith('schema: '));
    assert.is(line, "schema: xml2xml output: <vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'> at line 32 (/domain/devices/hostdev/source/address/vf-token[2]): not allowed there, or an attribute or child of it is missing, extra or malformed");
  });

  test('run --schema: an unmarked invalid input fails its entries; a marked one passes', async () => {
    const dir = project({
      'cases/bad.xml': read('cases/vf-token/malformed.xml'),
      'cases/marked.xml': read('cases/vf-token/malformed.xml'),
      'cases/marked.json': '{ "schemaInvalid": "tests the refusal" }',
    });
    await updateGoldens({ root: dir, filters: {} });
    const s = await runSuite({ root: dir, filters: {}, adapter: builtinAdapter, jobs: 2, determinism: false, schema: schemaCheck(schema) });
    const failed = s.results.filter((r) => r.status === 'fail');
    assert.equal([...new Set(failed.map((r) => r.entry.case.name))], ['bad']);
    assert.is(failed.length, 2);
    for (const r of failed) assert.match(r.message!, /^schema: input cases\/bad\.xml: <vf-token uuid='[^']+'> at line 13 /);
  });

  test('update warns about an .xml golden it writes that does not validate, and writes it all the same', async () => {
    const dir = project({ 'cases/c.xml': read('cases/vf-token/hostdev.xml') });
    const sloppy: Adapter = {
      name: 'sloppy',
      translate: async (entry, xml) => {
        const out = await builtinAdapter.translate(entry, xml);
        return out.kind === 'output' && entry.mode === 'xml2xml' ? { kind: 'output', text: out.text.replace('<devices>', '<devices>\n    <gizmo/>') } : out;
      },
    };
    const { report, writes } = await plan({ root: dir, filters: {}, adapter: sloppy });
    assert.ok(writes.some((w) => w.path.endsWith('c.x86_64-8.1.0.xml')));
    assert.equal(report.schemaInvalid, ['golden/xml2xml/c.x86_64-8.1.0.xml: <gizmo> at line 19 (/domain/devices/gizmo): not allowed there, or an attribute or child of it is missing, extra or malformed']);
    assert.match(formatUpdateReport(report), /^warning   golden\/xml2xml\/c\.x86_64-8\.1\.0\.xml: <gizmo> at line 19 .* \(does not validate against libvirt 9\.0\.0's domain schema \+ schema\/domain\.rng\)$/m);
    assert.equal((await plan({ root: dir, filters: {} })).report.schemaInvalid, []);
  });
}

test.run();
