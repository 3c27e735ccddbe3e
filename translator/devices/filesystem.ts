// <filesystem>: a host directory shared with the guest (libvirt's virDomainFSDef). For
// QEMU only type='mount' works: 9p (virtio-9p, with an -fsdev backend; driver path or
// handle) and virtiofs (vhost-user-fs, whose virtiofsd libvirt starts itself or, with
// <source socket>, finds running). The other types and drivers are parsed as libvirt
// parses them and refused where it refuses them.
import { accelOf, findMachine, hasFlag } from '../capabilities.js';
import { domainLibDir } from '../domain/ids.js';
import { sanitizePath } from '../domain/os.js';
import { scaledBytes, unitScale } from '../domain/units.js';
import { escapeComma } from '../argv.js';
import { notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef, TriState } from '../model.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';
import { propEnum, propOnOff } from '../xml/props.js';
import { child, isElement, textOf, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { addressProps, formatInfo, nextAliasIndex, parseDeviceInfo, zpciDevice } from './info.js';
import type { DeviceKind, StageContext } from './kind.js';
import type { QemuCaps } from '../capabilities.js';

const TYPES = ['mount', 'block', 'file', 'template', 'ram', 'bind', 'volume'] as const;
const DRIVERS = ['default', 'path', 'handle', 'loop', 'nbd', 'ploop', 'virtiofs'] as const;
const ACCESS = ['', 'passthrough', 'mapped', 'squash'] as const;
const MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
const MULTIDEVS = ['default', 'remap', 'forbid', 'warn'] as const;
const CACHE = ['default', 'none', 'always'] as const;
const SANDBOX = ['default', 'namespace', 'chroot'] as const;
/** virStorageFileFormat; 'none' (0) is refused as unknown */
const FORMATS = ['none', 'raw', 'dir', 'bochs', 'cloop', 'dmg', 'iso', 'vpc', 'vdi', 'fat', 'vhd', 'ploop', 'cow', 'qcow', 'qcow2', 'qed', 'vmdk'];
const POOL_MODES = ['default', 'host', 'direct'];

/** virDomainVirtioOptions, as <driver> attributes (in libvirt's order) and -device properties. */
const VIRTIO_OPTS = [['iommu', 'iommu_platform'], ['ats', 'ats'], ['packed', 'packed'], ['page_per_vq', 'page-per-vq']] as const;
type VirtioOpts = Partial<Record<(typeof VIRTIO_OPTS)[number][0], TriState>>;

export interface FsDef {
  type: (typeof TYPES)[number];
  accessmode: (typeof ACCESS)[number];
  model?: Exclude<(typeof MODELS)[number], 'default'>;
  multidevs?: Exclude<(typeof MULTIDEVS)[number], 'default'>;
  /** 0: not set */
  fmode: number;
  dmode: number;
  /** bytes; 0: not set */
  spaceHardLimit: bigint;
  spaceSoftLimit: bigint;
  /** dir, dev, file or name of <source>, by type */
  src?: string;
  sock?: string;
  /** ram: bytes */
  usage?: bigint;
  pool?: { pool: string; volume: string };
  dst?: string;
  readonly: boolean;
  fsdriver: (typeof DRIVERS)[number];
  wrpolicy?: 'immediate';
  format?: string;
  virtio?: VirtioOpts;
  /** virtiofs: 0 means not set */
  queueSize: bigint;
  binary?: string;
  xattr?: TriState;
  posixLock?: TriState;
  flock?: TriState;
  cache?: 'none' | 'always';
  sandbox?: 'namespace' | 'chroot';
  /** -1: not set */
  threadPoolSize: number;
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    filesystem: FsDef[];
  }
}

const noSource = (what: string | undefined) =>
  new TranslationError('bare', what === undefined ? 'missing source information for device' : `missing source information for device ${what}`);

/** virXMLPropUInt in base 8 (strtoul: blanks and a '+' before the digits). */
function propOctal(e: XElement, name: string): number | undefined {
  const v = e.attrs[name];
  if (v === undefined) return undefined;
  const m = /^[ \t\n\v\f\r]*\+?([0-7]+)$/.exec(v);
  const n = m ? parseInt(m[1]!, 8) : NaN;
  if (!(n <= 0xffffffff)) throw xmlError(`Invalid value for attribute '${name}' in element '${e.name}': '${v}'. Expected non-negative integer value`);
  if (n > 0o777) throw xmlError(`invalid ${name}: '0${n.toString(8)}'`);
  return n;
}

