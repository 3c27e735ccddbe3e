// <smartcard> (libvirt's virDomainSmartcardDef): a card on a CCID controller's slot,
// emulated from the host's NSS database or certificates, or passed through a chardev.
import { hasFlag } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
import { propEnum, propUInt, required } from '../xml/props.js';
import { child, elements, textOf, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import { chardevArgs, type ChrSource, formatChrSource, parseChrSource, parseChrType, validateChrSourceConf, validateChrSourceQemu } from './chardev-source.js';
import { hasSpice, nextFdset } from './chardev.js';
import { maybeAddController } from './controller-def.js';
import type { DeviceKind } from './kind.js';
import type { DeviceInfo } from '../model.js';
import { parseDeviceInfo } from './info.js';

export interface SmartcardDef {
  mode: 'host' | 'host-certificates' | 'passthrough';
  certificates?: [string, string, string];
  database?: string;
  passthru?: ChrSource;
  /** <address type='ccid'>; post-parse gives one to a card without */
  ccid?: { controller: number; slot: number };
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    smartcard: SmartcardDef[];
  }
}

const DEFAULT_DATABASE = '/etc/pki/nssdb';

/** virDomainSmartcardDefParseXML */
function parse(e: XElement): SmartcardDef {
  required(e, 'mode');
  const mode = propEnum(e, 'mode', ['host', 'host-certificates', 'passthrough'] as const)!;
  const s: SmartcardDef = { mode, info: {} };
  if (mode === 'host-certificates') {
    const certs = elements(e, 'certificate');
    if (certs.length !== 3) throw xmlError('host-certificates mode needs exactly three certificates');
    if (certs.some((c) => textOf(c) === '')) throw notImplemented('an empty <certificate> of a smartcard');
    s.certificates = certs.map((c) => textOf(c)) as [string, string, string];
    const db = child(e, 'database');
    if (db) {
      const path = textOf(db);
      if (path === '') throw notImplemented('an empty <database> of a smartcard');
      if (!path.startsWith('/')) throw xmlError(`expecting absolute path: ${path}`);
      s.database = path;
    }
  } else if (mode === 'passthrough') {
    if (e.attrs.type === undefined) throw xmlError('passthrough mode requires a character device type attribute');
    const src = parseChrSource(e, parseChrType(e));
    if (src.type === 'spicevmc') src.spicevmc = 'smartcard';
    s.passthru = src;
  }
  const a = child(e, 'address');
  if (a?.attrs.type === 'ccid') {
    s.ccid = { controller: propUInt(a, 'controller') ?? 0, slot: propUInt(a, 'slot') ?? 0 };
    s.info = parseDeviceInfo({ ...e, children: e.children.filter((x) => x !== a) }, '<smartcard>', false);
  } else {
    s.info = parseDeviceInfo(e, '<smartcard>', false, ['usb']);
  }
  return s;
}

/** virDomainDefMaybeAddSmartcardController: a card without an address takes the next
 *  slot of controller 0, and each card's controller is added if missing. */
export function addSmartcardControllers(def: DomainDef): void {
  for (const s of def.devices.smartcard) {
    let idx = 0;
    if (s.ccid) idx = s.ccid.controller;
    else if (!s.info.address) {
      const slots = def.devices.smartcard.flatMap((o) => (o.ccid?.controller === 0 ? [o.ccid.slot] : []));
      s.ccid = { controller: 0, slot: Math.max(-1, ...slots) + 1 };
    }
    maybeAddController(def, 'ccid', idx);
  }
}

export const smartcard: DeviceKind<SmartcardDef> = {
  element: 'smartcard',
  parse,
  info: (s) => s.info,
  // virDomainSmartcardDefValidate
  validateConf(s, { def }) {
    if (s.info.address) throw unsupportedConfig("Controllers must use the 'ccid' address type");
    if (s.passthru) validateChrSourceConf(s.passthru, false, def);
  },
  // qemuValidateDomainSmartcardDef
  validate(s, { def, caps }) {
    if (def.devices.smartcard.length > 1 || !s.ccid || s.ccid.controller !== 0 || s.ccid.slot !== 0) {
      throw unsupportedConfig('this QEMU binary lacks multiple smartcard support');
    }
    if (s.mode !== 'passthrough' && !hasFlag(caps, 'ccid-emulated')) throw unsupportedConfig('this QEMU binary lacks smartcard host mode support');
    if (s.mode === 'passthrough') {
      if (!hasFlag(caps, 'ccid-passthru')) throw unsupportedConfig('this QEMU binary lacks smartcard passthrough mode support');
      validateChrSourceQemu(s.passthru!, caps, hasSpice(def));
    }
  },
  alias: (_s, i) => `smartcard${i}`,
  format(w, s) {
    const head = `smartcard mode='${s.mode}'${s.passthru ? ` type='${s.passthru.type}'` : ''}`;
    const body = s.certificates || s.passthru || s.ccid;
    w.element(head, 'smartcard', body ? () => {
      for (const c of s.certificates ?? []) w.line(`<certificate>${attr('x', c).slice(4, -1)}</certificate>`);
      if (s.database !== undefined) w.line(`<database>${attr('x', s.database).slice(4, -1)}</database>`);
      if (s.passthru) formatChrSource(w, s.passthru);
      if (s.ccid) w.line(`<address type='ccid' controller='${s.ccid.controller}' slot='${s.ccid.slot}'/>`);
    } : undefined);
  },
  // qemuBuildSmartcardCommandLine: only the first card (validation allows no other)
  command(s, { def, caps }) {
    if (s !== def.devices.smartcard[0]) return [];
    const alias = s.info.alias!;
    const out: string[][] = [];
    let props: Record<string, unknown>;
    if (s.mode === 'host') props = { driver: 'ccid-card-emulated', backend: 'nss-emulated' };
    else if (s.mode === 'host-certificates') {
      const [cert1, cert2, cert3] = s.certificates!;
      props = { driver: 'ccid-card-emulated', backend: 'certificates', cert1, cert2, cert3, db: s.database ?? DEFAULT_DATABASE };
    } else {
      out.push(...chardevArgs(s.passthru!, { caps, alias, nextFdset: nextFdset(def) }));
      props = { driver: 'ccid-card-passthru', chardev: `char${alias}` };
    }
    const ctrl = def.devices.controller.find((c) => c.type === 'ccid' && c.index === s.ccid!.controller);
    if (!ctrl) throw internalError(`Could not find ccid controller with index ${s.ccid!.controller} required for device`);
    out.push(['-device', JSON.stringify({ ...props, id: alias, bus: `${ctrl.info.alias}.0` })]);
    return out;
  },
};
