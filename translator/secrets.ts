// Secrets from libvirt's secret driver, a fact of the host libvirt runs on: a disk's
// <encryption><secret> (usage type 'volume') or a network disk's <auth><secret> ('iscsi',
// 'ceph') names one by uuid or usage, and libvirt hands its value to QEMU as a secret
// object, AES-encrypted with the domain's master key (qemuDomainSecretInfoSetup).
//
// A snapshot says what secret driver it stands for in host/<snapshot>.json, "secrets":
//   {"defined": [{"uuid", "usageType", "usage"}, …]}  a real libvirtd holding these
//       secrets. A lookup that finds none fails as libvirt's does. One that finds one
//       is refused: the master key and the IV are random there, so no two command
//       lines agree.
//   {"mock": "qemuxml2argvtest"}  libvirt 9.0.0's test harness: its fake secret driver
//       finds every uuid, only some usages, and gives one fixed value; its random
//       bytes are 0, 1, 2, … so the encrypted value is fixed too.
// Without the key a snapshot's command lines with a secret are refused.
import { createCipheriv } from 'node:crypto';
import { internalError, notImplemented, TranslationError } from './errors.js';

/** virSecretUsageType, as secret XML names it */
export type SecretUsageType = 'volume' | 'ceph' | 'iscsi' | 'tls' | 'vtpm';

/** virSecretLookupTypeDef: a secret named by its uuid (canonical form) or by its usage */
export type SecretLookup = { uuid: string } | { usage: string };

export interface DefinedSecret {
  uuid: string;
  usageType: SecretUsageType;
  usage: string;
}

export type HostSecrets = { defined: DefinedSecret[] } | { mock: 'qemuxml2argvtest' };

declare module './capabilities.js' {
  interface QemuCaps {
    /** the secret driver of the snapshot's host ("secrets"); undefined when it carries none */
    hostSecrets?: HostSecrets;
  }
}

const USAGE_TYPES: readonly string[] = ['volume', 'ceph', 'iscsi', 'tls', 'vtpm'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Reads the "secrets" value of host/<snapshot>.json; a message for what is wrong. */
export function parseHostSecrets(raw: unknown): HostSecrets | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return '"secrets" is not an object';
  const o = raw as Record<string, unknown>;
  if ('mock' in o) return o.mock === 'qemuxml2argvtest' && Object.keys(o).length === 1 ? { mock: 'qemuxml2argvtest' } : '"secrets" has an unknown "mock"';
  if (!Array.isArray(o.defined) || Object.keys(o).length !== 1) return '"secrets" needs "defined" (a list) or "mock"';
  const defined: DefinedSecret[] = [];
  for (const [i, s] of (o.defined as unknown[]).entries()) {
    const e = s as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || typeof e.uuid !== 'string' || !UUID_RE.test(e.uuid)) return `"secrets".defined[${i}] has no canonical "uuid"`;
    if (typeof e.usageType !== 'string' || !USAGE_TYPES.includes(e.usageType)) return `"secrets".defined[${i}] has an unknown "usageType"`;
    if (typeof e.usage !== 'string') return `"secrets".defined[${i}] has no "usage"`;
    defined.push({ uuid: e.uuid, usageType: e.usageType as SecretUsageType, usage: e.usage });
  }
  return { defined };
}

/** The value the harness's fake secret driver gives every secret (fakeSecretGetValue). */
const MOCK_VALUE = 'AQCVn5hO6HzFAhAAq0NCv8jtJcIcE+HOBlMQ1A';
/** virrandommock: random bytes count up from 0 */
const mockRandom = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i & 0xff));

/** virSecretGetSecretString: the secret's value, or libvirt's error for a missing one. */
function secretValue(secrets: HostSecrets | undefined, lookup: SecretLookup, usageType: SecretUsageType, what: string): Buffer {
  if (!secrets) throw notImplemented(`${what} on a snapshot without its host's secrets (host/<snapshot>.json "secrets")`);
  if ('mock' in secrets) {
    // fakeSecretLookupByUsage accepts only the usages libvirt's own tests use
    if ('usage' in lookup) {
      if (usageType === 'volume') {
        if (!lookup.usage.startsWith('/storage/guest_disks/')) throw internalError(`test provided invalid volume storage prefix '${lookup.usage}'`);
      } else if (lookup.usage !== 'mycluster_myname' && lookup.usage !== 'client.admin secret') {
        throw internalError(`test provided incorrect usage '${lookup.usage}'`);
      }
    }
    return Buffer.from(MOCK_VALUE);
  }
  const found = 'uuid' in lookup ? secrets.defined.find((s) => s.uuid === lookup.uuid) : secrets.defined.find((s) => s.usageType === usageType && s.usage === lookup.usage);
  if (!found) {
    throw new TranslationError('Secret not found', 'uuid' in lookup ? `no secret with matching uuid '${lookup.uuid}'` : `no secret with matching usage '${lookup.usage}'`);
  }
  throw notImplemented(`${what} with a secret defined on a real host (its encrypted value is random there)`);
}

/** The -object of a secret for QEMU (qemuDomainSecretInfoSetupFromSecret, then
 *  qemuBuildObjectSecretCommandLine): its value AES-256-CBC-encrypted with the master
 *  key masterKey0, base64. `what` names the secret's user in a refusal. */
export function secretObject(secrets: HostSecrets | undefined, lookup: SecretLookup, usageType: SecretUsageType, id: string, what: string): Record<string, unknown> {
  const value = secretValue(secrets, lookup, usageType, what);
  // (only the harness gets here: its master key and IV are its mocked random bytes)
  const key = mockRandom(32);
  const iv = mockRandom(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const data = Buffer.concat([cipher.update(value), cipher.final()]).toString('base64');
  return { 'qom-type': 'secret', id, data, keyid: 'masterKey0', iv: iv.toString('base64'), format: 'base64' };
}
