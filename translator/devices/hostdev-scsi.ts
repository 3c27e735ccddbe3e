// <hostdev mode='subsystem' type='scsi'> (a host SCSI device given to the guest as QEMU's
// scsi-generic on one of its SCSI controllers) and <hostdev type='scsi_host'> (a vhost-scsi
// target, by WWPN): libvirt's virDomainHostdevSubsysSCSI and virDomainHostdevSubsysSCSIVHost.
// They live in the domain's hostdev list beside the PCI ones (devices/hostdev.ts
// dispatches here). Host SCSI devices share the SCSI drive-address space with SCSI disks.
// iSCSI sources' <auth> secrets come from the host's secret driver (translator/secrets.ts).
import { hasFlag } from '../capabilities.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef } from '../model.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';
import type { DriveAddress } from '../stages/drive-address.js';
import { propEnum, propUInt, propYesNo, required } from '../xml/props.js';
import { child, elements, escapeXml, type XElement, type XNode } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { addressProps, formatInfo, parseDeviceInfo } from './info.js';
import type { PciNeed, StageContext } from './kind.js';
import { maybeAddController } from './controller-def.js';
import { secretObjectProps, secretValue } from '../secrets.js';
import { parseAuth, type AuthDef } from './disk-source-net.js';

export interface ScsiHostdevDef {
  subsys: 'scsi';
  managed: boolean;
  sgio?: 'filtered' | 'unfiltered';
  rawio?: 'yes' | 'no';
  /** a device on a host adapter ('scsi_hostN'), by its address there … */
  host?: { adapter: string; bus: number; target: number; unit: bigint };
  /** … or an iSCSI LUN ('target/lun'; '/0' added in post-parse) */
  iscsi?: { path: string; hostName: string; port: number; initiator?: string; auth?: HostdevAuth };
  readonly: boolean;
  shareable: boolean;
  /** <address type='drive'>, given or assigned in post-parse */
  drive?: DriveAddress;
  info: DeviceInfo;
}

/** virStorageAuthDef of an iSCSI source: the user and the secret (by uuid or usage) */
/** an iSCSI source's <auth>: virStorageAuthDefParse, as for disks */
export type HostdevAuth = AuthDef;

export interface VhostScsiHostdevDef {
  subsys: 'scsi_host';
  managed: boolean;
  model?: 'virtio' | 'virtio-transitional' | 'virtio-non-transitional';
  wwpn: string;
  info: DeviceInfo;
}

export type StorageHostdevDef = ScsiHostdevDef | VhostScsiHostdevDef;

const MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
/** USER_ALIAS_CHARS */
/** virValidateWWN */
const WWN_RE = /^(0x)?[0-9a-fA-F]{16}$/;

/** virXMLPropULongLong, base 0, required */
function propULongLongBase0(e: XElement, name: string): bigint {
  const v = required(e, name);
  const t = v.trim();
  let n: bigint | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) n = BigInt(t);
  else if (/^0[0-7]*$/.test(t)) n = BigInt(`0o${t.slice(1) || '0'}`);
  else if (/^\+?[1-9][0-9]*$/.test(t)) n = BigInt(t.replace('+', ''));
  if (n === undefined || n > 0xffffffffffffffffn) throw xmlError(`Invalid value for attribute '${name}' in element '${e.name}': '${v}'. Expected non-negative integer value`);
  return n;
}

/** the attributes virDomainHostdevDefParseXMLSubsys reads for every subsystem type */
export function parseSubsysAttrs(e: XElement, type: string): { sgio?: 'filtered' | 'unfiltered'; rawio?: 'yes' | 'no' } {
  const out: { sgio?: 'filtered' | 'unfiltered'; rawio?: 'yes' | 'no' } = {};
  const sgio = propEnum(e, 'sgio', ['default', 'filtered', 'unfiltered'] as const, { nonZero: true });
  if (sgio) {
    if (type !== 'scsi') throw xmlError('sgio is only supported for scsi host device');
    out.sgio = sgio as 'filtered' | 'unfiltered';
  }
  const rawio = propYesNo(e, 'rawio');
  if (rawio) {
    if (type !== 'scsi') throw xmlError('rawio is only supported for scsi host device');
    out.rawio = rawio;
  }
  if (type !== 'scsi_host' && type !== 'mdev' && e.attrs.model !== undefined) {
    throw xmlError(`'model' attribute in <hostdev> is only supported when type='${type}'`);
  }
  return out;
}

