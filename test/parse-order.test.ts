// The domain-level parse table (stages/parse.ts) where no golden can reach: a case with an
// unknown arch has no snapshot to run on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DOMAIN_PARSE_ORDER, parseDomain } from '../translator/stages/parse.js';

const err = (xml: string) => {
  try {
    parseDomain(xml);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

const domain = (type: string, arch: string, extra = '') =>
  `<domain type='qemu'><name>t</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>${extra}` +
  `<os><type arch='${arch}'>${type}</type></os></domain>`;

test('the os type is checked before the arch, the arch before the title', () => {
  assert.match(err(domain('bogus', 'bogus')), "unknown OS type 'bogus'");
  assert.match(err(domain('hvm', 'bogus', '<title>a\nb</title>')), 'Unknown architecture bogus');
});

test('an os type other than hvm parses (validation refuses it)', () => {
  assert.is(parseDomain(domain('linux', 'x86_64')).os.type, 'linux');
});

test('each entry names a different step of libvirt', () => {
  const names = DOMAIN_PARSE_ORDER.map((s) => s.follows);
  assert.equal(new Set(names).size, names.length);
});

test.run();
