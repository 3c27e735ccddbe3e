// IP addresses of an <interface>: <ip> (guest side, and host side in <source>) and
// <portForward>. libvirt parses addresses with getaddrinfo(AI_NUMERICHOST) and writes them
// back with getnameinfo (glibc's inet_ntop): canonical forms. Forms whose reading depends
// on glibc's number parser (IPv4 shorthands, octal or hex parts, IPv6 with a zone or an
// embedded dotted quad) are refused rather than guessed.
import { notImplemented, TranslationError, xmlError } from '../errors.js';
import { propEnum, propUInt, propYesNo } from '../xml/props.js';
import { elements, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';

export type Family = 'ipv4' | 'ipv6';
export interface IpAddr {
  family: Family;
  /** canonical text, as getnameinfo writes it */
  text: string;
}

export interface NetIp {
  address: IpAddr;
  prefix: number;
  peer?: IpAddr;
}

export interface PortForward {
  proto: 'tcp' | 'udp';
  address?: IpAddr;
  dev?: string;
  ranges: { start?: number; end?: number; to?: number; exclude?: 'yes' | 'no' }[];
}

const hex = (n: number) => n.toString(16);

function parseV4(s: string): number[] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map((p) => {
    if (p.length > 1 && p.startsWith('0')) throw notImplemented(`the IPv4 address '${s}' with a leading zero`);
    return Number(p);
  });
  return parts.every((p) => p <= 255) ? parts : undefined;
}

function parseV6(raw: string): number[] | undefined {
  if (raw.includes('%')) throw notImplemented(`the IPv6 address '${raw}' with a zone`);
  let s = raw;
  // an IPv4 address in the last 32 bits
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const q = parseV4(dotted[2]!);
    if (!q) return undefined;
    s = `${dotted[1]}${hex((q[0]! << 8) | q[1]!)}:${hex((q[2]! << 8) | q[3]!)}`;
  } else if (s.includes('.')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const words = (h: string) => (h === '' ? [] : h.split(':'));
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  const all = [...head, ...tail];
  if (!all.every((w) => /^[0-9a-fA-F]{1,4}$/.test(w))) return undefined;
  const missing = 8 - all.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const zeros = halves.length === 2 ? new Array<string>(missing).fill('0') : [];
  return [...head, ...zeros, ...tail].map((w) => parseInt(w, 16));
}

/** glibc's inet_ntop6: the longest run of two or more zero words (the first of equals)
 *  becomes '::'; an IPv4-compatible or -mapped address ends in a dotted quad. */