/** virDomainHostdevDefParseXML for type 'scsi' and 'scsi_host' (managed: libvirt only looks for 'yes') */
export function parseStorageHostdev(e: XElement, type: 'scsi' | 'scsi_host', managed: boolean): StorageHostdevDef {
  const attrs = parseSubsysAttrs(e, type);
  const source = child(e, 'source')!;
  if (type === 'scsi_host') {
    const model = propEnum(e, 'model', MODELS);
    const protocol = source.attrs.protocol;
    if (protocol === undefined) throw xmlError('Missing scsi_host subsystem protocol');
    if (protocol !== 'vhost') throw unsupportedConfig(`Unknown scsi_host subsystem protocol '${protocol}'`);
    const wwpn = source.attrs.wwpn;
    if (wwpn === undefined) throw xmlError('missing vhost-scsi hostdev source wwpn');
    if (!wwpn.startsWith('naa.') || !WWN_RE.test(wwpn.slice(4))) throw xmlError("malformed 'wwpn' value");
    const h: VhostScsiHostdevDef = { subsys: 'scsi_host', managed, wwpn, info: parseDeviceInfo(e, "<hostdev type='scsi_host'>", true, ['unassigned']) };
    if (model && model !== 'default') h.model = model;
    return h;
  }
  const protocol = source.attrs.protocol;
  if (protocol !== undefined && protocol !== 'adapter' && protocol !== 'iscsi') throw unsupportedConfig(`Unknown SCSI subsystem protocol '${protocol}'`);
  const info = parseScsiInfo(e);
  const common = { subsys: 'scsi' as const, managed, ...attrs, readonly: !!child(e, 'readonly'), shareable: !!child(e, 'shareable') };
  if (protocol === 'iscsi') return { ...common, iscsi: parseIscsi(source), ...info };
  // virDomainHostdevSubsysSCSIHostDefParseXML
  const a = child(source, 'address');
  if (!a) throw xmlError("'address' must be specified for scsi hostdev source");
  const bus = propUInt(a, 'bus', { base0: true });
  if (bus === undefined) required(a, 'bus');
  const target = propUInt(a, 'target', { base0: true });
  if (target === undefined) required(a, 'target');
  const unit = propULongLongBase0(a, 'unit');
  const adapter = child(source, 'adapter')?.attrs.name;
  if (adapter === undefined) throw xmlError("'adapter' name must be specified for scsi hostdev source");
  return { ...common, host: { adapter, bus: bus!, target: target!, unit }, ...info };
}


/** the device info of a host SCSI device: a drive address is this kind's own */
function parseScsiInfo(e: XElement): Pick<ScsiHostdevDef, 'info' | 'drive'> {
  const addr = child(e, 'address');
  const own = (c: XNode) => c === addr && addr.attrs.type === 'drive';
  const out: Pick<ScsiHostdevDef, 'info' | 'drive'> = {
    info: parseDeviceInfo({ ...e, children: e.children.filter((c) => !own(c)) }, "<hostdev type='scsi'>", true, ['unassigned']),
  };
  if (addr?.attrs.type === 'drive') {
    const f = (k: string) => propUInt(addr, k) ?? 0;
    out.drive = { controller: f('controller'), bus: f('bus'), target: f('target'), unit: f('unit') };
  }
  return out;
}

