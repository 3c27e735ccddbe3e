// Disk sources that are not a local path (libvirt's virStorageSource of type network,
// volume, nvme and vhostuser) and a source's <auth>: parsed, post-parsed and formatted
// as domain_conf.c and storage_source_conf.c do. The QEMU side is blockdev/net.ts.
import { notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { PciHostAddress } from '../model.js';
import { propEnum } from '../xml/props.js';
import { child, elements, escapeXml, textOf, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { parsePciAddress, pciAttrs } from './info.js';
import { parseDeviceSecLabels, type DeviceSecLabel } from './disk-seclabel.js';

/** virStorageNetProtocol, without 'none' */
export const PROTOCOLS = ['nbd', 'rbd', 'sheepdog', 'gluster', 'iscsi', 'http', 'https', 'ftp', 'ftps', 'tftp', 'ssh', 'vxhs', 'nfs'] as const;
export type NetProtocol = (typeof PROTOCOLS)[number];

export interface NetHost {
  /** libvirt writes it back unless it is tcp */
  transport: 'tcp' | 'unix' | 'rdma';
  /** not read for a unix socket */
  name?: string;
  /** 0: none (rbd and nfs have no default) */
  port: number;
  socket?: string;
}

export interface NetSource {
  protocol: NetProtocol;
  /** the image: the part after the first '/' for gluster and rbd, whose part before it is `volume` */
  path?: string;
  volume?: string;
  query?: string;
  tls?: 'yes' | 'no';
  tlsHostname?: string;
  hosts: NetHost[];
  nfsUser?: string;
  nfsGroup?: string;
  snapshot?: string;
  configFile?: string;
  initiatorIqn?: string;
  sslVerify?: 'yes' | 'no';
  /** <cookies> (http and https) */
  cookies?: { name: string; value: string }[];
  readahead?: number;
  timeout?: number;
}

/** <auth> (virStorageAuthDef) and its <secret> (virSecretLookupTypeDef) */
export interface AuthDef {
  username: string;
  authType?: 'chap' | 'ceph';
  secretType?: string;
  uuid?: string;
  usage?: string;
}

export interface NvmeSource {
  managed?: 'yes' | 'no';
  /** an unsigned 64-bit number (virStrToLong_ull: a negative one wraps) */
  namespace: bigint;
  address: PciHostAddress;
}

export interface VhostUserSource {
  path: string;
  reconnect?: { enabled: 'yes' | 'no'; timeout?: number };
}

export interface PoolSource {
  pool: string;
  volume: string;
  mode?: 'host' | 'direct';
}

/** The parts of a virStorageSource this module owns; disk-source.ts spreads them into its own. */
export interface RemoteParts {
  net?: NetSource;
  nvme?: NvmeSource;
  vhostuser?: VhostUserSource;
  pool?: PoolSource;
  /** <seclabel> overrides in the source (parsed for every type, written back for all but network) */
  seclabels?: DeviceSecLabel[];
}

/** Source children libvirt knows but virtgold does not implement for these types yet. */
const REFUSED_CHILDREN = ['reservations', 'privateData'];

const DEFAULT_PORT: Record<NetProtocol, number> = {
  http: 80, https: 443, ftp: 21, ftps: 990, tftp: 69, sheepdog: 7000, nbd: 10809, ssh: 22, iscsi: 3260, gluster: 24007, rbd: 0, vxhs: 9999, nfs: 0,
};

/** virStringParsePort */
function parsePort(v: string): number {
  const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(v);
  if (!m || Number(m[1]) > 4294967295) throw new TranslationError('invalid argument', `failed to parse port number '${v}'`);
  const p = Number(m[1]);
  if (p > 65535) throw new TranslationError('invalid argument', `port '${v}' out of range`);
  return p;
}

/** virStrToLong_ull (not _ullp: units.ts strToULL): blanks, a sign (a negative value wraps), decimal digits;
 *  undefined when the text is no number */
function strToULLWrapping(v: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(v);
  if (!m) return undefined;
  const n = BigInt(m[2]!);
  if (n > 0xffffffffffffffffn) return undefined;
  return m[1] === '-' && n !== 0n ? 0x10000000000000000n - n : n;
}

/** … as a number: values past 2^53 are not modelled */
function parseULL(v: string, what: string): number | undefined {
  const value = strToULLWrapping(v);
  if (value === undefined) return undefined;
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw notImplemented(`${what} beyond 2^53`);
  return Number(value);
}

/** virDomainStorageNetworkParseHost */
function parseHost(h: XElement): NetHost {
  const transport = h.attrs.transport;
  if (transport !== undefined && !['tcp', 'unix', 'rdma'].includes(transport)) throw unsupportedConfig(`unknown protocol transport type '${transport}'`);
  const t = (transport ?? 'tcp') as NetHost['transport'];
  const socket = h.attrs.socket;
  if (t === 'unix' && socket === undefined) throw xmlError('missing socket for unix transport');
  if (t !== 'unix' && socket !== undefined) throw xmlError(`transport '${transport ?? '(null)'}' does not support socket attribute`);
  const host: NetHost = { transport: t, port: 0 };
  if (t === 'unix') {
    host.socket = socket!;
    return host;
  }
  const name = h.attrs.name;
  if (name === undefined) throw xmlError('missing name for host');
  host.name = name;
  if (h.attrs.port !== undefined) host.port = parsePort(h.attrs.port);
  return host;
}

/** virStorageSourceNetCookieValidate / virStorageSourceNetCookiesValidate (a name
 *  cannot be empty here: the parser already wants one) */
function validateCookies(cookies: { name: string; value: string }[]): void {
  const VALUE_BAD = /[\x01-\x20",;\\]/;
  const NAME_BAD = /[()<>@:/[\]?={}]/;
  cookies.forEach((c, i) => {
    if (VALUE_BAD.test(c.name) || NAME_BAD.test(c.name)) throw xmlError(`cookie name '${c.name}' contains invalid characters`);
    let v = c.value;
    // optional quotes around the value (a lone '"' is both)
    if (v.startsWith('"')) {
      if (!v.endsWith('"')) throw xmlError(`value of cookie '${c.name}' contains invalid characters`);
      v = v.slice(1, -1);
    }
    if (VALUE_BAD.test(v)) throw xmlError(`value of cookie '${c.name}' contains invalid characters`);
    if (cookies.slice(i + 1).some((o) => o.name === c.name)) throw xmlError(`duplicate cookie '${c.name}'`);
  });
}

/** virDomainDiskSourceNetworkParse */
function parseNetwork(s: XElement): NetSource {
  const protocol = s.attrs.protocol;
  if (protocol === undefined) throw xmlError(`Missing required attribute 'protocol' in element 'source'`);
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw xmlError(`Invalid value for attribute 'protocol' in element 'source': '${protocol}'.`);
  const net: NetSource = { protocol: protocol as NetProtocol, hosts: [] };
  let path = s.attrs.name;
  if (path === undefined && protocol !== 'nbd') throw xmlError('missing name for disk source');
  const tls = propEnum(s, 'tls', ['yes', 'no'] as const);
  if (tls) net.tls = tls;
  if (s.attrs.tlsHostname !== undefined) net.tlsHostname = s.attrs.tlsHostname;
  // gluster and rbd keep the volume (pool) and the image in one name
  if (path !== undefined && (protocol === 'gluster' || protocol === 'rbd')) {
    const slash = path.indexOf('/');
    if (slash <= 0) throw xmlError(`can't split path '${path}' into pool name and image name`);
    net.volume = path.slice(0, slash);
    path = path.slice(slash + 1);
  }
  // (virDomainStorageSourceParse drops an empty path)
  if (path === '' && protocol !== 'nbd') throw notImplemented(`an empty image name in <source protocol='${protocol}'>`);
  if (path !== undefined && path !== '') net.path = path;
  const snapshot = child(s, 'snapshot')?.attrs.name;
  if (snapshot) net.snapshot = snapshot;
  const config = child(s, 'config')?.attrs.file;
  if (config) net.configFile = config;
  if ((protocol === 'http' || protocol === 'https') && s.attrs.query !== undefined) net.query = s.attrs.query;
  net.hosts = elements(s, 'host').map(parseHost);
  if (protocol === 'nfs') {
    const id = child(s, 'identity');
    if (id?.attrs.user !== undefined) net.nfsUser = id.attrs.user;
    if (id?.attrs.group !== undefined) net.nfsGroup = id.attrs.group;
  }
  for (const h of net.hosts) if (h.transport === 'tcp' && h.port === 0) h.port = DEFAULT_PORT[net.protocol];
  const iqn = child(child(s, 'initiator') ?? s, 'iqn');
  if (child(s, 'initiator') && iqn?.attrs.name) net.initiatorIqn = iqn.attrs.name;
  const ssl = child(s, 'ssl');
  if ((protocol === 'https' || protocol === 'ftps') && ssl) {
    const v = propEnum(ssl, 'verify', ['yes', 'no'] as const);
    if (v) net.sslVerify = v;
  }
  const cookies = child(s, 'cookies');
  if ((protocol === 'http' || protocol === 'https') && cookies) {
    // virDomainStorageNetCookieParse (virXPathString: empty is missing)
    net.cookies = elements(cookies, 'cookie').map((c) => {
      const name = c.attrs.name ?? '';
      if (name === '') throw xmlError('missing cookie name');
      const value = textOf(c);
      if (value === '') throw xmlError(`missing value for cookie '${name}'`);
      return { name, value };
    });
    validateCookies(net.cookies);
  }
  if (['http', 'https', 'ftp', 'ftps'].includes(protocol)) {
    const ra = child(s, 'readahead')?.attrs.size;
    const to = child(s, 'timeout')?.attrs.seconds;
    const readahead = ra === undefined || ra === '' ? 0 : parseULL(ra, '<readahead size>');
    const timeout = to === undefined || to === '' ? 0 : parseULL(to, '<timeout seconds>');
    if (readahead === undefined || timeout === undefined) throw xmlError('invalid readahead size or timeout');
    if (readahead) net.readahead = readahead;
    if (timeout) net.timeout = timeout;
  }
  return net;
}

/** virDomainDiskSourceNVMeParse */
function parseNvme(s: XElement): NvmeSource {
  const type = s.attrs.type;
  if (type === undefined) throw xmlError("missing 'type' attribute to disk source");
  if (type !== 'pci') throw xmlError(`unsupported source type '${type}'`);
  const ns = s.attrs.namespace;
  if (ns === undefined) throw xmlError("missing 'namespace' attribute to disk source");
  const namespace = strToULLWrapping(ns);
  if (namespace === undefined) throw xmlError(`malformed namespace '${ns}'`);
  const managed = propEnum(s, 'managed', ['yes', 'no'] as const);
  const address = child(s, 'address');
  if (!address) throw xmlError('NVMe disk source is missing address');
  return { ...(managed ? { managed } : {}), namespace, address: parsePciAddress(address) };
}

/** virDomainDiskSourceVHostUserParse */
function parseVhostUser(s: XElement): VhostUserSource {
  const type = s.attrs.type;
  if (type === undefined) throw xmlError("missing 'type' attribute for vhostuser disk source");
  if (type !== 'unix') throw xmlError("invalid 'type' attribute for vhostuser disk source");
  const path = s.attrs.path;
  if (path === undefined) throw xmlError("missing 'path' attribute for vhostuser disk source");
  const out: VhostUserSource = { path };
  const r = child(s, 'reconnect');
  if (r) {
    const enabled = propEnum(r, 'enabled', ['yes', 'no'] as const);
    if (enabled === 'yes') {
      const t = r.attrs.timeout;
      if (t === undefined) throw xmlError("Missing required attribute 'timeout' in element 'reconnect'");
      const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(t);
      if (!m || Number(m[1]) > 4294967295) throw xmlError(`Invalid value for attribute 'timeout' in element 'reconnect': '${t}'. Expected non-negative integer value`);
      out.reconnect = { enabled, timeout: Number(m[1]) };
    } else if (enabled) {
      out.reconnect = { enabled };
    }
  }
  return out;
}

/** virDomainDiskSourcePoolDefParse; undefined: no pool given (an empty CD-ROM) */
function parsePool(s: XElement): PoolSource | undefined {
  const { pool, volume, mode } = s.attrs;
  if (pool === undefined && volume === undefined) return undefined;
  if (pool === undefined || volume === undefined) throw xmlError("'pool' and 'volume' must be specified together for 'pool' type source");
  if (mode !== undefined && mode !== 'host' && mode !== 'direct') throw unsupportedConfig(`unknown source mode '${mode}' for volume type disk`);
  return { pool, volume, ...(mode ? { mode } : {}) };
}

export type RemoteType = 'network' | 'volume' | 'nvme' | 'vhostuser';
export const isRemoteType = (t: string): t is RemoteType => t === 'network' || t === 'volume' || t === 'nvme' || t === 'vhostuser';

/** virDomainStorageSourceParse for the types this module owns; `path` is what libvirt
 *  keeps in src->path (the image of a network source) */
export function parseRemoteSource(s: XElement, type: RemoteType): RemoteParts & { path?: string } {
  for (const c of elements(s)) if (REFUSED_CHILDREN.includes(c.name)) throw notImplemented(`<${c.name}> in a <disk type='${type}'> source`);
  const labels = parseDeviceSecLabels(s);
  const seclabels = labels.length ? { seclabels: labels } : {};
  switch (type) {
    case 'network': {
      const net = parseNetwork(s);
      return { net, ...(net.path !== undefined ? { path: net.path } : {}), ...seclabels };
    }
    case 'nvme':
      return { nvme: parseNvme(s), ...seclabels };
    case 'vhostuser':
      return { vhostuser: parseVhostUser(s), ...seclabels };
    case 'volume': {
      const pool = parsePool(s);
      return { ...(pool ? { pool } : {}), ...seclabels };
    }
  }
}

/** virStorageAuthDefParse (+ virSecretLookupParseSecret) */
export function parseAuth(a: XElement): AuthDef {
  const username = a.attrs.username;
  if (!username) throw xmlError('missing username for auth');
  const auth: AuthDef = { username };
  const type = a.attrs.type;
  // (an empty type is none, as virXPathString reads it; 'none' is a valid type)
  if (type !== undefined && type !== '') {
    if (type !== 'none' && type !== 'chap' && type !== 'ceph') throw unsupportedConfig(`unknown auth type '${type}'`);
    if (type !== 'none') auth.authType = type;
  }
  const secret = child(a, 'secret');
  if (!secret) throw xmlError('Missing <secret> element in auth');
  if (secret.attrs.type !== undefined) auth.secretType = secret.attrs.type;
  const { uuid, usage } = secret.attrs;
  if (uuid === undefined && usage === undefined) throw xmlError('missing secret uuid or usage attribute');
  if (uuid !== undefined && usage !== undefined) throw xmlError('either secret uuid or usage expected');
  if (uuid !== undefined) {
    const canon = parseUuid(uuid);
    if (!canon) throw xmlError(`invalid secret uuid '${uuid}'`);
    auth.uuid = canon;
  } else {
    auth.usage = usage!;
  }
  return auth;
}

/** virUUIDParse: 32 hex digits in pairs, '-' and ' ' anywhere between pairs, blanks around */
function parseUuid(s: string): string | undefined {
  const m = /^[ \t\n\v\f\r]*((?:[- ]*[0-9a-fA-F]{2}){16})[ \t\n\v\f\r]*$/.exec(s);
  if (!m) return undefined;
  const hex = m[1]!.replace(/[- ]/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** virStorageAuthDefFormat */
export function formatAuth(w: Writer, a: AuthDef): void {
  w.open(`<auth${attr('type', a.authType)}${attr('username', a.username)}>`);
  const lookup = a.uuid !== undefined ? ` uuid='${a.uuid}'` : attr('usage', a.usage);
  w.line(`<secret${attr('type', a.secretType)}${lookup}/>`);
  w.close('</auth>');
}

/** virDomainDiskSourceFormat's attributes and own children for these types (the caller
 *  adds startupPolicy, the security labels and the auth) */
export function remoteSourceParts(p: RemoteParts): { attrs: string; children: (w: Writer) => void } {
  if (p.net) {
    const n = p.net;
    const name = n.volume !== undefined ? `${n.volume}/${n.path ?? ''}` : n.path;
    const attrs = `${attr('protocol', n.protocol)}${attr('name', name)}${attr('query', n.query)}${attr('tls', n.tls)}${attr('tlsHostname', n.tlsHostname)}`;
    return {
      attrs,
      children: (w) => {
        for (const h of n.hosts) {
          w.line(`<host${attr('name', h.name)}${h.port ? ` port='${h.port}'` : ''}${h.transport !== 'tcp' ? ` transport='${h.transport}'` : ''}${attr('socket', h.socket)}/>`);
        }
        if (n.protocol === 'nfs' && (n.nfsUser !== undefined || n.nfsGroup !== undefined)) w.line(`<identity${attr('user', n.nfsUser)}${attr('group', n.nfsGroup)}/>`);
        if (n.snapshot !== undefined) w.line(`<snapshot${attr('name', n.snapshot)}/>`);
        if (n.configFile !== undefined) w.line(`<config${attr('file', n.configFile)}/>`);
        if (n.initiatorIqn !== undefined) {
          w.open('<initiator>');
          w.line(`<iqn${attr('name', n.initiatorIqn)}/>`);
          w.close('</initiator>');
        }
        if (n.sslVerify) w.line(`<ssl verify='${n.sslVerify}'/>`);
        if (n.cookies?.length) {
          w.open('<cookies>');
          for (const c of n.cookies) w.line(`<cookie${attr('name', c.name)}>${escapeXml(c.value)}</cookie>`);
          w.close('</cookies>');
        }
        if (n.readahead) w.line(`<readahead size='${n.readahead}'/>`);
        if (n.timeout) w.line(`<timeout seconds='${n.timeout}'/>`);
      },
    };
  }
  if (p.nvme) {
    const v = p.nvme;
    return {
      attrs: ` type='pci'${attr('managed', v.managed)} namespace='${v.namespace}'`,
      children: (w) => w.line(`<address ${pciAttrs(v.address)}/>`),
    };
  }
  if (p.vhostuser) {
    const v = p.vhostuser;
    const r = v.reconnect;
    return {
      attrs: ` type='unix' path='${v.path}'`,
      children: (w) => {
        if (r) w.line(`<reconnect enabled='${r.enabled}'${r.enabled === 'yes' ? ` timeout='${r.timeout}'` : ''}/>`);
      },
    };
  }
  const pool = p.pool;
  return { attrs: pool ? `${attr('pool', pool.pool)}${attr('volume', pool.volume)}${attr('mode', pool.mode)}` : '', children: () => {} };
}

/** virDomainDiskDefPostParse for these types: an iSCSI target without a LUN is LUN 0; a
 *  managed NVMe controller unless the XML says otherwise. Only the disk's own source. */
export function postParseRemote(p: RemoteParts & { path?: string }): void {
  if (p.net?.protocol === 'iscsi' && p.net.path !== undefined && !p.net.path.includes('/')) {
    p.net.path += '/0';
    p.path = p.net.path;
  }
  if (p.nvme) p.nvme.managed ??= 'yes';
}
