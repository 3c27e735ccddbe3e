// Network and NVMe disk sources on the QEMU command line: the storage node's protocol
// properties (qemuBlockStorageSourceGetBackendProps), and what libvirt prepares for them
// on the way there (qemuDomainPrepareStorageSourceBlockdevNodename): the secrets of
// <auth> and of HTTP cookies as AES-encrypted -object secret (translator/secrets.ts), the
// NBD TLS credentials, NFS user and group ids. Host facts come from the snapshot
// (domain/storage-host.ts).
import { hasFlag, type QemuCaps } from '../capabilities.js';
import type { NetHost, NetSource } from '../devices/disk-source-net.js';
import type { StorageSource } from '../devices/disk-source.js';
import { pciString } from '../devices/info.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig } from '../errors.js';
import { secretObjectProps, secretValue } from '../secrets.js';
import { encryptionSecretId } from './storage-extra.js';

/** what the preparation gives a source: the aliases its storage node refers to, and the
 *  objects that come before it on the command line */
export interface RemotePrep {
  authSecret?: string;
  cookieSecret?: string;
  tlsAlias?: string;
  /** the <auth> secret object */
  authObjects: string[][];
  /** the cookie secret and TLS objects */
  objects: string[][];
  nfsUid?: number;
  nfsGid?: number;
}

const prepared = new WeakMap<StorageSource, RemotePrep>();

/** virSecretGetSecretString for the <auth> of a source: iSCSI's usage type, Ceph's for rbd */
function authSecret(caps: QemuCaps, src: StorageSource): string {
  const auth = src.auth!;
  const lookup = auth.uuid !== undefined ? { uuid: auth.uuid } : { usage: auth.usage! };
  return secretValue(caps, lookup, src.net?.protocol === 'rbd' ? 'ceph' : 'iscsi', '<auth><secret>');
}

const secretObject = (caps: QemuCaps, alias: string, value: string, what: string) => ['-object', JSON.stringify(secretObjectProps(caps, alias, value, what))];

/** virGetUserID / virGetGroupID: '+N' is a number; a name is the host's business */
function hostId(value: string, what: 'user' | 'group'): number {
  if (!value.startsWith('+')) throw notImplemented(`an NFS ${what} given by name (<identity ${what}='${value}'>: looked up on the host)`);
  const rest = value.slice(1);
  const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(rest);
  if (!m || Number(m[1]) > 4294967295) throw new TranslationError('invalid argument', `Failed to parse ${what} '${rest}'`);
  const n = Number(m[1]);
  if (n > 2147483647) throw notImplemented(`an NFS ${what} id beyond 2^31`);
  return n;
}

/** qemuBlockStorageSourceGetCookieString */
export const cookieString = (net: NetSource) => net.cookies!.map((c) => `${c.name}=${c.value}`).join('; ');

/** qemuDomainPrepareStorageSourceBlockdevNodename for one non-local image of a chain
 *  (after its validation), its first part: the pool of a volume, the <auth> secret.
 *  `storage` is the image's storage node name. */
export function prepareRemoteAuth(src: StorageSource, storage: string, caps: QemuCaps): void {
  if (src.type === 'volume') throw notImplemented("<disk type='volume'> on a command line (storage pools are host state)");
  const prep: RemotePrep = { objects: [], authObjects: [] };
  prepared.set(src, prep);
  // qemuDomainSecretStorageSourcePrepare (for any source with an <auth>, used or not)
  if (src.auth) {
    const value = authSecret(caps, src);
    prep.authSecret = `${storage}-auth-secret0`;
    prep.authObjects.push(secretObject(caps, prep.authSecret, value, '<auth><secret>'));
  }
}

/** … and after the image's encryption secret: the HTTP cookies secret, the NBD TLS
 *  credentials, the NFS ids */
