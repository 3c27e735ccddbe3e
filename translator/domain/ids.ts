// UUIDs and MAC addresses: libvirt's parser for the first, and the stand-ins virtgold
// uses where libvirt would pick random ones (nothing could agree with a random value,
// so virtgold derives them from the domain; the README says so).
import { hex } from '../devices/info.js';

/** libvirt's virUUIDParse: 32 hex digits in pairs, with '-' and ' ' allowed anywhere
 *  between pairs and blanks around. */
export function parseUuid(raw: string): string | undefined {
  const m = /^[ \t\n\v\f\r]*((?:[- ]*[0-9a-fA-F]{2}){16})[ \t\n\v\f\r]*$/.exec(raw);
  if (!m) return undefined;
  const h = m[1]!.replace(/[- ]/g, '').toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** Stand-in for libvirt's random 52:54:00 MAC. */
export function deterministicMac(key: string): string {
  const h = fnv1a(key, 0x811c9dc5);
  return ['52', '54', '00', hex((h >>> 16) & 0xff, 2), hex((h >>> 8) & 0xff, 2), hex(h & 0xff, 2)].join(':');
}

/** Stand-in for libvirt's random UUID: a name-derived version-4-shaped UUID. */
export function deterministicUuid(name: string): string {
  const words = [0x811c9dc5, 0x01234567, 0x89abcdef, 0x0badf00d].map((seed) => hex(fnv1a(name, seed), 8));
  const h = words.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16]!, 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** virDomainDefGetShortName: per-domain directories use at most 20 characters of the name. */
export function shortName(name: string): string {
  return [...name].slice(0, 20).join('');
}

/** The domain's private directory (priv->libDir) as domxml-to-native names it: id -1. */
export const domainLibDir = (name: string) => `/var/lib/libvirt/qemu/domain--1-${shortName(name)}`;
