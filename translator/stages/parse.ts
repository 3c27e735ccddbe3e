// Stage 1, parse: domain XML → DomainDef (libvirt's virDomainDefParseXML). One table,
// DOMAIN_PARSE_ORDER, calls each section's parser (kept in its module) in libvirt's
// order; devices are read by their kinds in PARSE_ORDER.
import { tick } from '../deadline.js';
import { internalError, notImplemented, xmlError } from '../errors.js';
import {
  newDomainDef, parseIds, parseLifecycle, parseMetadata, parseNumatuneSection, parsePm, parseTitle, parseVirtType,
} from '../domain/parse.js';
import { parseMemoryLevel } from '../domain/memory.js';
import { parseTunables } from '../domain/tuning.js';
import {
  parseBootloaderCaps, parseGenid, parseIdmaps, parseKeywrap, parseLaunchSecurityOf, parseLockFailure, parseMiscSeclabels,
  parsePerf, parseQemuNamespace, parseResource,
} from '../domain/misc.js';
import { parseBootOptions, parseOsType, parseSmbiosMode } from '../domain/os.js';
import { parseCpu } from '../domain/cpu.js';
import { parseNuma } from '../domain/numa.js';
import { parseFeatures } from '../domain/features.js';
import { parseClock } from '../domain/clock.js';
import { parseSysinfo } from '../domain/sysinfo.js';
import type { DeviceKind } from '../devices/kind.js';
import { KINDS, type DeviceOf, type Kind } from '../devices/registry.js';
import type { DomainDef } from '../model.js';
import { child, elements, parseXml, textOf, type XElement } from '../xml/tree.js';
import { PARSE_ORDER } from './order.js';

/** Device elements libvirt acts on that no kind implements yet: refused, never ignored. */
const NOT_IMPLEMENTED = [
  'lease',
  'nvram', 'pstore',
];

/** Kinds a domain has at most one of, with libvirt's error for a second one. */
const ONE_AT_MOST: Partial<Record<Kind, () => Error>> = {
  watchdog: () => internalError('only a single watchdog device is supported'),
  memballoon: () => internalError('only a single memory balloon device is supported'),
  redirfilter: () => internalError('only one set of redirection filter rule is supported'),
  iommu: () => xmlError('only a single IOMMU device is supported'),
  vsock: () => xmlError('only a single vsock device is supported'),
};

/** Kinds libvirt reads after <launchSecurity> (which follows ./devices/shmem). */
const AFTER_LAUNCH_SECURITY: readonly Kind[] = ['memory', 'iommu', 'vsock'];

function parseKind<K extends Kind>(kind: K, devicesEl: XElement, def: DomainDef): void {
  const k = KINDS[kind] as DeviceKind<DeviceOf<K>>;
  const list = def.devices[kind] as DeviceOf<K>[];
  const found = elements(devicesEl, k.element);
  if (found.length > 1 && ONE_AT_MOST[kind]) throw ONE_AT_MOST[kind]!();
  if (kind === 'tpm' && found.length > 2) throw xmlError('a maximum of two TPM devices is supported, one of them being a TPM Proxy device');
  const collector = k.collector?.();
  found.forEach((e, index) => {
    tick();
    const dev = k.parse(e, { def, index });
    if (collector) collector.add(dev);
    else list.push(dev);
  });
  if (collector) for (const dev of collector.list()) list.push(dev);
}

/** A step of virDomainDefParseXML: `follows` names the libvirt code it stands for. */
interface Section {
  follows: string;
  parse: (root: XElement, def: DomainDef, st: { uuidGenerated: boolean }) => void;
}

/** virDomainDefParseXML: the domain level and the devices, in the order libvirt 9.0.0
 *  reads them (which decides the error reported when a domain has several). */