function formatV6(w: number[]): string {
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
    } else if (cur.base !== -1) {
      if (best.base === -1 || cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  if (cur.base !== -1 && (best.base === -1 || cur.len > best.len)) best = cur;
  if (best.base !== -1 && best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
      out += `${w[6]! >> 8}.${w[6]! & 0xff}.${w[7]! >> 8}.${w[7]! & 0xff}`;
      return out;
    }
    out += hex(w[i]!);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

/** virSocketAddrParse of `raw` for `family` (any when undefined); undefined: not an address. */
export function parseIpAddr(raw: string, family?: Family): IpAddr | undefined {
  if (family !== 'ipv6') {
    const v4 = parseV4(raw);
    if (v4) return { family: 'ipv4', text: v4.join('.') };
    if (/^[1-9]?\d*\.[1-9]?\d*\.[1-9]?\d*\.[1-9]?\d*$/.test(raw) && /^\d+\.\d+\.\d+\.\d+$/.test(raw)) return undefined; // a part over 255
    if (/^[0-9a-fA-FxX.]+$/.test(raw) && /\d/.test(raw) && !raw.includes(':')) {
      throw notImplemented(`the IPv4 address '${raw}' (glibc reads shorthand, octal and hex forms)`);
    }
  }
  if (family !== 'ipv4' && raw.includes(':')) {
    const v6 = parseV6(raw);
    if (v6) return { family: 'ipv6', text: formatV6(v6) };
  }
  return undefined;
}

/** virDomainNetIPParseXML */
function parseIp(e: XElement): NetIp {
  const raw = e.attrs.address;
  if (raw === undefined) throw xmlError('Missing required address in <ip>');
  const fam = e.attrs.family;
  let family: Family | undefined = fam === 'ipv4' || fam === 'ipv6' ? fam : undefined;
  if (!family) family = parseIpAddr(raw)?.family; // virSocketAddrNumericFamily
  const address = parseIpAddr(raw, family);
  if (!address) throw xmlError(`Invalid address '${raw}' in <ip>`);
  let prefix = 0;
  const p = e.attrs.prefix;
  if (p !== undefined) {
    const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(p);
    if (!m || Number(m[1]) > 4294967295 || (family === 'ipv6' && Number(m[1]) > 128) || (family === 'ipv4' && Number(m[1]) > 32)) {
      if (/^[ \t\n\v\f\r]*-/.test(p)) throw notImplemented(`a negative <ip prefix='${p}'>`);
      throw xmlError(`Invalid prefix value '${p}' in <ip>`);
    }
    prefix = Number(m[1]);
  }
  const out: NetIp = { address, prefix };
  const peerRaw = e.attrs.peer;
  if (peerRaw !== undefined) {
    const peer = parseIpAddr(peerRaw, family);
    if (!peer) throw new TranslationError('invalid argument', `Invalid peer '${peerRaw}' in <ip>`);
    out.peer = peer;
  }
  return out;
}

/** the <ip> children of `e` (virDomainNetIPInfoParseXML); <route> is not implemented */
export function parseIps(e: XElement, where: string): NetIp[] {
  const ips = elements(e, 'ip').map(parseIp);
  if (elements(e, 'route').length) throw notImplemented(`<route> in ${where}`);
  return ips;
}

export function formatIps(w: Writer, ips: NetIp[]): void {
  for (const ip of ips) {
    w.line(`<ip address='${ip.address.text}' family='${ip.address.family}'${ip.prefix ? ` prefix='${ip.prefix}'` : ''}${ip.peer ? ` peer='${ip.peer.text}'` : ''}/>`);
  }
}

/** virDomainNetPortForwardsParseXML */
export function parsePortForwards(e: XElement): PortForward[] {
  return elements(e, 'portForward').map((pf) => {
    if (pf.attrs.proto === undefined) throw xmlError("Missing required attribute 'proto' in element 'portForward'");
    const proto = propEnum(pf, 'proto', ['none', 'tcp', 'udp'] as const, { nonZero: true }) as 'tcp' | 'udp';
    const out: PortForward = { proto, ranges: [] };
    const raw = pf.attrs.address;
    if (raw !== undefined) {
      const a = parseIpAddr(raw);
      if (!a) throw xmlError(`Invalid address '${raw}' in <portForward>`);
      out.address = a;
    }
    if (pf.attrs.dev !== undefined) out.dev = pf.attrs.dev;
    for (const r of elements(pf, 'range')) {
      const range: PortForward['ranges'][number] = {};
      for (const k of ['start', 'end', 'to'] as const) {
        const v = propUInt(r, k, { nonZero: true });
        if (v !== undefined) range[k] = v;
      }
      const exclude = propYesNo(r, 'exclude');
      if (exclude) range.exclude = exclude;
      out.ranges.push(range);
    }
    return out;
  });
}

/** virDomainNetPortForwardsFormat */
export function formatPortForwards(w: Writer, list: PortForward[]): void {
  for (const pf of list) {
    const head = `portForward proto='${pf.proto}'${pf.address ? ` address='${pf.address.text}'` : ''}${attr('dev', pf.dev)}`;
    const ranges = pf.ranges.flatMap((r) => {
      const a = (r.start ? ` start='${r.start}'${r.end ? ` end='${r.end}'` : ''}${r.to ? ` to='${r.to}'` : ''}` : '') + attr('exclude', r.exclude);
      return a ? [`<range${a}/>`] : []; // (an element without attributes is not written)
    });
    w.element(head, 'portForward', ranges.length ? () => ranges.forEach((l) => w.line(l)) : undefined);
  }
}
