// Unit tests of the "tpm" host facts reader (no golden pins a malformed host file).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTpmHost } from '../translator/domain/tpm-host.js';

const fail = (m: string) => new Error(m);

test('parseTpmHost reads swtpm versions, the emulator socket and host TPM devices, and refuses bad facts', () => {
  assert.is(parseTpmHost({}, fail), undefined);
  assert.equal(parseTpmHost({ tpm: { swtpmVersions: ['2.0'], emulatorSocket: null, devices: [] } }, fail), { swtpmVersions: ['2.0'], emulatorSocket: null, devices: [] });
  assert.equal(parseTpmHost({ tpm: { swtpmVersions: null, emulatorSocket: '/dev/test', devices: 'libvirt-test-mock' } }, fail), { swtpmVersions: null, emulatorSocket: '/dev/test', devices: 'libvirt-test-mock' });
  assert.throws(() => parseTpmHost({ tpm: [] }, fail), /invalid object/);
  assert.throws(() => parseTpmHost({ tpm: { swtpmVersions: ['3.0'] } }, fail), /swtpmVersions/);
  assert.throws(() => parseTpmHost({ tpm: { emulatorSocket: 'rel' } }, fail), /emulatorSocket/);
  assert.throws(() => parseTpmHost({ tpm: { devices: ['tpm0'] } }, fail), /devices/);
});

test.run();