/** virStrToLong_ull over the whole string: strtoull takes a sign, and wraps a negative value. */
function strToULLWrapping(s: string): bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (!m) return undefined;
  const v = BigInt(m[2]!);
  if (v > 2n ** 64n - 1n) return undefined;
  return m[1] === '-' && v ? 2n ** 64n - v : v;
}

/** virXPathString: an empty string counts as absent. */
const xpathString = (v: string | undefined) => (v === '' ? undefined : v);

/** virParseScaledValue("./NAME[1]", unit default bytes): 0 when absent or empty. */
function scaledChild(e: XElement, name: string): bigint {
  const el = child(e, name);
  const raw = el ? textOf(el) : '';
  return raw === '' ? 0n : scaledBytes(raw, `./${name}[1]`, el!.attrs.unit, 1);
}

function parseVirtio(drv: XElement): VirtioOpts {
  const out: VirtioOpts = {};
  for (const [a] of VIRTIO_OPTS) {
    const v = propOnOff(drv, a);
    if (v) out[a] = v;
  }
  return out;
}

function parseRamUsage(src: XElement | undefined): bigint {
  const usage = src?.attrs.usage;
  if (usage === undefined) throw xmlError("missing 'usage' attribute for RAM filesystem");
  const v = strToULLWrapping(usage);
  if (v === undefined) throw xmlError(`cannot parse usage '${usage}' for RAM filesystem`);
  const units = src!.attrs.units;
  const scale = BigInt(unitScale(units, 1024));
  if (v && v > (2n ** 64n - 1n) / scale) throw new TranslationError('bare', `numerical overflow: value too large: ${v}${units ?? ''}`);
  return v * scale;
}

/** virDomainFSDefParseXML */
function parse(e: XElement): FsDef {
  const fs: FsDef = {
    type: propEnum(e, 'type', TYPES) ?? 'mount',
    accessmode: propEnum(e, 'accessmode', ACCESS) ?? '',
    fmode: propOctal(e, 'fmode') ?? 0,
    dmode: propOctal(e, 'dmode') ?? 0,
    spaceHardLimit: 0n,
    spaceSoftLimit: 0n,
    readonly: false,
    fsdriver: 'default',
    queueSize: 0n,
    threadPoolSize: -1,
    info: {},
  };
  const model = propEnum(e, 'model', MODELS, { nonZero: true });
  if (model && model !== 'default') fs.model = model;
  const multidevs = propEnum(e, 'multidevs', MULTIDEVS);
  if (multidevs && multidevs !== 'default') fs.multidevs = multidevs;
  fs.spaceHardLimit = scaledChild(e, 'space_hard_limit');
  fs.spaceSoftLimit = scaledChild(e, 'space_soft_limit');

  const srcEl = child(e, 'source');
  let source: string | undefined;
  if (srcEl) {
    fs.sock = srcEl.attrs.socket;
    const srcAttr = { mount: 'dir', bind: 'dir', file: 'file', block: 'dev', template: 'name' } as Record<string, string>;
    if (srcAttr[fs.type]) source = srcEl.attrs[srcAttr[fs.type]!];
    if (fs.type === 'volume') {
      const { pool, volume, mode } = srcEl.attrs;
      if (pool !== undefined || volume !== undefined) {
        if (pool === undefined || volume === undefined) throw xmlError("'pool' and 'volume' must be specified together for 'pool' type source");
        if (mode !== undefined && POOL_MODES.indexOf(mode) <= 0) throw unsupportedConfig(`unknown source mode '${mode}' for volume type disk`);
        fs.pool = { pool, volume };
      }
    }
  }
  const target = xpathString(child(e, 'target')?.attrs.dir);
  if (child(e, 'readonly')) fs.readonly = true;

  const drv = child(e, 'driver');
  if (drv) {
    fs.fsdriver = propEnum(drv, 'type', DRIVERS) ?? 'default';
    const wr = propEnum(drv, 'wrpolicy', ['default', 'immediate'] as const);
    if (wr === 'immediate') fs.wrpolicy = wr;
    const format = drv.attrs.format;
    if (format !== undefined) {
      if (FORMATS.indexOf(format) <= 0) throw unsupportedConfig(`unknown driver format value '${format}'`);
      fs.format = format;
    }
    fs.virtio = parseVirtio(drv);
  }

  if (fs.fsdriver === 'virtiofs') {
    const queue = xpathString(drv?.attrs.queue);
    if (queue !== undefined) {
      const q = strToULLWrapping(queue);
      if (q === undefined) throw xmlError(`cannot parse queue size '${queue}' for virtiofs`);
      fs.queueSize = q;
    }
    const bin = child(e, 'binary');
    const pool = xpathString(bin && child(bin, 'thread_pool')?.attrs.size);
    if (pool !== undefined) {
      const n = /^[ \t\n\v\f\r]*[+-]?\d+$/.test(pool) ? Number(pool.trim()) : NaN;
      if (!(n >= -(2 ** 31) && n < 2 ** 31)) throw xmlError(`cannot parse thread pool size '${pool}' for virtiofs`);
      fs.threadPoolSize = n;
    }
    const path = xpathString(bin?.attrs.path);
    if (path !== undefined) fs.binary = sanitizePath(path);
    if (bin) {
      const xattr = propOnOff(bin, 'xattr');
      if (xattr) fs.xattr = xattr;
      const lock = child(bin, 'lock');
      if (lock) {
        const posix = propOnOff(lock, 'posix');
        const flock = propOnOff(lock, 'flock');
        if (posix) fs.posixLock = posix;
        if (flock) fs.flock = flock;
      }
      const cacheEl = child(bin, 'cache');
      const cache = cacheEl && propEnum(cacheEl, 'mode', CACHE, { nonZero: true });
      if (cache && cache !== 'default') fs.cache = cache;
      const sbEl = child(bin, 'sandbox');
      const sandbox = sbEl && propEnum(sbEl, 'mode', SANDBOX, { nonZero: true });
      if (sandbox && sandbox !== 'default') fs.sandbox = sandbox;
    }
  }

  if (source === undefined && fs.type !== 'ram' && fs.type !== 'volume' && fs.sock === undefined) throw noSource(target);
  if (fs.type === 'ram') fs.usage = parseRamUsage(srcEl);
  if (source !== undefined) fs.src = source;
  if (target !== undefined) fs.dst = target;
  // libvirt reads <boot> here but not <rom> (ignored); an ACPI index is not modelled.
  fs.info = parseDeviceInfo({ ...e, children: e.children.filter((c) => !isElement(c) || c.name !== 'rom') }, '<filesystem>', true);
  return fs;
}

