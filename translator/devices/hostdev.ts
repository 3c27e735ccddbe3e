// <hostdev mode='subsystem' type='pci'>: a VFIO PCI device given to the guest, and the
// VFIO backend that <interface type='hostdev'> shares (libvirt's virDomainHostdevDef).
//
// vf-token extension (not in libvirt 9.0.0): <vf-token uuid='…'/> inside the source
// address. Parsed in parseVfToken, validated against the 'vfio-pci.vf-token' capability
// in `validate`, written back in formatBackend, and emitted right after "host" in the
// vfio-pci -device JSON in `command`.
import { hasFlag } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef, PciHostAddress } from '../model.js';
import { pcieFlags } from '../pci/connect.js';
import { propEnum } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { addressProps, formatInfo, nextAliasIndex, parseDeviceInfo, parsePciAddress, pciAttrs, pciString, zpciDevice } from './info.js';
import { chainOf } from './disk-source.js';
import type { DeviceKind, ParseContext } from './kind.js';
import {
  formatStorageHostdev, parseStorageHostdev, parseSubsysAttrs, afterParse, postParseStorageHostdev, sameStorageSource, storageHostdevCommand,
  storageHostdevPci, sgDevicePath, validateConfStorageHostdev, validateStorageHostdev, type StorageHostdevDef,
} from './hostdev-scsi.js';
import {
  formatUsbHostdev, parseUsbHostdev, sameUsbSource, usbHostdevCommand, validateConfUsbHostdev, validateStartUsbHostdev, validateUsbHostdev,
  type UsbHostdevDef,
} from './hostdev-usb.js';
import {
  formatMdevHostdev, mdevCcw, mdevHostdevCommand, mdevPci, parseMdevHostdev, postParseMdevHostdev, sameMdevSource, validateMdevHostdev,
  type MdevHostdevDef,
} from './hostdev-mdev.js';

export interface HostdevDef {
  /** PCI (the other subsystem types are devices/hostdev-scsi.ts's) */
  subsys?: 'pci';
  managed: boolean;
  /** <driver name=…>; libvirt 9.0.0 keeps it unset when the XML leaves it out. */
  driver?: string;
  source: PciHostAddress;
  /** vf-token extension: canonical lowercase UUID of the VF token. */
  vfToken?: string;
  info: DeviceInfo;
  /** set when this hostdev is the backend of an <interface type='hostdev'> (libvirt's parentnet) */
  parentNet?: boolean;
  /** <teaming type persistent> (virDomainNetTeamingInfo) */
  teaming?: { type: 'persistent' | 'transient'; persistent?: string };
}

/** virDomainNetTeamingInfoParseXML */
function parseTeaming(e: XElement): HostdevDef['teaming'] {
  const t = child(e, 'teaming');
  const type = t?.attrs.type || undefined;
  const persistent = t?.attrs.persistent || undefined;
  if (type === undefined && persistent === undefined) return undefined;
  // (libvirt prints a missing type as glib prints a NULL string)
  if (type !== 'persistent' && type !== 'transient') throw unsupportedConfig(`unknown teaming type '${type ?? '(null)'}'`);
  return { type, ...(persistent !== undefined ? { persistent } : {}) };
}

/** any hostdev of the domain's list */
export type AnyHostdev = HostdevDef | StorageHostdevDef | UsbHostdevDef | MdevHostdevDef;

declare module '../model.js' {
  interface Devices {
    hostdev: AnyHostdev[];
  }
}

const DRIVERS = ['default', 'kvm', 'vfio', 'xen'] as const;
const VF_TOKEN_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** vf-token extension: <vf-token uuid='…'/> inside the PCI source address. */
function parseVfToken(addr: XElement): string | undefined {
  const tokens = elements(addr, 'vf-token');
  if (tokens.length === 0) return undefined;
  if (tokens.length > 1) throw xmlError('only one <vf-token> is allowed in a PCI source address');
  const uuid = tokens[0]!.attrs.uuid;
  if (uuid === undefined) throw xmlError("missing 'uuid' attribute in <vf-token>");
  if (!VF_TOKEN_RE.test(uuid)) throw xmlError(`malformed vf-token uuid '${uuid}'`);
  return uuid.toLowerCase();
}

export type HostdevBackend = Pick<HostdevDef, 'driver' | 'source' | 'vfToken'>;

