// What libvirt asks its host about on the way to a command line for network disks: the
// secrets of its secret driver (<auth><secret>), whether its random bytes (the domain's
// master key and each secret's IV) can be known, and qemu.conf's NBD TLS directory.
// A snapshot carries them in host/<snapshot>.json under "storage":
//   {"nbdTlsX509CertDir": "/etc/pki/qemu", "randomBytes": "unpredictable",
//    "secrets": [{"usageType": "iscsi", "usage": "…", "uuid": "…", "value": "…"}]}
// or "secrets": "libvirt-test-mock", the fake secret driver of libvirt's test harness
// (usages 'mycluster_myname' and 'client.admin secret', any UUID, one fixed value).
// Without the facts, what needs them is refused rather than guessed.
import { hostSection } from './host-section.js';
export interface HostSecret {
  usageType: string;
  usage?: string;
  uuid?: string;
  /** the secret's value as the secret driver returns it */
  value: string;
}

export interface StorageHostFacts {
  /** qemu.conf nbd_tls_x509_cert_dir (default: default_tls_x509_cert_dir) */
  nbdTlsX509CertDir?: string;
  /** 'counting': libvirt's test mock of virRandomBytes (0, 1, 2, …); 'unpredictable': a real host */
  randomBytes?: 'counting' | 'unpredictable';
  secrets?: HostSecret[] | 'libvirt-test-mock';
}

declare module '../capabilities.js' {
  interface QemuCaps {
    /** host facts for network disks ("storage" in host/<snapshot>.json) */
    storageHost?: StorageHostFacts;
  }
}

/** The "storage" member of host/<snapshot>.json; undefined when absent. */
export function parseStorageHost(raw: Record<string, unknown>, fail: (message: string) => Error): StorageHostFacts | undefined {
  const section = hostSection(raw, 'storage', fail);
  if (!section) return undefined;
  const { o, bad } = section;
  const out: StorageHostFacts = {};
  if (o.nbdTlsX509CertDir !== undefined) {
    if (typeof o.nbdTlsX509CertDir !== 'string' || !o.nbdTlsX509CertDir.startsWith('/')) throw bad('"nbdTlsX509CertDir"');
    out.nbdTlsX509CertDir = o.nbdTlsX509CertDir;
  }
  if (o.randomBytes !== undefined) {
    if (o.randomBytes !== 'counting' && o.randomBytes !== 'unpredictable') throw bad('"randomBytes"');
    out.randomBytes = o.randomBytes;
  }
  if (o.secrets === 'libvirt-test-mock') out.secrets = o.secrets;
  else if (o.secrets !== undefined) {
    if (!Array.isArray(o.secrets)) throw bad('"secrets"');
    out.secrets = o.secrets.map((e, i) => {
      const x = e as Record<string, unknown>;
      const str = (k: string) => x[k] === undefined || typeof x[k] === 'string';
      if (typeof x !== 'object' || x === null || typeof x.usageType !== 'string' || typeof x.value !== 'string' || !str('usage') || !str('uuid')) {
        throw bad(`secrets[${i}]`);
      }
      return { usageType: x.usageType, value: x.value, ...(x.usage !== undefined ? { usage: x.usage as string } : {}), ...(x.uuid !== undefined ? { uuid: (x.uuid as string).toLowerCase() } : {}) };
    });
  }
  return out;
}