const is9p = (fs: FsDef) => fs.fsdriver === 'default' || fs.fsdriver === 'path' || fs.fsdriver === 'handle';

/** qemuValidateDomainDefVhostUserRequireSharedMemory */
export function requireSharedMemory(def: DomainDef, caps: QemuCaps, name: string): void {
  const shared = def.memoryBacking.access === 'shared';
  const cells = def.numa ?? [];
  const ramId = findMachine(caps, accelOf(def.virtType), def.os.machine!)?.defaultRAMid;
  if (!cells.length && !(ramId && shared)) throw unsupportedConfig(`'${name}' requires shared memory`);
  for (const c of cells) {
    if (c.memAccess === 'private' || (c.memAccess === undefined && !shared)) throw unsupportedConfig(`'${name}' requires shared memory`);
  }
}

/** qemuValidateDomainDeviceDefFS */
function validate(fs: FsDef, { def, caps }: StageContext): void {
  if (fs.type !== 'mount') throw unsupportedConfig('only supports mount filesystem type');
  if (fs.multidevs && !hasFlag(caps, 'fsdev.multidevs')) throw unsupportedConfig('multidevs is not supported with this QEMU binary');
  if ((fs.fmode || fs.dmode) && fs.accessmode !== 'mapped') throw unsupportedConfig('fmode and dmode must be used with accessmode=mapped');
  if (fs.fsdriver !== 'virtiofs' && fs.sandbox) throw unsupportedConfig('sandbox can only be used with driver=virtiofs');
  switch (fs.fsdriver) {
    case 'handle':
      if (fs.accessmode !== 'passthrough') throw unsupportedConfig('only supports passthrough accessmode');
      break;
    case 'loop':
    case 'nbd':
    case 'ploop':
      throw unsupportedConfig('Filesystem driver type not supported');
    case 'virtiofs':
      // (libvirt runs the daemon privileged, as qemu:///system does: session mode is not modelled)
      if (fs.sock === undefined) {
        if (fs.readonly) throw unsupportedConfig('virtiofs does not yet support read-only mode');
        if (fs.accessmode !== 'passthrough') throw unsupportedConfig('virtiofs only supports passthrough accessmode');
        if (fs.wrpolicy) throw unsupportedConfig('virtiofs does not support wrpolicy');
      }
      if (fs.model) throw unsupportedConfig('virtiofs does not support model');
      if (fs.format) throw unsupportedConfig('virtiofs does not support format');
      if (!hasFlag(caps, 'vhost-user-fs')) throw unsupportedConfig('virtiofs is not supported with this QEMU binary');
      if (fs.multidevs) throw unsupportedConfig('virtiofs does not support multidevs');
      if (fs.fmode || fs.dmode) throw unsupportedConfig('virtiofs does not support fmode and dmode');
      requireSharedMemory(def, caps, 'virtiofs');
      if (fs.info.bootIndex !== undefined && !hasFlag(caps, 'vhost-user-fs.bootindex')) {
        throw unsupportedConfig('setting virtiofs boot order is not supported with this QEMU binary');
      }
      break;
    default:
      break;
  }
}