/** virDomainHostdevSubsysSCSIiSCSIDefParseXML (virDomainStorageNetworkParseHost for its host) */
function parseIscsi(source: XElement): NonNullable<ScsiHostdevDef['iscsi']> {
  const path = source.attrs.name;
  if (path === undefined) throw xmlError('missing iSCSI hostdev source path name');
  const hosts = elements(source, 'host').map((h) => {
    const transport = h.attrs.transport;
    if (transport !== undefined && !['tcp', 'unix', 'rdma'].includes(transport)) throw unsupportedConfig(`unknown protocol transport type '${transport}'`);
    const socket = h.attrs.socket;
    if (transport === 'unix' && socket === undefined) throw xmlError('missing socket for unix transport');
    if (transport !== 'unix' && socket !== undefined) throw xmlError(`transport '${transport ?? '(null)'}' does not support socket attribute`);
    // (libvirt 9.0.0 compares the names of two such hosts without checking for none, and crashes)
    if (transport === 'unix') throw notImplemented("an iSCSI hostdev host with transport='unix'");
    const name = h.attrs.name;
    if (name === undefined) throw xmlError('missing name for host');
    let port = 0;
    const p = h.attrs.port;
    if (p !== undefined) {
      const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(p);
      if (!m || Number(m[1]) > 4294967295) throw new TranslationError('invalid argument', `failed to parse port number '${p}'`);
      if (Number(m[1]) > 65535) throw new TranslationError('invalid argument', `port '${p}' out of range`);
      port = Number(m[1]);
    }
    return { name, port };
  });
  if (hosts.length < 1) throw xmlError('missing the host address for the iSCSI hostdev');
  if (hosts.length > 1) throw xmlError('only one source host address may be specified for the iSCSI hostdev');
  const iscsi: NonNullable<ScsiHostdevDef['iscsi']> = { path, hostName: hosts[0]!.name, port: hosts[0]!.port };
  const authEl = child(source, 'auth');
  if (authEl) {
    const auth = parseAuth(authEl);
    const t = auth.secretType;
    if (t === undefined || !['none', 'volume', 'ceph', 'iscsi', 'tls', 'vtpm'].includes(t)) throw unsupportedConfig(`invalid secret type ${t ?? '(null)'}`);
    if (t !== 'iscsi') throw internalError(`hostdev invalid secret type '${t}'`);
    iscsi.auth = auth;
  }
  // virXPathString: an empty name is none
  const iqn = child(child(source, 'initiator') ?? source, 'iqn')?.attrs.name;
  if (child(source, 'initiator') && iqn) iscsi.initiator = iqn;
  return iscsi;
}

const scsiHostdevs = (def: DomainDef): ScsiHostdevDef[] => (def.devices.hostdev as { subsys?: string }[]).filter((h): h is ScsiHostdevDef => h.subsys === 'scsi');

/** virDomainDefMaybeAddHostdevSCSIcontroller: SCSI controllers 0…the highest one a host
 *  SCSI device names (one without an address counts as controller 0), with the model of
 *  the controller that highest one is on. libvirt runs it as each hostdev is parsed, and
 *  again with the implicit devices. */
export function addHostdevScsiControllers(def: DomainDef, list: ScsiHostdevDef[] = scsiHostdevs(def)): void {
  let max = -1;
  let model: string | undefined;
  for (const h of list) {
    if (h.info.address) continue; // (another address type: refused in validation)
    const c = h.drive?.controller ?? 0;
    if (c <= max) continue;
    max = c;
    const found = def.devices.controller.find((x) => x.type === 'scsi' && x.index === c);
    if (found?.model !== undefined) model = found.model;
  }
  for (let i = 0; i <= max; i++) maybeAddController(def, 'scsi', i, model);
}

/** the parse-time call, with the hostdev just parsed */
export function afterParse(h: StorageHostdevDef, def: DomainDef): void {
  if (h.subsys === 'scsi') addHostdevScsiControllers(def, [...scsiHostdevs(def), h]);
}

