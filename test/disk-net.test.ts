// Unit tests of the host facts of network disks (domain/storage-host.ts) and of the
// secret lookups in blockdev/net.ts that no shipped snapshot reaches (a host with secrets
// defined).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { QemuCaps } from '../translator/capabilities.js';
import { prepareRemoteAuth, remoteAuthObjects, remoteStorageProps } from '../translator/blockdev/net.js';
import type { StorageSource } from '../translator/devices/disk-source.js';
import { loadHostFacts } from '../translator/domain/host-facts.js';
import { anyErrorMessage } from './helpers/errors.js';

const err = anyErrorMessage;

test('host facts: "storage" is read strictly', () => {
  const facts = loadHostFacts('{"storage":{"nbdTlsX509CertDir":"/pki","randomBytes":"counting","secrets":[{"usageType":"iscsi","usage":"u","value":"v"},{"usageType":"ceph","uuid":"0DE70000-0000-4000-8000-0000000000AA","value":"w"}]}}', 'h.json');
  assert.equal(facts.storage, {
    nbdTlsX509CertDir: '/pki',
    randomBytes: 'counting',
    secrets: [{ usageType: 'iscsi', usage: 'u', value: 'v' }, { usageType: 'ceph', uuid: '0de70000-0000-4000-8000-0000000000aa', value: 'w' }],
  });
  assert.equal(loadHostFacts('{"storage":{"secrets":"libvirt-test-mock"}}', 'h.json').storage, { secrets: 'libvirt-test-mock' });
  for (const bad of ['{"storage":[]}', '{"storage":{"randomBytes":"sometimes"}}', '{"storage":{"nbdTlsX509CertDir":"rel"}}', '{"storage":{"secrets":[{"usage":"u"}]}}', '{"storage":{"secrets":"mock"}}']) {
    assert.match(err(() => loadHostFacts(bad, 'h.json')), /^h\.json: "storage" has a missing or invalid /);
  }
});

const iscsi = (auth: StorageSource['auth']): StorageSource => ({
  type: 'network', readonly: false, shared: false, format: 'raw', path: 'iqn.2000-01.org.example:t/1', auth,
  net: { protocol: 'iscsi', path: 'iqn.2000-01.org.example:t/1', hosts: [{ transport: 'tcp', name: 'example.org', port: 3260 }] },
});
const caps = (storage: QemuCaps['storageHost']) => ({ storageHost: storage }) as QemuCaps;

test('secrets: looked up by usage and type, or by UUID; encrypted only with known random bytes', () => {
  const secrets = [{ usageType: 'iscsi', usage: 'u', value: 'AQCVn5hO6HzFAhAAq0NCv8jtJcIcE+HOBlMQ1A' }, { usageType: 'ceph', uuid: '0de70000-0000-4000-8000-0000000000aa', value: 'x' }];
  const src = iscsi({ username: 'me', secretType: 'iscsi', usage: 'u' });
  prepareRemoteAuth(src, 'libvirt-1-storage', caps({ randomBytes: 'counting', secrets }));
  // the same bytes as libvirt's test harness (its mocked master key and IV)
  assert.equal(remoteAuthObjects(src), [[
    '-object',
    '{"qom-type":"secret","id":"libvirt-1-storage-auth-secret0","data":"9eao5F8qtkGt+seB1HYivWIxbtwUu6MQtg1zpj/oDtUsPr1q8wBYM91uEHCn6j/1","keyid":"masterKey0","iv":"AAECAwQFBgcICQoLDA0ODw==","format":"base64"}',
  ]]);
  assert.equal(remoteStorageProps(src), { driver: 'iscsi', portal: 'example.org:3260', target: 'iqn.2000-01.org.example:t', lun: 1, transport: 'tcp', user: 'me', 'password-secret': 'libvirt-1-storage-auth-secret0' });
  assert.match(err(() => prepareRemoteAuth(src, 'libvirt-1-storage', caps({ randomBytes: 'unpredictable', secrets }))), /^unsupported: <auth><secret> on a host whose libvirt encrypts it with random keys/);
  assert.is(err(() => prepareRemoteAuth(iscsi({ username: 'me', usage: 'x' }), 'n', caps({ secrets }))), "Secret not found: no secret with matching usage 'x'");
  assert.is(
    err(() => prepareRemoteAuth(iscsi({ username: 'me', uuid: '0de70000-0000-4000-8000-0000000000aa' }), 'n', caps({ secrets }))),
    "invalid argument: secret with uuid 0de70000-0000-4000-8000-0000000000aa is of type 'ceph' not expected 'iscsi' type",
  );
  assert.match(err(() => prepareRemoteAuth(src, 'n', caps(undefined))), /^unsupported: <auth><secret> on a snapshot without the host's secrets/);
});

test.run();