/** virDomainDefFSValidate: two virtiofs shares may not have one target. */
export function validateFsTargets(def: DomainDef): void {
  const seen = new Set<string | undefined>();
  for (const fs of def.devices.filesystem) {
    if (fs.fsdriver !== 'virtiofs') continue;
    if (seen.has(fs.dst)) throw unsupportedConfig(`filesystem target '${fs.dst}' specified twice`);
    seen.add(fs.dst);
  }
}

/** qemuBuildVirtioDevProps: the model name (bus and transitional suffixes), then the virtio options. */
function virtioDevice(fs: FsDef, base: string, caps: QemuCaps): Record<string, unknown> {
  let driver = `${base}-${fs.info.address?.type === 'ccw' ? 'ccw' : 'pci'}`;
  // (libvirt reports, but does not fail on, a transitional model on CCW)
  if (fs.model === 'virtio-transitional' && hasFlag(caps, 'virtio-pci-non-transitional')) driver += '-transitional';
  if (fs.model === 'virtio-non-transitional') {
    if (!hasFlag(caps, 'virtio-pci-non-transitional')) throw unsupportedConfig('virtio non-transitional model not supported for this qemu');
    driver += '-non-transitional';
  }
  const props: Record<string, unknown> = { driver };
  for (const [a, prop] of VIRTIO_OPTS) if (fs.virtio?.[a]) props[prop] = fs.virtio[a] === 'on';
  return props;
}

/** qemuBuildFSStr: the -fsdev value of a 9p share. */
function fsdevValue(fs: FsDef): string {
  let opt = '';
  if (fs.fsdriver === 'handle') opt = 'handle'; // (QEMU 4.0 removed it; libvirt still writes it)
  else {
    opt = 'local';
    const model = { '': '', passthrough: 'passthrough', mapped: 'mapped', squash: 'none' }[fs.accessmode];
    if (model) opt += `,security_model=${model}`;
    if (fs.multidevs) opt += `,multidevs=${fs.multidevs}`;
    if (fs.fmode) opt += `,fmode=${fs.fmode.toString(8).padStart(4, '0')}`;
    if (fs.dmode) opt += `,dmode=${fs.dmode.toString(8).padStart(4, '0')}`;
  }
  if (fs.wrpolicy) opt += `,writeout=${fs.wrpolicy}`;
  // (a 9p share with only a <source socket> gets an empty path, as libvirt writes it)
  opt += `,id=fsdev-${fs.info.alias},path=${escapeComma(fs.src ?? '')}`;
  if (fs.readonly) opt += ',readonly';
  return opt;
}

const octal4 = (n: number) => n.toString(8).padStart(4, '0');

function format(w: Writer, fs: FsDef): void {
  let head = `filesystem type='${fs.type}'`;
  if (fs.accessmode) head += ` accessmode='${fs.accessmode}'`;
  if (fs.model) head += ` model='${fs.model}'`;
  if (fs.multidevs) head += ` multidevs='${fs.multidevs}'`;
  if (fs.fmode) head += ` fmode='${octal4(fs.fmode)}'`;
  if (fs.dmode) head += ` dmode='${octal4(fs.dmode)}'`;
  w.open(`<${head}>`);
  let drv = '';
  if (fs.fsdriver !== 'default') {
    drv += ` type='${fs.fsdriver}'${attr('format', fs.format)}${attr('wrpolicy', fs.wrpolicy)}`;
    if (fs.queueSize) drv += ` queue='${fs.queueSize}'`;
  }
  for (const [a] of VIRTIO_OPTS) drv += attr(a, fs.virtio?.[a]);
  if (drv) w.line(`<driver${drv}/>`);
  if (fs.fsdriver === 'virtiofs') {
    const bin = `binary${attr('path', fs.binary)}${attr('xattr', fs.xattr)}`;
    const lock = `${attr('posix', fs.posixLock)}${attr('flock', fs.flock)}`;
    const kids = fs.cache || fs.sandbox || lock || fs.threadPoolSize >= 0;
    if (bin !== 'binary' || kids) {
      w.element(bin, 'binary', kids ? () => {
        if (fs.cache) w.line(`<cache mode='${fs.cache}'/>`);
        if (fs.sandbox) w.line(`<sandbox mode='${fs.sandbox}'/>`);
        if (lock) w.line(`<lock${lock}/>`);
        if (fs.threadPoolSize >= 0) w.line(`<thread_pool size='${fs.threadPoolSize}'/>`);
      } : undefined);
    }
  }
  // Only type='mount' gets past validation, so only its source is ever written.
  if (fs.sock !== undefined) w.line(`<source${attr('socket', fs.sock)}/>`);
  else if (fs.src !== undefined) w.line(`<source${attr('dir', fs.src)}/>`);
  if (fs.dst !== undefined) w.line(`<target${attr('dir', fs.dst)}/>`);
  if (fs.readonly) w.line('<readonly/>');
  formatInfo(w, fs.info);
  if (fs.spaceHardLimit) w.line(`<space_hard_limit unit='bytes'>${fs.spaceHardLimit}</space_hard_limit>`);
  if (fs.spaceSoftLimit) w.line(`<space_soft_limit unit='bytes'>${fs.spaceSoftLimit}</space_soft_limit>`);
  w.close('</filesystem>');
}