const sameDrive = (a: DriveAddress, b: DriveAddress) => a.controller === b.controller && a.bus === b.bus && a.target === b.target && a.unit === b.unit;
const scsiDiskAt = (def: DomainDef, a: DriveAddress) => def.devices.disk.some((d) => d.bus === 'scsi' && d.drive && !d.info.address && sameDrive(d.drive, a));

/** virDomainDiskDefAssignAddress's check for a SCSI disk's default address: no host SCSI
 *  device may have it already */
export function checkDiskAddressFree(dst: string, a: DriveAddress | undefined, def: DomainDef): void {
  if (!a) return;
  if (scsiHostdevs(def).some((h) => h.drive && sameDrive(h.drive, a))) {
    // (sic) libvirt's message lacks the closing quote
    throw unsupportedConfig(`using disk target name '${dst}' conflicts with SCSI host device address controller='${a.controller}' bus='0' target='0' unit='${a.unit}`);
  }
}

/** virDomainSCSIDriveAddressIsUsed: the controller's own limits, then disks and hostdevs */
function scsiAddressUsed(def: DomainDef, a: DriveAddress): boolean {
  const c = def.devices.controller.find((x) => x.type === 'scsi' && x.index === a.controller);
  const limits: Record<string, { max?: number; reserved?: number }> = {
    'virtio-scsi': { max: 16383 }, 'virtio-transitional': { max: 16383 }, 'virtio-non-transitional': { max: 16383 },
    ibmvscsi: { max: 31, reserved: 7 }, lsisas1068: { max: 1 }, lsisas1078: { max: 255 },
    lsilogic: { reserved: 7 }, vmpvscsi: { reserved: 7 }, buslogic: { reserved: 7 }, ncr53c90: { max: 6 }, dc390: { max: 6 }, am53c974: { max: 6 },
  };
  const l = c?.model !== undefined ? limits[c.model] : undefined;
  if (l?.max !== undefined && a.unit > l.max) return true;
  if (l?.reserved !== undefined && a.unit === l.reserved) return true;
  return scsiDiskAt(def, a) || scsiHostdevs(def).some((h) => h.drive && sameDrive(h.drive, a));
}

/** virDomainHostdevDefPostParse */
export function postParseStorageHostdev(h: StorageHostdevDef, def: DomainDef): void {
  if (h.subsys !== 'scsi') return;
  // virDomainPostParseCheckISCSIPath: an iSCSI target without a LUN is LUN 0
  if (h.iscsi && !h.iscsi.path.includes('/')) h.iscsi.path += '/0';
  if (!h.drive && !h.info.address) {
    // virDomainHostdevAssignAddress: the first free unit (bus and target 0) of the
    // narrow bus of controller 0, 1, …
    for (let controller = 0; ; controller++) {
      let unit = 0;
      while (unit < 7 && scsiAddressUsed(def, { controller, bus: 0, target: 0, unit })) unit++;
      if (unit < 7) {
        h.drive = { controller, bus: 0, target: 0, unit };
        break;
      }
    }
  }
  const a = h.drive;
  if (a && scsiDiskAt(def, a)) {
    throw xmlError(`SCSI host address controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}' in use by a SCSI disk`);
  }
}

/** virDomainHostdevDefValidate */
export function validateConfStorageHostdev(h: StorageHostdevDef): void {
  const type = h.info.address?.type;
  if (h.subsys === 'scsi') {
    if (type !== undefined) throw unsupportedConfig("SCSI host device must use 'drive' address type");
    if (h.sgio === 'unfiltered') throw unsupportedConfig('unfiltered sgio is no longer supported');
  } else if (type !== undefined && type !== 'pci' && type !== 'ccw') {
    throw unsupportedConfig("SCSI_host host device must use 'pci' or 'ccw' address type");
  }
}

/** qemuValidateDomainDeviceDefAddressDrive for a SCSI bus, qemuValidateDomainDeviceInfo's
 *  ROM check, then qemuValidateDomainDeviceDefHostdev */
