// Secrets from libvirt's secret driver, a fact of the host libvirt runs on: a disk's
// <encryption><secret> (usage type 'volume') or a network disk's <auth><secret> ('iscsi',
// 'ceph') names one by uuid or usage, and libvirt hands its value to QEMU as a secret
// object, AES-encrypted with the domain's master key and a fresh IV
// (qemuDomainSecretInfoSetupFromSecret). The host's secrets and whether its random
// bytes can be known come from host/<snapshot>.json "storage" (domain/storage-host.ts):
// a real libvirtd (7.2.0: no secrets, unpredictable random bytes) or libvirt 9.0.0's
// test harness (8.x: a fake secret driver, random bytes counting 0, 1, 2, …).
import type { QemuCaps } from './capabilities.js';
import { createCipheriv } from 'node:crypto';
import { internalError, notImplemented, TranslationError } from './errors.js';
import './domain/storage-host.js';

/** virSecretUsageType, as secret XML names it */
export type SecretUsageType = 'volume' | 'ceph' | 'iscsi' | 'tls' | 'vtpm';

/** virSecretLookupTypeDef: a secret named by its uuid (canonical form) or by its usage */
export type SecretLookup = { uuid: string } | { usage: string };

/** The value the harness's fake secret driver gives every secret (fakeSecretGetValue). */
const MOCK_VALUE = 'AQCVn5hO6HzFAhAAq0NCv8jtJcIcE+HOBlMQ1A';

/** virSecretGetSecretString: the secret's value, or libvirt's error for a missing one.
 *  `what` names the secret's user in a refusal. */
export function secretValue(caps: QemuCaps, lookup: SecretLookup, usageType: SecretUsageType, what: string): string {
  const secrets = caps.storageHost?.secrets;
  if (secrets === undefined) throw notImplemented(`${what} on a snapshot without the host's secrets (host/<snapshot>.json "storage")`);
  if (secrets === 'libvirt-test-mock') {
    // fakeSecretLookupByUsage knows only the usages libvirt's own tests use
    if ('usage' in lookup) {
      if (usageType === 'volume') {
        if (!lookup.usage.startsWith('/storage/guest_disks/')) throw internalError(`test provided invalid volume storage prefix '${lookup.usage}'`);
      } else if (lookup.usage !== 'mycluster_myname' && lookup.usage !== 'client.admin secret') {
        throw internalError(`test provided incorrect usage '${lookup.usage}'`);
      }
    }
    return MOCK_VALUE;
  }
  if ('usage' in lookup) {
    const s = secrets.find((x) => x.usageType === usageType && x.usage === lookup.usage);
    if (!s) throw new TranslationError('Secret not found', `no secret with matching usage '${lookup.usage}'`);
    return s.value;
  }
  const s = secrets.find((x) => x.uuid === lookup.uuid);
  if (!s) throw new TranslationError('Secret not found', `no secret with matching uuid '${lookup.uuid}'`);
  if (s.usageType !== 'none' && s.usageType !== usageType) {
    throw new TranslationError('invalid argument', `secret with uuid ${lookup.uuid} is of type '${s.usageType}' not expected '${usageType}' type`);
  }
  return s.value;
}

/** qemuDomainSecretAESSetup + qemuBuildSecretInfoProps: the -object of a secret, its
 *  value encrypted with the master key masterKey0 and an IV, both from virRandomBytes:
 *  known only where they count up (the harness); refused where they are random. */
export function secretObjectProps(caps: QemuCaps, id: string, value: string, what: string): Record<string, unknown> {
  if (caps.storageHost?.randomBytes !== 'counting') {
    throw notImplemented(`${what} on a host whose libvirt encrypts it with random keys (the command line differs on every run)`);
  }
  const counting = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i));
  const iv = counting(16);
  const cipher = createCipheriv('aes-256-cbc', counting(32), iv);
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]).toString('base64');
  return { 'qom-type': 'secret', id, data, keyid: 'masterKey0', iv: iv.toString('base64'), format: 'base64' };
}
