// Stage 1, parse: domain XML → DomainDef (libvirt's virDomainDefParseXML). Domain-level
// elements are read by domain/parse.ts, devices by their kinds in PARSE_ORDER.
import { tick } from '../deadline.js';
import { internalError, notImplemented } from '../errors.js';
import { parseDomainLevel } from '../domain/parse.js';
import { parseMiscAfterDevices, parseMiscLast } from '../domain/misc.js';
import { parseSmbiosMode } from '../domain/os.js';
import { parseSysinfo } from '../domain/sysinfo.js';
import type { DeviceKind } from '../devices/kind.js';
import { KINDS, type DeviceOf, type Kind } from '../devices/registry.js';
import type { DomainDef } from '../model.js';
import { child, elements, parseXml, textOf, type XElement } from '../xml/tree.js';
import { PARSE_ORDER } from './order.js';

/** Device elements libvirt acts on that no kind implements yet: refused, never ignored. */
const NOT_IMPLEMENTED = [
  'disk', 'lease', 'filesystem', 'sound', 'graphics', 'video', 'console', 'serial', 'parallel', 'channel',
  'smartcard', 'redirdev', 'redirfilter', 'hub', 'watchdog', 'rng', 'tpm', 'shmem', 'memory', 'iommu',
  'vsock', 'crypto', 'nvram', 'pstore',
];

/** Kinds a domain has at most one of, with libvirt's message for a second one. */
const ONE_AT_MOST: Partial<Record<Kind, string>> = {
  memballoon: 'only a single memory balloon device is supported',
};

function parseKind<K extends Kind>(kind: K, devicesEl: XElement, def: DomainDef): void {
  const k = KINDS[kind] as DeviceKind<DeviceOf<K>>;
  const list = def.devices[kind] as DeviceOf<K>[];
  const found = elements(devicesEl, k.element);
  if (found.length > 1 && ONE_AT_MOST[kind]) throw internalError(ONE_AT_MOST[kind]);
  const collector = k.collector?.();
  found.forEach((e, index) => {
    tick();
    const dev = k.parse(e, { def, index });
    if (collector) collector.add(dev);
    else list.push(dev);
  });
  if (collector) for (const dev of collector.list()) list.push(dev);
}

/** Parse the XML text into a domain definition. */
export function parseDomain(text: string): DomainDef {
  const root = parseXml(text, 'domain XML', '(domain_definition)');
  const def = parseDomainLevel(root);
  // libvirt reads ./devices/*: several <devices> blocks act as one.
  const devicesEl: XElement = { name: 'devices', attrs: {}, children: elements(root, 'devices').flatMap((b) => b.children) };
  for (const c of elements(devicesEl)) if (NOT_IMPLEMENTED.includes(c.name)) throw notImplemented(`<devices><${c.name}>`);
  const emu = child(devicesEl, 'emulator');
  if (emu && textOf(emu).trim()) def.emulator = textOf(emu).trim();
  for (const kind of PARSE_ORDER) parseKind(kind, devicesEl, def);
  // After the devices, libvirt reads <launchSecurity> and <idmap>, then <sysinfo> (a
  // system uuid may stand in for a missing <uuid>) and <os><smbios mode>, then <keywrap>
  // and the QEMU namespace.
  parseMiscAfterDevices(root, def);
  parseSysinfo(root, def, !child(root, 'uuid'));
  parseSmbiosMode(root, def.os);
  parseMiscLast(root, def);
  return def;
}