export function validateStorageHostdev(h: StorageHostdevDef, { def, caps }: StageContext): void {
  if (h.subsys === 'scsi') {
    const a = h.drive!;
    if (a.bus !== 0) throw internalError('SCSI controller only supports 1 bus');
    const c = def.devices.controller.find((x) => x.type === 'scsi' && x.index === a.controller);
    if (c?.model === 'lsilogic' && a.target !== 0) throw unsupportedConfig("target must be 0 for controller model 'lsilogic'");
    if (c && c.model !== 'lsilogic' && !hasFlag(caps, 'scsi-disk.channel')) throw notImplemented('SCSI host devices on a QEMU without scsi-disk.channel');
    if (h.info.rom) throw unsupportedConfig('ROM tuning is only supported for PCI devices');
    return;
  }
  if (h.info.rom && h.info.address?.type === 'ccw') throw unsupportedConfig('ROM tuning is only supported for PCI devices');
  if (h.info.bootIndex !== undefined) throw unsupportedConfig('booting from assigned devices is not supported by vhost SCSI devices');
  if (!hasFlag(caps, 'vhost-scsi')) throw unsupportedConfig("This QEMU doesn't support vhost-scsi devices");
}

/** virDomainHostdevMatch for these types */
export function sameStorageSource(a: StorageHostdevDef, b: StorageHostdevDef): boolean {
  if (a.subsys === 'scsi' && b.subsys === 'scsi') {
    if (a.iscsi || b.iscsi) return !!a.iscsi && !!b.iscsi && a.iscsi.hostName === b.iscsi.hostName && a.iscsi.port === b.iscsi.port && a.iscsi.path === b.iscsi.path;
    const x = a.host!;
    const y = b.host!;
    return x.adapter === y.adapter && x.bus === y.bus && x.target === y.target && x.unit === y.unit;
  }
  if (a.subsys === 'scsi_host' && b.subsys === 'scsi_host') return a.wwpn === b.wwpn;
  return false;
}

/** virDomainDefDuplicateDriveAddressesValidate, its host device part (after the disks') */
export function validateHostdevDriveAddresses(def: DomainDef): void {
  const list = scsiHostdevs(def);
  list.forEach((h, i) => {
    const a = h.drive;
    if (!a) return;
    // (sic) libvirt prints the bus where the controller goes and the controller where the bus goes
    const where = `controller='${a.bus}' bus='${a.controller}' target='${a.target}' unit='${a.unit}'`;
    if (list.slice(i + 1).some((o) => o.drive && sameDrive(o.drive, a))) throw unsupportedConfig(`SCSI host address ${where} in use by another SCSI host device`);
    if (scsiDiskAt(def, a)) throw unsupportedConfig(`SCSI host address ${where} in use by another SCSI disk`);
  });
}

/** The PCI slot a vhost-scsi device takes (virtio's, conventional PCI for the transitional model) */
export function storageHostdevPci(h: StorageHostdevDef, { def, caps, machine }: StageContext): PciNeed | undefined {
  if (h.subsys !== 'scsi_host' || machine.virtioCcw) return undefined;
  return { info: h.info, connect: h.model === 'virtio-transitional' ? pciFlags : virtioFlags(def, caps), function: -1 };
}

