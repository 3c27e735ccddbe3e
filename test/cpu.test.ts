// Unit tests of the CPU and NUMA module where a rule has no golden: inputs on which
// libvirt 9.0.0 corrupts its own heap (kept out of the corpus, whose oracles run every
// case), the bitmap syntax, and the generated CPU map against libvirt's installed one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaps } from '../translator/capabilities.js';
import { formatBitmap, parseBitmap } from '../translator/domain/numa.js';
import { X86_FEATURES, X86_MODELS } from '../translator/domain/cpu-map.js';
import { translate, TranslationError } from '../translator/index.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const caps = loadCaps(readFileSync(`${repo}/capabilities/caps_8.2.0_x86_64.xml`, 'utf8'), 'caps_8.2.0_x86_64.xml');

const numaDomain = (cell0: string) => `<domain type='qemu'><name>d</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu><numa>${cell0}<cell id='1' cpus='1' memory='131072'/></numa></cpu></domain>`;

function err(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof TranslationError) return e.message;
    throw e;
  }
  throw new Error('expected a TranslationError');
}

test('numa: any invalid <distances> is refused, never answered (libvirt writes past its cell array)', () => {
  for (const d of ['', "<sibling id='0' value='11'/>", "<sibling id='1' value='10'/>", "<sibling id='2' value='30'/>",
    "<sibling id='1'/>", "<sibling value='20'/>", "<sibling id='1' value='256'/>"]) {
    const m = err(() => translate('xml2xml', numaDomain(`<cell id='0' cpus='0' memory='131072'><distances>${d}</distances></cell>`), caps));
    assert.match(m, /^unsupported: an invalid NUMA <distances>/, d);
  }
});

test('numa: virBitmapParse syntax and virBitmapFormat', () => {
  assert.equal(parseBitmap(' 0-3 , ^2, 7', 16384), [0, 1, 3, 7]);
  assert.equal(parseBitmap('5,1-2', 16384), [1, 2, 5]);
  for (const bad of ['', ' ', '1-', '3-1', '^1-2', 'a', '1,,2', '16384', '-1']) {
    assert.throws(() => parseBitmap(bad, 16384), (e: Error) => e.message === `invalid argument: Failed to parse bitmap '${bad}'`, bad);
  }
  assert.is(formatBitmap([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
});

test('cpu map: the generated table matches libvirt\'s installed x86 CPU map', () => {
  const dir = '/usr/share/libvirt/cpu_map';
  if (!existsSync(`${dir}/x86_features.xml`)) return; // libvirt not installed here
  const features = [...readFileSync(`${dir}/x86_features.xml`, 'utf8').matchAll(/<feature name='([^']+)'/g)].map((m) => m[1]!);
  assert.equal([...X86_FEATURES].sort(), [...new Set(features)].sort());
  assert.ok(X86_MODELS.has('qemu64') && X86_MODELS.has('EPYC'));
  assert.equal(X86_MODELS.get('EPYC'), ['monitor']);
});

test.run();
