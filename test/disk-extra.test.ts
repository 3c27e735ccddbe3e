// Unit tests of the rules of secrets.ts and blockdev/storage-extra.ts that no golden
// reaches (secrets defined on a host, 64-bit numbers in -blockdev JSON).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { QemuCaps } from '../translator/capabilities.js';
import { secretObjectProps, secretValue } from '../translator/secrets.js';
import { jsonArg } from '../translator/blockdev/storage-extra.js';
import { anyErrorMessage } from './helpers/errors.js';

const err = anyErrorMessage;
const caps = (storageHost: QemuCaps['storageHost']) => ({ storageHost }) as QemuCaps;

test('secrets: a real host’s secret driver', () => {
  const host = caps({ randomBytes: 'unpredictable', secrets: [{ usageType: 'volume', usage: '/v', uuid: '0dd70000-0000-4000-8000-000000000001', value: 'pw' }] });
  assert.is(secretValue(host, { usage: '/v' }, 'volume', 'x'), 'pw');
  assert.is(secretValue(host, { uuid: '0dd70000-0000-4000-8000-000000000001' }, 'volume', 'x'), 'pw');
  assert.is(err(() => secretValue(host, { usage: '/v' }, 'iscsi', 'x')), "Secret not found: no secret with matching usage '/v'");
  assert.is(
    err(() => secretValue(host, { uuid: '0dd70000-0000-4000-8000-000000000001' }, 'ceph', 'x')),
    "invalid argument: secret with uuid 0dd70000-0000-4000-8000-000000000001 is of type 'volume' not expected 'ceph' type",
  );
  // found, but encrypted with random bytes: no two command lines agree
  assert.match(err(() => secretObjectProps(host, 'id', 'pw', 'x')), /^unsupported: x on a host whose libvirt encrypts it with random keys/);
  assert.match(err(() => secretValue(caps(undefined), { usage: '/v' }, 'volume', 'x')), /^unsupported: x on a snapshot without the host's secrets/);
});

test('secrets: libvirt’s test harness', () => {
  const harness = caps({ randomBytes: 'counting', secrets: 'libvirt-test-mock' });
  assert.is(err(() => secretValue(harness, { usage: 'client.admin secret' }, 'ceph', 'x')), 'no error');
  assert.is(err(() => secretValue(harness, { usage: '/storage/guest_disks/a' }, 'iscsi', 'x')), "internal error: test provided incorrect usage '/storage/guest_disks/a'");
  assert.is(err(() => secretValue(harness, { usage: 'mycluster_myname' }, 'volume', 'x')), "internal error: test provided invalid volume storage prefix 'mycluster_myname'");
  const v = secretValue(harness, { uuid: '0dd70000-0000-4000-8000-000000000001' }, 'volume', 'x');
  // the value libvirt's own expected outputs show (tests/qemuxml2argvdata/luks-disks.x86_64-latest.args)
  assert.equal(secretObjectProps(harness, 's0', v, 'x'), {
    'qom-type': 'secret', id: 's0', data: '9eao5F8qtkGt+seB1HYivWIxbtwUu6MQtg1zpj/oDtUsPr1q8wBYM91uEHCn6j/1', keyid: 'masterKey0', iv: 'AAECAwQFBgcICQoLDA0ODw==', format: 'base64',
  });
});

test('-blockdev JSON writes 64-bit numbers exactly', () => {
  assert.is(jsonArg({ a: 18446744073709551615n, b: 'x', c: { d: 9007199254740993n }, e: 1 }), '{"a":18446744073709551615,"b":"x","c":{"d":9007199254740993},"e":1}');
  assert.is(jsonArg({ s: '\u0000big0' }), '{"s":"\\u0000big0"}');
});

test.run();