export function formatStorageHostdev(w: Writer, h: StorageHostdevDef): void {
  if (h.subsys === 'scsi_host') {
    w.open(`<hostdev mode='subsystem' type='scsi_host' managed='${h.managed ? 'yes' : 'no'}'${attr('model', h.model)}>`);
    w.line(`<source protocol='vhost' wwpn='${h.wwpn}'/>`);
    formatInfo(w, h.info);
    w.close('</hostdev>');
    return;
  }
  w.open(`<hostdev mode='subsystem' type='scsi' managed='${h.managed ? 'yes' : 'no'}'${attr('sgio', h.sgio)}${attr('rawio', h.rawio)}>`);
  const i = h.iscsi;
  if (i) {
    // (libvirt writes the target name unescaped)
    w.open(`<source protocol='iscsi' name='${i.path}'>`);
    w.line(`<host name='${escapeXml(i.hostName)}'${i.port ? ` port='${i.port}'` : ''}/>`);
    const a = i.auth;
    if (a) {
      // virStorageAuthDefFormat
      w.open(`<auth${a.authType ? ` type='${a.authType}'` : ''} username='${escapeXml(a.username)}'>`);
      w.line(`<secret${a.secretType !== undefined ? ` type='${a.secretType}'` : ''}${a.uuid !== undefined ? ` uuid='${a.uuid}'` : ` usage='${escapeXml(a.usage!)}'`}/>`);
      w.close('</auth>');
    }
    if (i.initiator !== undefined) {
      w.open('<initiator>');
      w.line(`<iqn name='${escapeXml(i.initiator)}'/>`);
      w.close('</initiator>');
    }
    w.close('</source>');
  } else {
    const x = h.host!;
    w.open('<source>');
    // (libvirt writes the adapter name unescaped)
    w.line(`<adapter name='${x.adapter}'/>`);
    w.line(`<address bus='${x.bus}' target='${x.target}' unit='${x.unit}'/>`);
    w.close('</source>');
  }
  if (h.readonly) w.line('<readonly/>');
  if (h.shareable) w.line('<shareable/>');
  formatInfo(w, { ...h.info, address: undefined });
  const a = h.drive;
  if (a) w.line(`<address type='drive' controller='${a.controller}' bus='${a.bus}' target='${a.target}' unit='${a.unit}'/>`);
  w.close('</hostdev>');
}

/** qemuConnectDomainXMLToNativePrepareHost: the sg node of a host SCSI device, from sysfs */
export function sgDevicePath(h: ScsiHostdevDef, { caps }: StageContext): string | undefined {
  if (!h.host) return undefined;
  const x = h.host;
  const facts = caps.scsiHost?.sgDevices;
  if (facts === undefined) throw notImplemented("<hostdev type='scsi'> on a snapshot without the host's SCSI devices (host/<snapshot>.json \"scsi\")");
  // (the test harness names the node itself, without looking at the adapter)
  if (facts === 'libvirt-test-mock') return '/dev/sg0';
  const m = /^scsi_host(.*)$/.exec(x.adapter);
  const id = m ? parseAdapterId(m[1]!) : undefined;
  if (id === undefined) throw internalError(`Cannot parse adapter '${x.adapter}'`);
  const address = `${id}:${x.bus}:${x.target}:${x.unit}`;
  const found = facts.find((f) => f.address === address);
  if (!found) throw new TranslationError('bare', `cannot open directory '/sys/bus/scsi/devices/${address}/scsi_generic': No such file or directory`);
  return `/dev/${found.sg}`;
}

/** virSCSIDeviceGetAdapterId: virStrToLong_ui, base 0, the whole rest; printed as %d */
function parseAdapterId(s: string): number | undefined {
  const t = s.replace(/^[ \t\n\v\f\r]+/, '');
  const neg = t.startsWith('-');
  const body = t.replace(/^[+-]/, '');
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) n = parseInt(body.slice(2), 16);
  else if (/^0[0-7]*$/.test(body)) n = parseInt(body, 8);
  else if (/^[1-9][0-9]*$/.test(body)) n = parseInt(body, 10);
  else return undefined;
  if (n > 0xffffffff) return undefined;
  if (neg) n = (0x100000000 - n) % 0x100000000;
  return n | 0;
}

/** qemuBuildHostdevSCSICommandLine / the vhost-scsi part of qemuBuildHostdevCommandLine */
/** virSocketAddrNumericFamily(name) == AF_INET6: a numeric IPv6 address */
function isIPv6(name: string): boolean {
  if (!name.includes(':') || /[[\]/]/.test(name)) return false;
  try {
    return new URL(`http://[${name}]/`).hostname !== '';
  } catch {
    return false;
  }
}

/** qemuDomainSecretInfoSetupFromSecret's lookup (an iSCSI secret) */
export function hostdevSecret(a: HostdevAuth, { caps }: StageContext): string {
  return secretValue(caps, a.uuid !== undefined ? { uuid: a.uuid } : { usage: a.usage! }, 'iscsi', '<auth><secret>');
}

