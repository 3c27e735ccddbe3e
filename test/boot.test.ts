// Unit tests of boot and firmware rules that no golden pins: path sanitizing, firmware
// descriptor reading and order, the refusal without descriptors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaps } from '../translator/capabilities.js';
import { sanitizePath } from '../translator/domain/os.js';
import { FirmwareError, loadFirmwareDescriptors, parseDescriptor } from '../translator/domain/firmware.js';
import { translate } from '../translator/index.js';
import { readCaps } from '../harness/io.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const capsFile = `${repo}/capabilities/caps_7.2.0_x86_64.xml`;

test('sanitizePath drops extra and trailing slashes, keeps a leading // and URIs', () => {
  assert.is(sanitizePath('//var/lib//libvirt/acpi/slic.dat/'), '//var/lib/libvirt/acpi/slic.dat');
  assert.is(sanitizePath('///a///b'), '/a/b');
  assert.is(sanitizePath('/'), '/');
  assert.is(sanitizePath('a//b/'), 'a/b');
  assert.is(sanitizePath('http://host//x'), 'http://host//x');
});

const descriptor = (extra: object) => JSON.stringify({
  'interface-types': ['uefi'],
  mapping: { device: 'flash', executable: { filename: '/c.fd', format: 'raw' }, 'nvram-template': { filename: '/v.fd', format: 'raw' } },
  targets: [{ architecture: 'i386', machines: ['pc-i440fx-*'] }],
  features: [],
  ...extra,
});

test('firmware descriptors: QEMU arch names become libvirt\'s, flash mode defaults to split, files sort by name', () => {
  const d = parseDescriptor('x.json', descriptor({}));
  assert.equal(d.targets, [['i686', ['pc-i440fx-*']]]);
  assert.equal(d.mapping, { device: 'flash', mode: 'split', executable: '/c.fd', nvramTemplate: '/v.fd' });
  const list = loadFirmwareDescriptors([{ name: '60-b.json', text: descriptor({}) }, { name: '40-a.json', text: descriptor({}) }]);
  assert.equal(list.map((f) => f.name), ['40-a.json', '60-b.json']);
});

test('firmware descriptors: unknown features, bad JSON and non-raw images are refused', () => {
  assert.throws(() => parseDescriptor('x.json', descriptor({ features: ['bogus'] })), (e: unknown) => e instanceof FirmwareError && /unknown feature bogus/.test(String(e)));
  assert.throws(() => parseDescriptor('x.json', '{'), (e: unknown) => e instanceof FirmwareError);
  const qcow = descriptor({ mapping: { device: 'flash', executable: { filename: '/c.fd', format: 'qcow2' }, 'nvram-template': { filename: '/v.fd', format: 'raw' } } });
  assert.throws(() => parseDescriptor('x.json', qcow), (e: unknown) => e instanceof FirmwareError);
});

const efi = `<domain type='qemu'><name>d</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory>219136</memory><os firmware='efi'><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/></features></domain>`;

test('firmware autoselection needs the snapshot\'s descriptors: refused without, chosen with', () => {
  const bare = loadCaps(readFileSync(capsFile, 'utf8'), capsFile);
  assert.match(String((() => { try { return translate('xml2argv', efi, bare); } catch (e) { return e; } })()), /carries no firmware descriptors/);
  // xml2xml does not choose a firmware (libvirt does so only when it starts the domain).
  assert.match(translate('xml2xml', efi, bare), /<os firmware='efi'>/);
  const withFw = readCaps(capsFile);
  assert.ok(withFw.firmware && withFw.firmware.length > 0);
  assert.match(translate('xml2argv', efi, withFw), /OVMF_CODE_4M\.fd/);
});

test.run();