function command(fs: FsDef, { def, caps }: StageContext): string[][] {
  const id = fs.info.alias!;
  if (is9p(fs)) {
    const dev = { ...virtioDevice(fs, 'virtio-9p', caps), id, fsdev: `fsdev-${id}`, mount_tag: fs.dst, ...addressProps(fs.info, def) };
    return [['-fsdev', fsdevValue(fs)], ...zpciDevice(fs.info), ['-device', JSON.stringify(dev)]];
  }
  if (fs.fsdriver !== 'virtiofs') return [];
  // The daemon's socket: the one given, else the one libvirt starts virtiofsd on.
  const sock = fs.sock ?? `${domainLibDir(def.name)}/${id}-fs.sock`;
  const dev: Record<string, unknown> = { ...virtioDevice(fs, 'vhost-user-fs', caps), id, chardev: `chr-vu-${id}` };
  // libvirt writes the unsigned value as a signed 64-bit number (queue='-1' → -1)
  const queue = fs.queueSize >= 2n ** 63n ? fs.queueSize - 2n ** 64n : fs.queueSize;
  if (queue > BigInt(Number.MAX_SAFE_INTEGER) || queue < -BigInt(Number.MAX_SAFE_INTEGER)) throw notImplemented('a virtiofs queue size beyond ±2^53');
  if (queue) dev['queue-size'] = Number(queue);
  dev.tag = fs.dst;
  if (fs.info.bootIndex !== undefined) dev.bootindex = fs.info.bootIndex;
  Object.assign(dev, addressProps(fs.info, def));
  return [['-chardev', `socket,id=chr-vu-${id},path=${escapeComma(sock)}`], ...zpciDevice(fs.info), ['-device', JSON.stringify(dev)]];
}

export const filesystem: DeviceKind<FsDef> = {
  element: 'filesystem',
  parse,
  info: (fs) => fs.info,
  postParse(fs) {
    // virDomainFSDefPostParse
    if (fs.accessmode === '' && fs.sock === undefined) fs.accessmode = 'passthrough';
  },
  // qemuDomainDeviceCalculatePCIConnectFlags: loop/nbd/ploop have none (and so no slot)
  pci: (fs, { def, caps, machine }) => {
    // (on s390x only a filesystem given a PCI address is a PCI device: zPCI)
    if (machine.virtioCcw && fs.info.address?.type !== 'pci') return undefined;
    const connect = is9p(fs) ? (fs.model === 'virtio-transitional' ? pciFlags : virtioFlags(def, caps)) : fs.fsdriver === 'virtiofs' ? virtioFlags(def, caps) : 0;
    return { info: fs.info, connect, function: -1 };
  },
  ccw: (_fs, { machine }) => machine.virtioCcw,
  validateConf(fs) {
    // virDomainFSDefValidate
    if (fs.dst === undefined) {
      const src = fs.src ?? fs.sock;
      throw new TranslationError('bare', src === undefined ? 'missing target information for device' : `missing target information for device ${src}`);
    }
    if (fs.info.bootIndex !== undefined && fs.fsdriver !== 'virtiofs') throw unsupportedConfig('boot order is only supported for virtiofs');
  },
  validate,
  // qemuAssignDeviceFSAlias: one past the highest fsN so far (a user alias takes none)
  alias: (_fs, i, def) => `fs${nextAliasIndex(def.devices.filesystem.slice(0, i).map((f) => f.info), 'fs')}`,
  format,
  command,
};