export const DOMAIN_PARSE_ORDER: readonly Section[] = [
  { follows: 'virDomainDefParseIDs (name, uuid)', parse: (r, d, st) => { st.uuidGenerated = parseIds(r, d); } },
  { follows: 'virDomainDefParseIDs (genid)', parse: parseGenid },
  { follows: 'virDomainDefParseCaps (domain type)', parse: parseVirtType },
  { follows: 'virDomainDefParseCaps (os type, arch, machine, bootloader)', parse: (r, d) => { d.os = parseOsType(r); parseBootloaderCaps(r); } },
  { follows: 'title, description', parse: parseTitle },
  { follows: 'virSecurityLabelDefsParseXML', parse: parseMiscSeclabels },
  { follows: 'virDomainDefParseMemory', parse: parseMemoryLevel },
  { follows: 'virDomainDefTunablesParse', parse: parseTunables },
  { follows: 'virCPUDefParseXML', parse: (r, d) => { const cpu = parseCpu(r); if (cpu) d.cpu = cpu; } },
  { follows: 'virDomainNumaDefParseXML and its CPU count checks', parse: parseGuestNuma },
  { follows: 'virDomainNumatuneParseXML', parse: parseNumatuneSection },
  { follows: 'virDomainResourceDefParse', parse: parseResource },
  { follows: 'virDomainFeaturesDefParse', parse: (r, d) => { d.features = parseFeatures(r); } },
  { follows: 'virDomainDefLifecycleParse (on_reboot, on_poweroff, on_crash)', parse: parseLifecycle },
  { follows: 'virDomainDefLifecycleParse (on_lockfailure)', parse: parseLockFailure },
  { follows: 'virDomainDefLifecycleParse (pm)', parse: (r, d) => { d.pm = parsePm(r); } },
  { follows: 'virDomainPerfDefParseXML', parse: parsePerf },
  { follows: 'virDomainDefClockParse', parse: (r, d) => { d.clock = parseClock(r); } },
  { follows: 'virDomainDefParseBootOptions', parse: (r, d) => parseBootOptions(r, d.os) },
  { follows: './devices/* (PARSE_ORDER)', parse: parseDevices },
  { follows: 'virDomainSecDefParseXML (after ./devices/shmem)', parse: parseLaunchSecurityOf },
  { follows: './devices/memory, iommu, vsock (AFTER_LAUNCH_SECURITY)', parse: (r, d) => { const el = devicesOf(r); for (const k of PARSE_ORDER) if (AFTER_LAUNCH_SECURITY.includes(k)) parseKind(k, el, d); } },
  { follows: 'virDomainIdmapDefParseXML', parse: parseIdmaps },
  { follows: 'virSysinfoParseXML (a system uuid may stand in for a missing <uuid>)', parse: (r, d, st) => parseSysinfo(r, d, st.uuidGenerated) },
  { follows: 'os/smbios/@mode', parse: (r, d) => parseSmbiosMode(r, d.os) },
  { follows: 'virDomainKeyWrapDefParseXML', parse: parseKeywrap },
  { follows: 'metadata', parse: parseMetadata },
  { follows: 'the QEMU namespace (qemuDomainDefNamespaceParse)', parse: parseQemuNamespace },
];

function parseGuestNuma(root: XElement, def: DomainDef): void {
  const numa = parseNuma(root, def.vcpu.max);
  if (numa) {
    def.numa = numa.cells;
    if (numa.interconnects.length) def.numaInterconnects = numa.interconnects;
  }
  // (with no cells the highest CPU id counts as 0: <vcpu>0</vcpu> fails here)
  if (def.vcpu.max === 0) throw internalError('CPU IDs in <numa> exceed the <vcpu> count');
}

/** libvirt reads ./devices/*: several <devices> blocks act as one. */
const devicesOf = (root: XElement): XElement => ({ name: 'devices', attrs: {}, children: elements(root, 'devices').flatMap((b) => b.children) });

function parseDevices(root: XElement, def: DomainDef): void {
  const devicesEl = devicesOf(root);
  for (const c of elements(devicesEl)) if (NOT_IMPLEMENTED.includes(c.name)) throw notImplemented(`<devices><${c.name}>`);
  const emu = child(devicesEl, 'emulator');
  if (emu && textOf(emu).trim()) def.emulator = textOf(emu).trim();
  for (const kind of PARSE_ORDER) if (!AFTER_LAUNCH_SECURITY.includes(kind)) parseKind(kind, devicesEl, def);
}

/** Parse the XML text into a domain definition. */
export function parseDomain(text: string): DomainDef {
  const root = parseXml(text, 'domain XML', '(domain_definition)');
  const def = newDomainDef(root);
  const st = { uuidGenerated: false };
  for (const section of DOMAIN_PARSE_ORDER) section.parse(root, def, st);
  return def;
}