export function prepareRemote(src: StorageSource, storage: string, caps: QemuCaps): void {
  const prep = prepared.get(src)!;
  const net = src.net;
  if (!net) return;
  if (net.cookies?.length) {
    prep.cookieSecret = `${storage}-httpcookie-secret0`;
    prep.objects.push(secretObject(caps, prep.cookieSecret, cookieString(net), 'an HTTP <cookies> secret'));
  }
  // qemuDomainPrepareStorageSourceTLS (libvirt's default of nbd_tls is off)
  if (net.protocol === 'nbd') {
    if (net.tls === 'yes') {
      if (!hasFlag(caps, 'nbd-tls')) throw unsupportedConfig('this qemu does not support TLS transport for NBD');
      const dir = caps.storageHost?.nbdTlsX509CertDir;
      if (dir === undefined) throw notImplemented('<source tls=\'yes\'> on a snapshot without the host\'s nbd_tls_x509_cert_dir (host/<snapshot>.json "storage")');
      prep.tlsAlias = `obj${storage}_tls0`;
      prep.objects.push(['-object', JSON.stringify({ 'qom-type': 'tls-creds-x509', id: prep.tlsAlias, dir, endpoint: 'client', 'verify-peer': true })]);
    }
  } else if (net.protocol !== 'vxhs' && net.tls === 'yes') {
    throw unsupportedConfig(`TLS transport is not supported for disk protocol '${net.protocol}'`);
  }
  // qemuDomainPrepareStorageSourceNFS
  if (net.protocol === 'nfs') {
    if (net.nfsUser !== undefined) prep.nfsUid = hostId(net.nfsUser, 'user');
    if (net.nfsGroup !== undefined) prep.nfsGid = hostId(net.nfsGroup, 'group');
  }
}

/** the -object options a prepared source needs before its storage node: the <auth>
 *  secret (libvirt's first), then the others (after an encryption secret) */
export const remoteAuthObjects = (src: StorageSource): string[][] => prepared.get(src)?.authObjects ?? [];
export const remoteObjects = (src: StorageSource): string[][] => prepared.get(src)?.objects ?? [];

/** qemuBlockStorageSourceBuildJSONSocketAddress */
function socketAddress(h: NetHost): Record<string, unknown> {
  if (h.transport === 'tcp') return { type: 'inet', host: h.name, port: String(h.port) };
  if (h.transport === 'unix') return { type: 'unix', path: h.socket };
  throw internalError(`transport protocol '${h.transport}' is not yet supported`);
}

/** qemuBlockStorageSourceBuildJSONInetSocketAddress */
function inetAddress(h: NetHost): Record<string, unknown> {
  if (h.transport !== 'tcp') throw internalError('only TCP protocol can be converted to InetSocketAddress');
  return { host: h.name, port: String(h.port) };
}

function oneHost(net: NetSource, label: string): NetHost {
  if (net.hosts.length !== 1) throw internalError(`${label} accepts only one host`);
  return net.hosts[0]!;
}