/** <driver name=…/> and <source><address …><vf-token/></address></source>, shared by
 *  <hostdev type='pci'> and <interface type='hostdev'>. */
export function parseBackend(e: XElement, what: string, isNet: boolean): HostdevBackend {
  // The source first, then the driver (virDomainHostdevDefParseXMLSubsys).
  const src = child(e, 'source');
  if (!src) throw xmlError(isNet ? 'missing source address type' : 'Missing <source> element in hostdev device');
  const addr = child(src, 'address');
  if (addr && isNet && addr.attrs.type === undefined) throw xmlError('missing source address type');
  if (!addr && isNet) throw xmlError('missing source address type');
  if (addr?.attrs.type !== undefined && addr.attrs.type !== 'pci') throw notImplemented(`<source><address type='${addr.attrs.type}'> in ${what}`);
  // libvirt takes an absent address as 0000:00:00.0.
  const source = addr ? parsePciAddress(addr) : { domain: 0, bus: 0, slot: 0, function: 0 };
  const token = addr && parseVfToken(addr);
  const backend: HostdevBackend = { source };
  const drv = child(e, 'driver');
  if (drv) {
    for (const a of Object.keys(drv.attrs)) if (a !== 'name') throw notImplemented(`<driver ${a}> in ${what}`);
    const name = propEnum(drv, 'name', DRIVERS, { nonZero: true });
    if (name) backend.driver = name;
  }
  if (token) {
    if (backend.driver !== 'vfio') throw xmlError(`vf-token requires <driver name='vfio'/> in ${what}`);
    backend.vfToken = token;
  }
  return backend;
}

/** libvirt only looks for 'yes'; any other value means unmanaged. */
export const parseManaged = (e: XElement) => e.attrs.managed === 'yes';

function parse(e: XElement, { def }: ParseContext): AnyHostdev {
  const mode = e.attrs.mode ?? 'subsystem';
  const type = e.attrs.type;
  if (mode !== 'subsystem' && mode !== 'capabilities') throw unsupportedConfig(`unknown hostdev mode '${mode}'`);
  if (mode === 'subsystem' && type === undefined) throw xmlError('missing source address type');
  if (mode === 'subsystem' && type !== undefined && !['usb', 'pci', 'scsi', 'scsi_host', 'mdev'].includes(type)) {
    throw unsupportedConfig(`unknown host device source address type '${type}'`);
  }
  if (mode === 'subsystem' && (type === 'scsi' || type === 'scsi_host')) {
    if (!child(e, 'source')) throw xmlError('Missing <source> element in hostdev device');
    if (child(e, 'source')!.attrs.startupPolicy !== undefined) throw unsupportedConfig('Setting startupPolicy is only allowed for USB devices');
    for (const c of elements(e)) if (['teaming', 'origstates'].includes(c.name)) throw notImplemented(`<${c.name}> in <hostdev>`);
    const h = parseStorageHostdev(e, type, parseManaged(e));
    afterParse(h, def);
    return h;
  }
  if (mode === 'subsystem' && type === 'mdev') {
    if (!child(e, 'source')) throw xmlError('Missing <source> element in hostdev device');
    if (child(e, 'source')!.attrs.startupPolicy !== undefined) throw unsupportedConfig('Setting startupPolicy is only allowed for USB devices');
    parseSubsysAttrs(e, type);
    for (const c of elements(e)) if (['teaming', 'origstates', 'acpi'].includes(c.name)) throw notImplemented(`<${c.name}> in <hostdev>`);
    return parseMdevHostdev(e, parseManaged(e));
  }
  if (mode === 'subsystem' && type === 'usb') {
    if (child(e, 'source')) parseSubsysAttrs(e, type);
    for (const c of elements(e)) if (['teaming', 'origstates', 'acpi'].includes(c.name)) throw notImplemented(`<${c.name}> in <hostdev>`);
    const h = parseUsbHostdev(e, parseManaged(e));
    // (virDomainDefParseXML: the controllers are parsed before the hostdevs)
    if (def.devices.controller.some((c) => c.type === 'usb' && c.model === 'none')) throw unsupportedConfig("Can't add host USB device: USB is disabled in this host");
    return h;
  }
  if (mode !== 'subsystem' || type !== 'pci') throw notImplemented(`<hostdev mode='${mode}' type='${type ?? ''}'>`);
  if (child(e, 'source')) parseSubsysAttrs(e, type);
  for (const c of elements(e)) if (['origstates'].includes(c.name)) throw notImplemented(`<${c.name}> in <hostdev>`);
  if (e.attrs.model !== undefined) throw notImplemented('<hostdev model=…>');
  for (const a of Object.keys(child(e, 'source')?.attrs ?? {})) throw notImplemented(`<source ${a}> in <hostdev>`);
  const h: HostdevDef = { managed: parseManaged(e), ...parseBackend(e, '<hostdev>', false), info: parseDeviceInfo(e, '<hostdev>', true, ['unassigned']) };
  const teaming = parseTeaming(e);
  if (teaming) h.teaming = teaming;
  return h;
}