/** qemuBlockStorageSourceGetISCSIProps (no default port for a hostdev: 0 when not given) */
function iscsiProps(i: NonNullable<ScsiHostdevDef['iscsi']>, secretAlias: string | undefined): Record<string, unknown> {
  const slash = i.path.indexOf('/');
  const target = i.path.slice(0, slash);
  const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(i.path.slice(slash + 1));
  if (!m || Number(m[1]) > 4294967295) throw internalError(`cannot parse target for lunStr '${target}'`);
  const portal = isIPv6(i.hostName) ? `[${i.hostName}]:${i.port}` : `${i.hostName}:${i.port}`;
  const auth = i.auth && secretAlias ? { user: i.auth.username, 'password-secret': secretAlias } : {};
  return { driver: 'iscsi', portal, target, lun: Number(m[1]), transport: 'tcp', ...auth, ...(i.initiator !== undefined ? { 'initiator-name': i.initiator } : {}) };
}

export function storageHostdevCommand(h: StorageHostdevDef, nodeId: number, sgPath: string, ctx: StageContext): string[][] {
  const { def, caps } = ctx;
  if (h.subsys === 'scsi_host') {
    const fd = caps.scsiHost?.vhostScsiFd;
    if (fd === undefined) throw notImplemented("<hostdev type='scsi_host'> on a snapshot without the host's /dev/vhost-scsi (host/<snapshot>.json \"scsi\")");
    if (fd === null) throw unsupportedConfig("vhost-scsi device file '/dev/vhost-scsi' cannot be found");
    const ccw = h.info.address?.type === 'ccw';
    const suffix = !ccw && h.model && h.model !== 'virtio' && hasFlag(caps, 'virtio-pci-non-transitional') ? h.model.slice('virtio'.length) : '';
    if (!ccw && h.model === 'virtio-non-transitional' && !suffix) throw unsupportedConfig('virtio non-transitional model not supported for this qemu');
    const props = { driver: ccw ? 'vhost-scsi-ccw' : `vhost-scsi-pci${suffix}`, wwpn: h.wwpn, vhostfd: String(fd), id: h.info.alias, ...addressProps(h.info, def) };
    return [['-device', JSON.stringify(props)]];
  }
  const node = `libvirt-${nodeId}-backend`;
  // qemuDomainPrepareHostdev: the <auth> secret, an object named after the backend
  const auth = h.iscsi?.auth;
  const secretAlias = `${node}-secret0`;
  const secret = auth ? [['-object', JSON.stringify(secretObjectProps(ctx.caps, secretAlias, hostdevSecret(auth, ctx), '<auth><secret>'))]] : [];
  const backend = h.iscsi
    ? { ...iscsiProps(h.iscsi, auth ? secretAlias : undefined), 'node-name': node, 'read-only': h.readonly }
    : { driver: 'host_device', filename: sgPath, 'node-name': node, 'read-only': h.readonly };
  const dev: Record<string, unknown> = { driver: 'scsi-generic', drive: node, id: h.info.alias };
  if (h.info.bootIndex !== undefined) dev.bootindex = h.info.bootIndex;
  // qemuBuildDeviceAddressProps for a SCSI drive address
  const a = h.drive!;
  const c = def.devices.controller.find((x) => x.type === 'scsi' && x.index === a.controller);
  if (!c?.info.alias) throw internalError(`unable to find a SCSI controller for idx=${a.controller}`);
  if (c.model === 'lsilogic') Object.assign(dev, { bus: `${c.info.alias}.${a.bus}`, 'scsi-id': a.unit });
  else Object.assign(dev, { bus: `${c.info.alias}.0`, channel: a.bus, 'scsi-id': a.target, lun: a.unit });
  return [...secret, ['-blockdev', JSON.stringify(backend)], ['-device', JSON.stringify(dev)]];
}