/** xmlSaveUri's escaping of a path: unreserved characters and /;@&=+$, stay */
const uriPath = (p: string) =>
  Array.from(Buffer.from(p, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-_.!~*'()/;@&=+$,]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

/** qemuBlockStorageSourceGetURI + virURIFormat (tcp only) */
function curlUrl(net: NetSource): string {
  if (net.hosts.length !== 1) throw internalError(`protocol '${net.protocol}' accepts only one host`);
  const h = net.hosts[0]!;
  if (h.transport !== 'tcp') throw notImplemented(`a '${h.transport}' transport for protocol '${net.protocol}'`);
  if (!/^[A-Za-z0-9.\-_:]*$/.test(h.name!)) throw notImplemented(`a host name with characters a URI escapes ('${h.name}')`);
  const server = h.name!.includes(':') ? `[${h.name}]` : h.name!;
  let path = '';
  if (net.path !== undefined) path = net.volume !== undefined ? `/${net.volume}/${net.path}` : `${net.path.startsWith('/') ? '' : '/'}${net.path}`;
  return `${net.protocol}://${server}${h.port ? `:${h.port}` : ''}${uriPath(path)}${net.query !== undefined ? `?${net.query}` : ''}`;
}

/** qemuBlockStorageSourceGetRBDProps: librbd's own LUKS encryption */
function rbdEncryption(src: StorageSource): Record<string, unknown> {
  const enc = src.encryption;
  if (enc?.engine !== 'librbd') return {};
  if (enc.format !== 'luks' && enc.format !== 'luks2') throw internalError(`librbd encryption format '${enc.format}' has no -blockdev form`);
  return { encrypt: { format: enc.format, 'key-secret': encryptionSecretId(src) } };
}

/** qemuBlockStorageSourceGetBackendProps for network and NVMe sources: the driver and
 *  the protocol's properties (the caller adds node-name, cache and the rest) */
export function remoteStorageProps(src: StorageSource): Record<string, unknown> {
  const prep = prepared.get(src);
  if (!prep) throw internalError('a network source reached the command line unprepared');
  if (src.nvme) {
    // (libvirt's JSON writer prints the unsigned namespace as a signed 64-bit number)
    const ns = BigInt.asIntN(64, src.nvme.namespace);
    if (ns > BigInt(Number.MAX_SAFE_INTEGER) || ns < BigInt(Number.MIN_SAFE_INTEGER)) throw notImplemented('an NVMe namespace beyond 2^53 on a command line');
    return { driver: 'nvme', device: pciString(src.nvme.address), namespace: Number(ns) };
  }
  const net = src.net;
  if (!net) throw internalError(`unable to create blockdev props for ${src.type} disk type`);
  const user = src.auth?.username;
  switch (net.protocol) {
    case 'gluster':
      return { driver: 'gluster', volume: net.volume, path: net.path, server: net.hosts.map(socketAddress), debug: 4 };
    case 'http':
    case 'https':
    case 'ftp':
    case 'ftps':
      return {
        driver: net.protocol, url: curlUrl(net), ...(user !== undefined ? { username: user, 'password-secret': prep.authSecret } : {}),
        ...(net.sslVerify ? { sslverify: net.sslVerify === 'yes' } : {}), ...(prep.cookieSecret ? { 'cookie-secret': prep.cookieSecret } : {}),
        ...(net.timeout ? { timeout: net.timeout } : {}), ...(net.readahead ? { readahead: net.readahead } : {}),
      };
    case 'iscsi': {
      const h = net.hosts[0];
      if (!h) throw notImplemented("an iSCSI <source> without a <host>");
      const path = net.path!;
      const slash = path.indexOf('/');
      const target = slash < 0 ? path : path.slice(0, slash);
      let lun = 0;
      if (slash >= 0) {
        const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(path.slice(slash + 1));
        if (!m || Number(m[1]) > 4294967295) throw internalError(`cannot parse target for lunStr '${target}'`);
        lun = Number(m[1]);
      }
      // virSocketAddrNumericFamily: a numeric IPv6 address gets brackets
      const portal = h.name!.includes(':') && /^[0-9a-fA-F:.]+$/.test(h.name!) ? `[${h.name}]:${h.port}` : `${h.name}:${h.port}`;
      return {
        driver: 'iscsi', portal, target, lun, transport: 'tcp', ...(user !== undefined ? { user, 'password-secret': prep.authSecret } : {}),
        ...(net.initiatorIqn !== undefined ? { 'initiator-name': net.initiatorIqn } : {}),
      };
    }
    case 'nbd': {
      const h = oneHost(net, 'nbd protocol');
      return {
        driver: 'nbd', server: socketAddress(h), ...(net.path !== undefined ? { export: net.path } : {}), ...(prep.tlsAlias ? { 'tls-creds': prep.tlsAlias } : {}),
        ...(net.tlsHostname !== undefined ? { 'tls-hostname': net.tlsHostname } : {}),
      };
    }
    case 'rbd':
      return {
        driver: 'rbd', pool: net.volume, image: net.path, ...(net.snapshot !== undefined ? { snapshot: net.snapshot } : {}), ...(net.configFile !== undefined ? { conf: net.configFile } : {}),
        ...(net.hosts.length ? { server: net.hosts.map(inetAddress) } : {}),
        ...rbdEncryption(src),
        ...(src.auth ? { user, 'auth-client-required': ['cephx', 'none'], 'key-secret': prep.authSecret } : {}),
      };
    case 'sheepdog':
      return { driver: 'sheepdog', server: socketAddress(oneHost(net, 'sheepdog protocol')), vdi: net.path };
    case 'ssh':
      return { driver: 'ssh', path: net.path, server: inetAddress(oneHost(net, 'ssh protocol')), ...(user !== undefined ? { user } : {}) };
    case 'nfs':
      return {
        driver: 'nfs', server: { host: net.hosts[0]!.name, type: 'inet' }, ...(net.path !== undefined ? { path: net.path } : {}),
        ...(prep.nfsUid !== undefined ? { user: prep.nfsUid } : {}), ...(prep.nfsGid !== undefined ? { group: prep.nfsGid } : {}),
      };
    case 'vxhs':
    case 'tftp':
      // refused before: QEMU 7.2 and later have neither
      throw internalError(`protocol '${net.protocol}' has no -blockdev here`);
  }
}