/** <driver> and <source> of a PCI hostdev; interfaces name the source address type. */
export function formatBackend(w: Writer, h: HostdevDef, typeInSource: boolean): void {
  if (h.driver) w.line(`<driver name='${h.driver}'/>`);
  w.open('<source>');
  const token = h.vfToken;
  // vf-token extension: the token lives inside the source address.
  w.element(`address${typeInSource ? " type='pci'" : ''} ${pciAttrs(h.source)}`, 'address',
    token === undefined ? undefined : () => w.line(`<vf-token uuid='${token}'/>`));
  w.close('</source>');
}

function vfioDevice(h: HostdevDef, def: DomainDef): Record<string, unknown> {
  const dev: Record<string, unknown> = { driver: 'vfio-pci', host: pciString(h.source) };
  // vf-token extension: directly after "host".
  if (h.vfToken !== undefined) dev['vf-token'] = h.vfToken;
  dev.id = h.info.alias;
  if (h.info.bootIndex !== undefined) dev.bootindex = h.info.bootIndex;
  if (h.teaming?.type === 'transient' && h.teaming.persistent) dev.failover_pair_id = h.teaming.persistent;
  Object.assign(dev, addressProps(h.info, def));
  const rom = h.info.rom;
  if (rom?.enabled === 'no') dev.romfile = '';
  else if (rom) {
    if (rom.bar) dev.rombar = rom.bar === 'on' ? 1 : 0;
    if (rom.file !== undefined) dev.romfile = rom.file;
  }
  return dev;
}

const isPci = (h: AnyHostdev): h is HostdevDef => h.subsys === undefined || h.subsys === 'pci';
const isUsb = (h: AnyHostdev): h is UsbHostdevDef => h.subsys === 'usb';
const isMdev = (h: AnyHostdev): h is MdevHostdevDef => h.subsys === 'mdev';
type StorageOnly = Exclude<AnyHostdev, HostdevDef | UsbHostdevDef | MdevHostdevDef>;
const isStorage = (h: AnyHostdev): h is StorageOnly => !isPci(h) && !isUsb(h) && !isMdev(h);

/** virDomainDefHostdevValidate: one host device is given to the guest once (virDomainHostdevMatch) */
export function validateHostdevSources(def: DomainDef): void {
  const list = def.devices.hostdev;
  let ramfb = false;
  list.forEach((a, i) => {
    for (const b of list.slice(i + 1)) {
      const same = isPci(a) || isPci(b) ? isPci(a) && isPci(b) && pciString(a.source) === pciString(b.source)
        : isUsb(a) || isUsb(b) ? isUsb(a) && isUsb(b) && sameUsbSource(a, b)
        : isMdev(a) || isMdev(b) ? isMdev(a) && isMdev(b) && sameMdevSource(a, b)
        : sameStorageSource(a as StorageOnly, b as StorageOnly);
      if (same) throw xmlError('Hostdev already exists in the domain configuration');
    }
    if (isMdev(a) && a.ramfb === 'on') {
      if (ramfb) throw unsupportedConfig("Only one vgpu device can have 'ramfb' enabled");
      ramfb = true;
    }
  });
}

/** the node numbers of host SCSI devices' backends: after every disk source's, in list order */
const backendIds = new WeakMap<AnyHostdev, number>();
/** … and their host sg nodes */
const sgPaths = new WeakMap<AnyHostdev, string>();

