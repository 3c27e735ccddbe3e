// virDomainNetDefParseXML: <interface> → NetDef, in libvirt's order of reading (the first
// error libvirt meets is the one reported). type='hostdev' keeps its own path (its VFIO
// backend is a hostdev of the domain too).
import { notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import { deterministicMac, parseUuid } from '../domain/ids.js';
import { propEnum, propInt, propOnOff, propUInt, propYesNo, required } from '../xml/props.js';
import { child, elements, textOf, type XElement } from '../xml/tree.js';
import { parseBackend, parseManaged, type HostdevDef } from './hostdev.js';
import { hex, parseDeviceInfo } from './info.js';
import { parseIps, parsePortForwards } from './net-ip.js';
import { parseBandwidth, parseFilterRef, parseVlan } from './net-qos.js';
import type { ParseContext } from './kind.js';
import {
  GUEST_OFFLOADS, HOST_OFFLOADS, isVirtioModel, MACVLAN_MODES, NET_MODELS, NET_TYPES,
  type NetDef, type NetSource, type NetVirtioDriver, type VirtioOptions,
} from './net-def.js';

const MAC_RE = /^([0-9a-fA-F]{1,2}[:-]){5}[0-9a-fA-F]{1,2}$/;
const UINT_MAX = 4294967295;

/** XPath string(./NAME/@ATTR): the attribute of the first such child that has it; an
 *  empty value counts as none (virXPathString). */
function xstr(e: XElement, name: string, attr: string): string | undefined {
  for (const c of elements(e, name)) {
    const v = c.attrs[attr];
    if (v !== undefined) return v === '' ? undefined : v;
  }
  return undefined;
}

/** virMacAddrParse + the unicast check */
export function parseMac(raw: string): string {
  if (!MAC_RE.test(raw)) throw xmlError(`unable to parse mac address '${raw}'`);
  const bytes = raw.split(/[:-]/).map((b) => parseInt(b, 16));
  if (bytes[0]! & 1) throw xmlError(`expected unicast mac address, found multicast '${raw}'`);
  return bytes.map((b) => hex(b, 2)).join(':');
}

/** virDomainNetSetModelString */
function parseModel(raw: string): string | undefined {
  const known = NET_MODELS.find((m) => m.toLowerCase() === raw.toLowerCase());
  // 'unknown' is the enum's 0: the same as no model
  if (known !== undefined) return known === 'unknown' ? undefined : known;
  if (!/^[A-Za-z0-9_-]*$/.test(raw)) throw new TranslationError('invalid argument', 'Model name contains invalid characters');
  return raw;
}

/** virDomainNetDefParseXMLRequireSource */
function requireSource(type: string, source: XElement | undefined): XElement {
  if (!source) throw xmlError(`interface type='${type}' requires a 'source' element`);
  return source;
}

const HOSTDEV_NOT_IMPLEMENTED = [
  'target', 'model', 'vlan', 'virtualport', 'link', 'mtu', 'coalesce', 'teaming', 'bandwidth', 'filterref',
  'ip', 'route', 'script', 'backenddomain', 'guest', 'tune', 'backend', 'port', 'downscript', 'portOptions',
];

/** type='hostdev' (virtgold's first interface type, kept as it was). */
function parseHostdevNet(e: XElement, mac: Pick<NetDef, 'mac' | 'macType' | 'macCheck'>, def: ParseContext['def']): NetDef {
  const what = "<interface type='hostdev'>";
  for (const c of elements(e)) if (HOSTDEV_NOT_IMPLEMENTED.includes(c.name)) throw notImplemented(`<${c.name}> in ${what}`);
  const hostdev: HostdevDef = {
    managed: parseManaged(e), ...parseBackend(e, what, true), info: parseDeviceInfo(e, what, true), parentNet: true,
  };
  def.devices.hostdev.push(hostdev); // virDomainHostdevInsert, as libvirt's parser does
  return { type: 'hostdev', ...mac, source: { kind: 'none' }, info: hostdev.info, hostdev };
}

function parseMacElement(e: XElement, ctx: ParseContext): Pick<NetDef, 'mac' | 'macType' | 'macCheck'> {
  const macEl = child(e, 'mac');
  const raw = macEl?.attrs.address;
  const out: Pick<NetDef, 'mac' | 'macType' | 'macCheck'> = { mac: '' };
  if (raw !== undefined) out.mac = parseMac(raw);
  if (macEl) {
    const type = propEnum(macEl, 'type', ['', 'generated', 'static'] as const, { nonZero: true });
    if (type) out.macType = type as 'generated' | 'static';
    const check = propYesNo(macEl, 'check');
    if (check) out.macCheck = check;
  }
  // libvirt picks a random 52:54:00 address; virtgold derives one from the domain name
  // and the interface's position.
  if (raw === undefined) out.mac = deterministicMac(`${ctx.def.name}/${ctx.index}`);
  return out;
}

function parseSource(type: NetDef['type'], source: XElement | undefined): NetSource {
  switch (type) {
    case 'network': {
      const s = requireSource(type, source);
      const out: NetSource = { kind: 'network', network: required(s, 'network') };
      if (s.attrs.portgroup !== undefined) out.portgroup = s.attrs.portgroup;
      return out;
    }
    case 'vds': {
      const s = requireSource(type, source);
      const raw = required(s, 'switchid');
      const switchId = parseUuid(raw);
      if (!switchId) throw xmlError(`Invalid value for attribute 'switchid' in element 'source': '${raw}'. Expected UUID`);
      const portId = propLongLong(s, 'portid');
      const portgroupId = required(s, 'portgroupid');
      return { kind: 'vds', switchId, portId, portgroupId, connectionId: propLongLong(s, 'connectionid') };
    }
    case 'internal':
      return { kind: 'internal', name: required(requireSource(type, source), 'name') };
    case 'bridge':
      return { kind: 'bridge', bridge: required(requireSource(type, source), 'bridge') };
    case 'direct': {
      const s = requireSource(type, source);
      const dev = required(s, 'dev');
      return { kind: 'direct', dev, mode: propEnum(s, 'mode', MACVLAN_MODES) ?? 'vepa' };
    }
    case 'vhostuser': {
      const s = requireSource(type, source);
      const stype = required(s, 'type');
      if (stype !== 'unix') throw unsupportedConfig(`Type='${stype}' unsupported for <interface type='vhostuser'>`);
      const path = required(s, 'path');
      required(s, 'mode');
      const mode = propEnum(s, 'mode', ['', 'client', 'server'] as const, { nonZero: true }) as 'client' | 'server';
      const out: NetSource = { kind: 'vhostuser', path, mode };
      // virDomainChrSourceReconnectDefParseXML
      const r = child(s, 'reconnect');
      const enabled = r && propYesNo(r, 'enabled');
      if (r && enabled) {
        if (enabled === 'yes') {
          if (r.attrs.timeout === undefined) required(r, 'timeout');
          out.reconnect = { enabled, timeout: propUInt(r, 'timeout')! };
        } else out.reconnect = { enabled };
      }
      return out;
    }
    case 'vdpa':
      return { kind: 'vdpa', dev: required(requireSource(type, source), 'dev') };
    case 'client': case 'server': case 'mcast': case 'udp': {
      const s = requireSource(type, source);
      const address = type === 'server' ? s.attrs.address : required(s, 'address');
      if (s.attrs.port === undefined) required(s, 'port');
      const out: NetSource = { kind: 'socket', port: propInt(s, 'port')! };
      if (address !== undefined) out.address = address;
      if (type === 'udp') {
        const local = child(s, 'local');
        if (!local) throw xmlError("'<local>' element missing for 'udp' socket interface");
        const laddr = required(local, 'address');
        if (local.attrs.port === undefined) required(local, 'port');
        out.local = { address: laddr, port: propInt(local, 'port')! };
      }
      return out;
    }
    default:
      return { kind: 'none' };
  }
}

/** virXMLPropLongLong, base 0, required */
function propLongLong(e: XElement, attr: string): bigint {
  const raw = required(e, attr);
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(raw);
  let v: bigint | undefined;
  if (m) {
    const digits = m[2]!;
    const n = /^0[xX]/.test(digits) ? BigInt(digits) : /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
    v = m[1] === '-' ? -n : n;
    if (v > 0x7fffffffffffffffn || v < -0x8000000000000000n) v = undefined;
  }
  if (v === undefined) throw xmlError(`Invalid value for attribute '${attr}' in element '${e.name}': '${raw}'. Expected long long integer value`);
  return v;
}

/** virDomainVirtioOptionsParseXML */
function parseVirtioOptions(d: XElement): VirtioOptions | undefined {
  const v: VirtioOptions = {};
  for (const [k, a] of [['iommu', 'iommu'], ['ats', 'ats'], ['packed', 'packed'], ['pagePerVq', 'page_per_vq']] as const) {
    const x = propOnOff(d, a);
    if (x) v[k] = x;
  }
  return Object.keys(v).length ? v : undefined;
}

/** virDomainNetDefParseXMLDriver's virtio-net part */
function parseVirtioDriver(d: XElement): NetVirtioDriver {
  const out: NetVirtioDriver = { host: {}, guest: {} };
  const name = propEnum(d, 'name', ['default', 'qemu', 'vhost'] as const, { nonZero: true });
  if (name) out.name = name as 'qemu' | 'vhost';
  const txmode = propEnum(d, 'txmode', ['default', 'iothread', 'timer'] as const, { nonZero: true });
  if (txmode) out.txmode = txmode as 'iothread' | 'timer';
  const set = <K extends 'ioeventfd' | 'eventIdx' | 'rss' | 'rssHashReport'>(k: K, a: string) => {
    const v = propOnOff(d, a);
    if (v) out[k] = v;
  };
  set('ioeventfd', 'ioeventfd');
  set('eventIdx', 'event_idx');
  const queues = propUInt(d, 'queues');
  if (queues && queues !== 1) out.queues = queues; // one queue there always is
  const rx = propUInt(d, 'rx_queue_size');
  if (rx) out.rxQueueSize = rx;
  const tx = propUInt(d, 'tx_queue_size');
  if (tx) out.txQueueSize = tx;
  set('rss', 'rss');
  set('rssHashReport', 'rss_hash_report');
  const host = child(d, 'host');
  if (host) for (const k of HOST_OFFLOADS) { const v = propOnOff(host, k); if (v) out.host[k] = v; }
  const guest = child(d, 'guest');
  if (guest) for (const k of GUEST_OFFLOADS) { const v = propOnOff(guest, k); if (v) out.guest[k] = v; }
  return out;
}

/** virFileSanitizePath: no doubled or trailing slashes (a lone '/' stays) */
const sanitizePath = (p: string) => {
  const s = p.replace(/\/{2,}/g, '/');
  return s.length > 1 ? s.replace(/\/$/, '') : s;
};

/** virXPathUInt-style number of an element's text or attribute: undefined when absent,
 *  'bad' when it is not an unsigned number of 32 bits. */
function uintOf(raw: string | undefined): number | 'bad' | undefined {
  if (raw === undefined) return undefined;
  const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(raw);
  if (!m) {
    // strtoul would take '-N' as its two's complement: not worth imitating
    if (/^[ \t\n\v\f\r]*-\d+$/.test(raw)) throw notImplemented(`a negative number ('${raw}') in <interface>`);
    return 'bad';
  }
  const n = Number(m[1]);
  return n <= UINT_MAX ? n : 'bad';
}

export function parseNet(e: XElement, ctx: ParseContext): NetDef {
  const type = propEnum(e, 'type', NET_TYPES) ?? 'user';
  const trust = propYesNo(e, 'trustGuestRxFilters');
  const modelRaw = xstr(e, 'model', 'type');
  const model = modelRaw !== undefined ? parseModel(modelRaw) : undefined;
  const sourceEl = child(e, 'source');
  const hostIps = sourceEl ? parseIps(sourceEl, 'interface host IP') : [];
  if (type === 'hostdev') {
    if (trust) throw notImplemented("trustGuestRxFilters on <interface type='hostdev'>");
    if (child(e, 'port')) throw notImplemented("<port> in <interface type='hostdev'>");
    if (hostIps.length) throw notImplemented("<ip> in <interface type='hostdev'><source>");
    return parseHostdevNet(e, parseMacElement(e, ctx), ctx.def);
  }
  const source = parseSource(type, sourceEl);
  const net: NetDef = { type, mac: '', source, info: {} };
  if (hostIps.length) net.hostIps = hostIps;
  if (trust) net.trustGuestRxFilters = trust;
  if (model !== undefined) net.model = model;

  const vport = child(e, 'virtualport');
  if (vport) {
    if (!['network', 'bridge', 'direct', 'hostdev'].includes(type)) {
      throw unsupportedConfig(`<virtualport> element unsupported for <interface type='${type}'>`);
    }
    throw notImplemented('<virtualport> in <interface>');
  }
  const target = child(e, 'target');
  if (target) {
    net.target = {};
    if (target.attrs.dev !== undefined) net.target.dev = target.attrs.dev;
    const managed = propYesNo(target, 'managed');
    if (managed) net.target.managed = managed;
  }
  const gdev = xstr(e, 'guest', 'dev');
  const gactual = xstr(e, 'guest', 'actual');
  if (gdev !== undefined || gactual !== undefined) net.guest = { ...(gdev !== undefined ? { dev: gdev } : {}), ...(gactual !== undefined ? { actual: gactual } : {}) };
  const link = xstr(e, 'link', 'state');
  const script = xstr(e, 'script', 'path');
  if (script !== undefined) net.script = script;
  const downscript = xstr(e, 'downscript', 'path');
  if (downscript !== undefined) net.downscript = downscript;
  const backendDomain = xstr(e, 'backenddomain', 'name');
  if (backendDomain !== undefined) net.backendDomain = backendDomain;
  // <filterref> is read for network, bridge and ethernet only (ignored on the others)
  const fref = child(e, 'filterref');
  const filterRef = fref && ['network', 'bridge', 'ethernet'].includes(type) ? parseFilterRef(fref) : undefined;
  if (filterRef) net.filterRef = filterRef;
  const bw = child(e, 'bandwidth');
  const bandwidth = bw && parseBandwidth(bw, type === 'network');
  if (bandwidth) net.bandwidth = bandwidth;
  const vlan = child(e, 'vlan');
  if (vlan) net.vlan = parseVlan(vlan);

  Object.assign(net, parseMacElement(e, ctx));
  net.info = parseDeviceInfo(e, `<interface type='${type}'>`, true);
  const guestIps = parseIps(e, 'guest interface');
  if (guestIps.length) net.guestIps = guestIps;
  const pfs = parsePortForwards(e);
  if (pfs.length) net.portForwards = pfs;

  // An auto-generated target name (vnet*, macvtap*, macvlan*) is not kept in inactive XML.
  const dev = net.target?.dev;
  if (net.target && dev !== undefined && net.target.managed !== 'no' && /^(vnet|macvtap|macvlan)/.test(dev)) delete net.target.dev;

  const driver = child(e, 'driver');
  if (driver) {
    const v = parseVirtioOptions(driver);
    if (v) net.virtio = v;
    if (isVirtioModel(net)) net.driver = parseVirtioDriver(driver);
  }
  const backend = child(e, 'backend');
  if (backend) {
    const btype = propEnum(backend, 'type', ['default', 'passt'] as const, { nonZero: true });
    if (btype === 'passt') throw xmlError("Invalid value for attribute 'type' in element 'backend': 'passt'.");
    const b: NonNullable<NetDef['backend']> = {};
    if (backend.attrs.tap !== undefined) b.tap = sanitizePath(backend.attrs.tap);
    if (backend.attrs.vhost !== undefined && isVirtioModel(net)) b.vhost = sanitizePath(backend.attrs.vhost);
    if (backend.attrs.logFile !== undefined) b.logFile = backend.attrs.logFile;
    net.backend = b;
  }
  if (link !== undefined) {
    if (link !== 'up' && link !== 'down') throw unsupportedConfig(`unknown interface link state '${link}'`);
    net.linkState = link;
  }
  const tType = xstr(e, 'teaming', 'type');
  const tPersistent = xstr(e, 'teaming', 'persistent');
  if (tType !== undefined || tPersistent !== undefined) {
    if (tType !== 'persistent' && tType !== 'transient') throw unsupportedConfig(`unknown teaming type '${tType ?? '(null)'}'`);
    net.teaming = { type: tType, ...(tPersistent !== undefined ? { persistent: tPersistent } : {}) };
  }
  const sndbufEl = child(e, 'tune') && child(child(e, 'tune')!, 'sndbuf');
  if (sndbufEl) {
    const t = textOf(sndbufEl);
    if (t !== '') {
      const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(t);
      if (!m || BigInt(m[1]!) > 0xffffffffffffffffn) throw xmlError('sndbuf must be a positive integer');
      net.sndbuf = BigInt(m[1]!);
    }
  }
  const mtu = uintOf(xstr(e, 'mtu', 'size'));
  if (mtu === 'bad') throw xmlError('malformed mtu size');
  if (mtu) net.mtu = mtu;
  const coalesce = child(e, 'coalesce');
  if (coalesce) {
    const rx = child(coalesce, 'rx');
    const raw = rx && xstr(rx, 'frames', 'max');
    if (raw !== undefined) {
      const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(raw);
      if (!m) throw new TranslationError('bare', `cannot parse value '${raw}' for coalesce parameter`);
      const n = BigInt(m[1]!);
      if (n > BigInt(UINT_MAX)) {
        if (n > 0xffffffffffffffffn) throw new TranslationError('bare', `cannot parse value '${raw}' for coalesce parameter`);
        throw new TranslationError('bare', `numerical overflow: value '${n}' is too big for coalesce parameter, maximum is '${UINT_MAX}'`);
      }
      if (n > 0n) net.coalesceRxFrames = Number(n);
    }
  }
  const port = child(e, 'port');
  const isolated = port && propYesNo(port, 'isolated');
  if (isolated) net.isolatedPort = isolated;
  // (<actual> is status XML: inactive XML ignores it)
  return net;
}
