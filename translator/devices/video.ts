// <video>: the guest's display adapters (libvirt's virDomainVideoDef). The first video
// is the primary one (a video with primary='yes' is moved there by the parser); a
// domain with graphics and no video gets one of the default model; the primary video
// takes the slot QEMU would give the VGA (see machines/*: chipsetPci).
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef } from '../model.js';
import type { PciAddressSet } from '../pci/addrset.js';
import { sanitizePath } from '../domain/os.js';
import { pciFlags, pcieFlags, virtioFlags } from '../pci/connect.js';
import { ON_OFF, propEnum, propUInt, required, YES_NO } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { addressProps, formatInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { Collector, DeviceKind, StageContext } from './kind.js';

const TYPES = ['default', 'vga', 'cirrus', 'vmvga', 'xen', 'vbox', 'qxl', 'parallels', 'virtio', 'gop', 'none', 'bochs', 'ramfb'] as const;
export type VideoType = (typeof TYPES)[number];

export interface VideoDef {
  type: VideoType;
  ram: number;
  vram: number;
  vram64: number;
  vgamem: number;
  heads: number;
  primary: boolean;
  accel?: { accel3d?: 'yes' | 'no'; accel2d?: 'yes' | 'no'; rendernode?: string };
  res?: { x: number; y: number };
  /** <driver name>: vhostuser, a vhost-user-gpu helper of the host renders */
  backend?: 'qemu' | 'vhostuser';
  /** <driver iommu ats packed page_per_vq> (virDomainVirtioOptions) */
  virtio?: Partial<Record<(typeof VIRTIO_OPTS)[number][0], 'on' | 'off'>>;
  /** <driver vgaconf> */
  vgaconf?: 'on' | 'off';
  info: DeviceInfo;
}

/** virtio options: XML attribute, QEMU property */
const VIRTIO_OPTS = [['iommu', 'iommu_platform'], ['ats', 'ats'], ['packed', 'packed'], ['page_per_vq', 'page-per-vq']] as const;

declare module '../model.js' {
  interface Devices {
    video: VideoDef[];
  }
}

/** virStrToLong_uip: a whole unsigned decimal (leading blanks, '+' allowed) */
function uip(e: XElement, a: string, err: (v: string) => TranslationError): number {
  const v = e.attrs[a];
  if (v === undefined) return 0;
  const m = /^[ \t\n\v\f\r]*\+?(\d+)$/.exec(v);
  if (!m || Number(m[1]) > 4294967295) throw err(v);
  return Number(m[1]);
}

/** virDomainVideoDefParseXML */
function parse(e: XElement): VideoDef {
  const model = child(e, 'model');
  const v: VideoDef = { type: 'default', ram: 0, vram: 0, vram64: 0, vgamem: 0, heads: 1, primary: false, info: {} };
  if (model?.attrs.primary === 'yes') v.primary = true;
  const accel = model && child(model, 'acceleration');
  if (accel) {
    const accel3d = propEnum(accel, 'accel3d', YES_NO);
    const accel2d = propEnum(accel, 'accel2d', YES_NO);
    const rendernode = accel.attrs.rendernode;
    if (rendernode === undefined && !accel3d && !accel2d) throw unsupportedConfig('missing values for acceleration');
    // (a rendernode is only valid with the vhost-user backend)
    v.accel = { ...(accel3d ? { accel3d } : {}), ...(accel2d ? { accel2d } : {}), ...(rendernode !== undefined ? { rendernode: sanitizePath(rendernode) } : {}) };
  }
  const res = model && child(model, 'resolution');
  if (res) {
    required(res, 'x');
    const x = propUInt(res, 'x')!;
    required(res, 'y');
    v.res = { x, y: propUInt(res, 'y')! };
  }
  const driver = child(e, 'driver');
  if (driver) {
    const name = propEnum(driver, 'name', ['default', 'qemu', 'vhostuser'] as const, { nonZero: true });
    if (name && name !== 'default') v.backend = name;
    for (const [a] of VIRTIO_OPTS) {
      const o = propEnum(driver, a, ON_OFF);
      if (o) (v.virtio ??= {})[a] = o;
    }
  }
  const type = model?.attrs.type;
  if (type !== undefined) {
    if (!TYPES.includes(type as VideoType)) throw unsupportedConfig(`unknown video model '${type}'`);
    v.type = type as VideoType;
  }
  if (model) {
    v.ram = uip(model, 'ram', (x) => xmlError(`cannot parse video ram '${x}'`));
    v.vram = uip(model, 'vram', (x) => xmlError(`cannot parse video vram '${x}'`));
    v.vram64 = uip(model, 'vram64', (x) => xmlError(`cannot parse video vram64 '${x}'`));
    v.vgamem = uip(model, 'vgamem', (x) => xmlError(`cannot parse video vgamem '${x}'`));
    if (model.attrs.heads !== undefined) v.heads = uip(model, 'heads', (x) => internalError(`cannot parse video heads '${x}'`));
  }
  v.info = parseDeviceInfo(e, '<video>', false);
  if (driver) {
    const vgaconf = propEnum(driver, 'vgaconf', ['io', 'on', 'off'] as const);
    // ('io' is the enum's zero: never written back)
    if (vgaconf && vgaconf !== 'io') v.vgaconf = vgaconf;
  }
  return v;
}

/** the parser puts a primary video first */
function collector(): Collector<VideoDef> {
  const list: VideoDef[] = [];
  return { add: (v) => (v.primary ? list.unshift(v) : list.push(v)), list: () => list };
}

/** virDomainVideoDefaultRAM for the qemu driver's domain types */
function defaultRam(type: VideoType): number {
  if (type === 'vga' || type === 'cirrus' || type === 'vmvga' || type === 'bochs') return 16 * 1024;
  if (type === 'xen') return 4 * 1024;
  if (type === 'qxl') return 64 * 1024;
  return 0;
}

const pow2 = (n: number) => (n <= 1 ? n : 2 ** Math.ceil(Math.log2(n)));

/** qemuDomainDefaultVideoDevice */
function defaultModel(def: DomainDef, caps: QemuCaps): VideoType {
  if (def.os.arch === 's390x') return 'virtio';
  if (hasFlag(caps, 'cirrus-vga')) return 'cirrus';
  if (hasFlag(caps, 'VGA')) return 'vga';
  return 'default';
}

/** qemuDomainDeviceVideoDefPostParse then virDomainVideoDefPostParse */
function postParse(v: VideoDef, { def, caps }: StageContext): void {
  if (v.type === 'default') v.type = defaultModel(def, caps);
  if (v.type === 'qxl' && !v.vgamem) v.vgamem = 16 * 1024;
  if (v.ram === 0 && v.type === 'qxl') v.ram = defaultRam(v.type);
  if (v.vram === 0) v.vram = defaultRam(v.type);
  v.ram = pow2(v.ram);
  v.vram = pow2(v.vram);
}

/** virDomainDefAddImplicitVideo and virDomainDefPostParseVideo (after the per-device
 *  post-parse): a video for graphics without one; the first video is primary; a 'none'
 *  video keeps nothing but its type. */
export function postParseVideos(def: DomainDef, ctx: StageContext): void {
  const list = def.devices.video;
  if (def.devices.graphics.length && !list.length) list.push({ type: 'default', ram: 0, vram: 0, vram64: 0, vgamem: 0, heads: 1, primary: false, info: {} });
  const first = list[0];
  if (!first) return;
  if (first.type === 'none') {
    list[0] = { type: 'none', ram: 0, vram: 0, vram64: 0, vgamem: 0, heads: 0, primary: false, info: {} };
  } else {
    first.primary = true;
    postParse(first, ctx);
  }
}

const isPci = (v: VideoDef) => v.type !== 'none' && v.type !== 'ramfb';

/** The primary video's place in the chipset's slot (qemuDomainValidateDevicePCISlotsPIIX3/Q35):
 *  slot `slot` of bus 0 if free, else the next free one. */
export function reservePrimaryVideo(def: DomainDef, caps: QemuCaps, set: PciAddressSet, slot: number, flags: number): void {
  const v = def.devices.video[0];
  if (!v || !isPci(v)) return;
  const a = v.info.address;
  const wanted = !a || (a.type === 'pci' && !(a.domain || a.bus || a.slot));
  if (!wanted) return;
  const at = { domain: 0, bus: 0, slot, function: 0 };
  set.validate(at, flags, true);
  if (set.slotInUse(at)) {
    const got = set.reserveNext(connectOf(v, def, caps), -1);
    if (!set.dryRun) v.info.address = { type: 'pci', ...got };
  } else {
    set.reserve(at, flags, false);
    v.info.address = { type: 'pci', ...at };
  }
}

function connectOf(v: VideoDef, def: DomainDef, caps: QemuCaps): number {
  if (v.type === 'virtio') return virtioFlags(def, caps);
  if (v.type === 'bochs') return pcieFlags(def);
  if (v.type === 'none' || v.type === 'ramfb' || v.type === 'default' || v.type === 'gop') return 0;
  return pciFlags;
}

const QXL_OR_VIRTIO = (t: VideoType) => t === 'qxl' || t === 'virtio';

/** virQEMUCapsFillDomainDeviceVideoCaps */
function modelSupported(t: VideoType, caps: QemuCaps): boolean {
  const flag = { vga: 'VGA', cirrus: 'cirrus-vga', vmvga: 'vmware-svga', qxl: 'qxl', virtio: 'virtio-gpu', bochs: 'bochs-display', ramfb: 'ramfb' } as const;
  return t === 'none' || (t in flag && hasFlag(caps, flag[t as keyof typeof flag]));
}

/** qemuDeviceVideoGetModel */
function qemuModel(v: VideoDef, caps: QemuCaps, ccw: boolean): string {
  const accel3d = v.accel?.accel3d;
  if (v.backend === 'vhostuser') return v.primary && hasFlag(caps, 'vhost-user-vga') ? 'vhost-user-vga' : `vhost-user-gpu-${ccw ? 'ccw' : 'pci'}`;
  const primaryVga = v.primary && (v.type !== 'virtio' || hasFlag(caps, 'virtio-vga'));
  if (primaryVga) {
    const m: Partial<Record<VideoType, string>> = { vga: 'VGA', cirrus: 'cirrus-vga', vmvga: 'vmware-svga', qxl: 'qxl-vga', bochs: 'bochs-display', ramfb: 'ramfb' };
    if (v.type === 'virtio') return hasFlag(caps, 'virtio-vga-gl') && accel3d === 'yes' ? 'virtio-vga-gl' : 'virtio-vga';
    if (m[v.type]) return m[v.type]!;
  } else {
    if (v.type === 'qxl') return 'qxl';
    if (v.type === 'virtio') return `${hasFlag(caps, 'virtio-gpu-gl-pci') && accel3d === 'yes' ? 'virtio-gpu-gl' : 'virtio-gpu'}-${ccw ? 'ccw' : 'pci'}`;
  }
  throw internalError(`invalid model for video type '${v.type}'`);
}

export const video: DeviceKind<VideoDef> = {
  element: 'video',
  parse,
  collector,
  info: (v) => v.info,
  postParse,
  pci: (v, { def, caps, machine }) => {
    if (!isPci(v)) return undefined;
    if (v.type === 'virtio' && machine.virtioCcw) return undefined;
    return { info: v.info, connect: connectOf(v, def, caps), function: -1 };
  },
  ccw: (v, { machine }) => v.type === 'virtio' && machine.virtioCcw,
  validateConf(v, { def }) {
    // virDomainVideoDefValidate (and virDomainDefVideoValidate, for the first video)
    const list = def.devices.video;
    if (v === list[0] && v.primary && list.slice(1).some((o) => o.primary)) throw unsupportedConfig('Only one primary video device is supported');
    if (v.type === 'default') throw internalError('missing video model and cannot determine default');
    if (list.some((o) => o.type === 'none') && list.length > 1) throw unsupportedConfig("a 'none' video type must be the only video device defined for the domain");
    if (v.backend === 'vhostuser' && v.type !== 'virtio') throw unsupportedConfig("'vhostuser' driver is only supported with 'virtio' device");
    if (v.backend !== 'vhostuser' && v.accel?.rendernode !== undefined) throw unsupportedConfig("unsupported rendernode accel attribute without 'vhostuser'");
    if (v.res && (v.res.x === 0 || v.res.y === 0)) throw unsupportedConfig('video resolution values must be greater than 0');
    if (v.type !== 'qxl') {
      if (v.ram) throw unsupportedConfig('ram attribute only supported for video type qxl');
      if (v.vram64) throw unsupportedConfig('vram64 attribute only supported for video type qxl');
      if (v.vgamem) throw unsupportedConfig('vgamem attribute only supported for video type qxl');
    }
    if (v.type === 'ramfb' && v.info.address) throw unsupportedConfig('address not supported for video type ramfb');
    if (v.type !== 'virtio' && v.virtio) {
      // virDomainCheckVirtioOptionsAreAbsent
      if (v.virtio.iommu) throw unsupportedConfig('iommu driver option is only supported for virtio devices');
      if (v.virtio.ats) throw unsupportedConfig('ats driver option is only supported for virtio devices');
      if (v.virtio.packed) throw unsupportedConfig('packed driver option is only supported for virtio devices');
      if (v.virtio.page_per_vq) throw unsupportedConfig('page_per_vq option is only supported for virtio devices');
    }
  },
  // qemuValidateDomainDeviceDefVideo
  validate(v, { caps }) {
    if (v.type === 'none') return;
    if (!modelSupported(v.type, caps)) throw unsupportedConfig(`domain configuration does not support video model '${v.type}'`);
    if (!QXL_OR_VIRTIO(v.type)) {
      if (!v.primary) throw unsupportedConfig(`video type '${v.type}' is only valid as primary video device`);
      if (v.heads !== 1) throw unsupportedConfig(`video type '${v.type}' doesn't support multiple 'heads'`);
    }
    if (v.accel?.accel2d === 'yes') throw unsupportedConfig('qemu does not support the accel2d setting');
    if (v.type === 'qxl') {
      const max = Math.floor(4294967295 / 1024);
      if (v.vram > max) throw new TranslationError('bare', `numerical overflow: value for 'vram' must be less than '${max}'`);
      if (v.ram > max) throw new TranslationError('bare', `numerical overflow: value for 'ram' must be less than '${max}'`);
      if (v.vgamem) {
        if (v.vgamem < 1024) throw unsupportedConfig("value for 'vgamem' must be at least 1 MiB (1024 KiB)");
        if (v.vgamem !== pow2(v.vgamem)) throw unsupportedConfig("value for 'vgamem' must be power of two");
      }
    }
    if (v.type !== 'vga' && v.type !== 'qxl' && v.type !== 'virtio' && v.type !== 'bochs' && v.res) throw xmlError('model resolution is not supported');
    if ((v.type === 'vga' || v.type === 'vmvga') && v.vram && v.vram < 1024) throw unsupportedConfig("value for 'vram' must be at least 1 MiB (1024 KiB)");
    if (v.backend === 'vhostuser') {
      if (v.type === 'virtio' && !hasFlag(caps, 'vhost-user-gpu')) throw unsupportedConfig("this QEMU does not support 'vhost-user' video device");
    } else if (v.accel?.accel3d === 'yes') {
      if (v.type !== 'virtio') throw unsupportedConfig("3d acceleration is supported only with 'virtio' video device");
      if (!hasFlag(caps, 'virtio-gpu-gl-pci') && !hasFlag(caps, 'virtio-vga-gl')) throw unsupportedConfig('3d acceleration is not supported by this QEMU binary');
    }
  },
  // qemuExtVhostUserGPUPrepareDomain: the host's vhost-user-gpu helper, found by its
  // JSON description and asked for its features
  // (qemuVhostUserFillDomainGPU: any accel3d value wants virgl; a helper with render
  // nodes gets the host's first one when the XML names none)
  validateStart(v, { caps }) {
    if (v.backend !== 'vhostuser') return;
    const helper = caps.graphicsHost?.vhostUserGpu;
    if (helper === undefined) throw notImplemented("<video><driver name='vhostuser'> on a command line with a snapshot that carries no vhost-user-gpu facts (host/<snapshot>.json)");
    const fits = helper && !(v.accel?.accel3d && !helper.features.includes('virgl')) && !(v.accel?.rendernode !== undefined && !helper.features.includes('render-node'));
    if (!fits) throw new TranslationError('operation failed', 'Unable to find a satisfying vhost-user-gpu');
    if (v.accel?.rendernode === undefined && helper.features.includes('render-node') && caps.graphicsHost!.drmRenderNode === null) {
      throw new TranslationError('bare', "cannot open directory '/dev/dri': No such file or directory");
    }
  },
  // qemuAssignDeviceVideoAlias
  alias: (_v, index) => `video${index}`,
  format(w: Writer, v: VideoDef) {
    w.open('<video>');
    const drv = VIRTIO_OPTS.map(([a]) => attr(a, v.virtio?.[a])).join('') + attr('vgaconf', v.vgaconf) + attr('name', v.backend);
    if (drv) w.line(`<driver${drv}/>`);
    let head = `model type='${v.type}'`;
    if (v.ram) head += ` ram='${v.ram}'`;
    if (v.vram) head += ` vram='${v.vram}'`;
    if (v.vram64) head += ` vram64='${v.vram64}'`;
    if (v.vgamem) head += ` vgamem='${v.vgamem}'`;
    if (v.heads) head += ` heads='${v.heads}'`;
    if (v.primary) head += " primary='yes'";
    w.element(head, 'model', v.accel || v.res ? () => {
      if (v.accel) w.line(`<acceleration${attr('accel3d', v.accel.accel3d)}${attr('accel2d', v.accel.accel2d)}${attr('rendernode', v.accel.rendernode)}/>`);
      if (v.res) w.line(`<resolution x='${v.res.x}' y='${v.res.y}'/>`);
    } : undefined);
    formatInfo(w, v.info);
    w.close('</video>');
  },
  // qemuBuildVideoCommandLine
  command(v, { def, caps }) {
    if (v.type === 'none') return [];
    const ccw = v.info.address?.type === 'ccw';
    const driver = qemuModel(v, caps, ccw);
    const props: Record<string, unknown> = { driver };
    // qemuBuildVirtioDevProps (not for vhost-user-vga, which libvirt builds as a plain device)
    if (v.type === 'virtio' && driver !== 'vhost-user-vga') for (const [a, q] of VIRTIO_OPTS) if (v.virtio?.[a]) props[q] = v.virtio[a] === 'on';
    props.id = v.info.alias;
    if (QXL_OR_VIRTIO(v.type) && v.heads) props.max_outputs = v.heads;
    if (v.type === 'qxl') {
      if (v.ram) props.ram_size = v.ram * 1024;
      if (v.vram) props.vram_size = v.vram * 1024;
      if (hasFlag(caps, 'qxl.vram64_size_mb')) props.vram64_size_mb = Math.floor(v.vram64 / 1024);
      if (hasFlag(caps, 'qxl.vgamem_mb')) props.vgamem_mb = Math.floor(v.vgamem / 1024);
    } else if (v.backend === 'vhostuser') {
      props.chardev = `chr-vu-${v.info.alias}`;
    } else if ((v.type === 'vga' && hasFlag(caps, 'VGA.vgamem_mb')) || (v.type === 'vmvga' && hasFlag(caps, 'vmware-svga.vgamem_mb'))) {
      if (v.vram >= 1024) props.vgamem_mb = Math.floor(v.vram / 1024);
    } else if (v.type === 'bochs' && v.vram) {
      props.vgamem = v.vram * 1024;
    }
    if (v.res) {
      if (v.res.x) props.xres = v.res.x;
      if (v.res.y) props.yres = v.res.y;
    }
    // the helper's end of a socket pair, passed to QEMU as a descriptor
    const helper = caps.graphicsHost?.vhostUserGpu;
    const chardev = v.backend === 'vhostuser' && helper ? [['-chardev', `socket,id=chr-vu-${v.info.alias},fd=${helper.fd}`]] : [];
    return [...chardev, ...zpciDevice(v.info), ['-device', JSON.stringify({ ...props, ...addressProps(v.info, def) })]];
  },
};