export const hostdev: DeviceKind<AnyHostdev> = {
  element: 'hostdev',
  parse,
  info: (h) => h.info,
  visitedElsewhere: (h) => isPci(h) && h.parentNet === true,
  postParse: (h, ctx) => {
    if (isStorage(h)) postParseStorageHostdev(h, ctx.def);
    if (isMdev(h)) postParseMdevHostdev(h, ctx);
  },
  // Interface-backed hostdevs too, in hostdev order (libvirt skips them among the nets).
  // A host device libvirt cannot look at (not on this host) counts as PCI Express.
  pci: (h, ctx) => (isPci(h) ? { info: h.info, connect: pcieFlags(ctx.def), function: -1 } : isUsb(h) ? undefined : isMdev(h) ? mdevPci(h, ctx) : storageHostdevPci(h, ctx)),
  usb: (h) => (isUsb(h) ? { info: h.info } : undefined),
  ccw: (h, ctx) => (isMdev(h) ? mdevCcw(h, ctx) : h.subsys === 'scsi_host' && ctx.machine.virtioCcw),
  validateConf(h) {
    if (isUsb(h)) return validateConfUsbHostdev(h);
    if (isMdev(h)) return;
    if (!isPci(h)) return validateConfStorageHostdev(h);
    const type = h.info.address?.type;
    if (type !== undefined && type !== 'pci' && type !== 'unassigned') throw internalError("PCI host devices must use 'pci' or 'unassigned' address type");
    if (h.teaming?.type === 'persistent') throw unsupportedConfig("teaming hostdev devices must have type='transient'");
    if (h.teaming && !h.teaming.persistent) throw unsupportedConfig('missing required persistent attribute in hostdev teaming element');
  },
  validate(h, ctx) {
    // qemuValidateDomainDeviceInfo: a drive address is an address too
    if (h.info.acpiIndex !== undefined && h.subsys === 'scsi' && h.drive) throw unsupportedConfig('ACPI index is only supported for PCI devices');
    if (isUsb(h)) return validateUsbHostdev(h, ctx);
    if (isMdev(h)) return validateMdevHostdev(h, ctx);
    if (!isPci(h)) return validateStorageHostdev(h, ctx);
    // vf-token extension: the QEMU must have the vfio-pci 'vf-token' property.
    if (h.vfToken !== undefined && !hasFlag(ctx.caps, 'vfio-pci.vf-token')) throw unsupportedConfig('vf-token is not supported by this QEMU binary');
  },
  validateStart(h, ctx) {
    // (a host SCSI device's sg node is looked up once the domain is prepared, before the command line)
    if (h.subsys === 'scsi') sgPaths.set(h, sgDevicePath(h, ctx) ?? '');
    if (isUsb(h)) validateStartUsbHostdev(h);
    if (isPci(h) && h.driver !== 'vfio') throw internalError(`invalid PCI passthrough type '${h.driver ?? 'default'}'`);
  },
  // qemuAssignDeviceHostdevAlias: hostdevN, one past the highest N so far (a user alias takes none)
  alias: (_h, i, def) => `hostdev${nextAliasIndex(def.devices.hostdev.slice(0, i).map((o) => o.info), 'hostdev')}`,
  format(w, h) {
    if (isUsb(h)) return formatUsbHostdev(w, h);
    if (isMdev(h)) return formatMdevHostdev(w, h);
    if (!isPci(h)) return formatStorageHostdev(w, h);
    if (h.parentNet) return; // written as its <interface>
    w.open(`<hostdev mode='subsystem' type='pci' managed='${h.managed ? 'yes' : 'no'}'>`);
    formatBackend(w, h, false);
    // virDomainNetTeamingInfoFormat
    if (h.teaming) w.line(`<teaming type='${h.teaming.type}'${attr('persistent', h.teaming.persistent)}/>`);
    formatInfo(w, h.info);
    w.close('</hostdev>');
  },
  commandBefore(list, { def }) {
    // qemuDomainPrepareHostdev: each host SCSI device's backend takes the next storage id
    let id = def.devices.disk.reduce((n, d) => n + chainOf(d.src).length, 0);
    for (const h of list) if (h.subsys === 'scsi') backendIds.set(h, ++id);
    return [];
  },
  command(h, ctx) {
    if (isUsb(h)) return usbHostdevCommand(h, ctx.def, ctx);
    if (isMdev(h)) return mdevHostdevCommand(h, ctx.def);
    if (!isPci(h)) return storageHostdevCommand(h, backendIds.get(h) ?? 0, sgPaths.get(h) ?? '', ctx);
    if (h.info.address?.type === 'unassigned') return []; // the domain's, not the guest's
    return [...zpciDevice(h.info), ['-device', JSON.stringify(vfioDevice(h, ctx.def))]];
  },
};
