// <rng>: the virtio RNG (libvirt's virDomainRNGDef) with its backend, a host file
// (rng-random), QEMU's builtin generator (rng-builtin) or an EGD daemon over a chardev
// (rng-egd: refused until chardev sources exist).
import { hasFlag } from '../capabilities.js';
import { notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';
import { elements, textOf, type XElement } from '../xml/tree.js';
import { escapeXml } from '../xml/tree.js';
import { addressProps, formatInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { DeviceKind } from './kind.js';
import { parseVirtioOptions, virtioOptionsAttrs, virtioOptionsProps, type VirtioOptions } from './virtio-opts.js';

const MODELS = ['virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
const BACKENDS = ['random', 'egd', 'builtin'] as const;
/** virDomainChrType: the source types an EGD backend may name */
const CHR_TYPES = ['null', 'vc', 'pty', 'dev', 'file', 'pipe', 'stdio', 'udp', 'tcp', 'unix', 'spicevmc', 'spiceport', 'nmdm', 'qemu-vdagent', 'dbus'];

export interface RngDef {
  model: (typeof MODELS)[number];
  backend: 'random' | 'builtin';
  /** random: the host file (post-parse: /dev/random when the XML names none) */
  file?: string;
  /** <rate bytes period>: 0 is not set */
  rate: number;
  period: number;
  virtio?: VirtioOptions;
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    rng: RngDef[];
  }
}

/** virXPathUInt over an attribute: undefined when absent or empty, null when not a
 *  number (virStrToLong_ui: "-N" wraps around). */
function xpathUInt(e: XElement | undefined, a: string): number | undefined | null {
  const v = e?.attrs[a];
  if (v === undefined || v === '') return undefined;
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(v);
  if (!m) return null;
  const n = Number(m[2]);
  if (n > 0xffffffff) return null;
  return m[1] === '-' ? (n === 0 ? 0 : 0x100000000 - n) : n;
}

/** virDomainRNGDefParseXML */
function parse(e: XElement): RngDef {
  const model = e.attrs.model;
  if (model === undefined) throw xmlError('missing RNG device model');
  if (!(MODELS as readonly string[]).includes(model)) throw unsupportedConfig(`unknown RNG model '${model}'`);
  const rateEl = elements(e, 'rate')[0];
  const rate = xpathUInt(rateEl, 'bytes');
  if (rate === null) throw xmlError('invalid RNG rate bytes value');
  const period = rate ? xpathUInt(rateEl, 'period') : undefined;
  if (period === null) throw xmlError('invalid RNG rate period value');
  const backends = elements(e, 'backend');
  if (backends.length !== 1) throw xmlError('only one RNG backend is supported');
  const be = backends[0]!;
  const backend = be.attrs.model;
  if (backend === undefined) throw xmlError('missing RNG device backend model');
  if (!(BACKENDS as readonly string[]).includes(backend)) throw unsupportedConfig(`unknown RNG backend model '${backend}'`);
  if (backend === 'egd') {
    const type = be.attrs.type;
    if (type === undefined) throw xmlError('missing EGD backend type');
    if (!CHR_TYPES.includes(type)) throw unsupportedConfig(`unknown backend type '${type}' for egd`);
    throw notImplemented("<rng><backend model='egd'>");
  }
  const def: RngDef = { model: model as RngDef['model'], backend: backend as RngDef['backend'], rate: rate ?? 0, period: period ?? 0, info: parseDeviceInfo(e, '<rng>', false) };
  if (backend === 'random') {
    const text = textOf(be);
    if (text !== '') def.file = text;
  }
  const virtio = parseVirtioOptions(elements(e, 'driver')[0]);
  if (virtio) def.virtio = virtio;
  return def;
}

export const rng: DeviceKind<RngDef> = {
  element: 'rng',
  parse,
  info: (r) => r.info,
  postParse(r) {
    // virDomainRNGDefPostParse
    if (r.backend === 'random' && r.file === undefined) r.file = '/dev/random';
  },
  // Transitional devices only work in conventional PCI slots.
  pci: (r, { def, caps }) => (r.info.address?.type === 'ccw' ? undefined : { info: r.info, connect: r.model === 'virtio-transitional' ? pciFlags : virtioFlags(def, caps), function: -1 }),
  ccw: (_r, { machine }) => machine.virtioCcw,
  // qemuValidateDomainRNGDef
  validate(r, { caps }) {
    const flag = r.backend === 'random' ? 'rng-random' : 'rng-builtin';
    if (!hasFlag(caps, flag)) throw unsupportedConfig(`this qemu doesn't support the ${flag} backend`);
    const ok = hasFlag(caps, 'virtio-rng') && (r.model === 'virtio' || hasFlag(caps, 'virtio-pci-non-transitional'));
    if (!ok) throw unsupportedConfig(`domain configuration does not support rng model '${r.model}'`);
  },
  validateStart(r) {
    // qemuBuildVirtioDevGetConfig reports this but builds the device anyway: not followed.
    if (r.model !== 'virtio' && r.info.address?.type !== 'pci') throw notImplemented(`<rng model='${r.model}'> on a non-PCI address`);
  },
  // qemuAssignDeviceRNGAlias
  alias: (_r, index) => `rng${index}`,
  format(w, r) {
    w.open(`<rng model='${r.model}'>`);
    if (r.rate) w.line(`<rate bytes='${r.rate}'${r.period ? ` period='${r.period}'` : ''}/>`);
    if (r.backend === 'random') w.line(`<backend model='random'>${escapeXml(r.file ?? '')}</backend>`);
    else w.line("<backend model='builtin'/>");
    const drv = virtioOptionsAttrs(r.virtio);
    if (drv) w.line(`<driver${drv}/>`);
    formatInfo(w, r.info);
    w.close('</rng>');
  },
  // qemuBuildRNGCommandLine
  command(r, { def, caps }) {
    const alias = r.info.alias!;
    const obj = r.backend === 'random' ? { 'qom-type': 'rng-random', id: `obj${alias}`, filename: r.file } : { 'qom-type': 'rng-builtin', id: `obj${alias}` };
    const ccw = r.info.address?.type === 'ccw';
    let driver = `virtio-rng-${ccw ? 'ccw' : 'pci'}`;
    if (r.model !== 'virtio' && !ccw && hasFlag(caps, 'virtio-pci-non-transitional')) driver += r.model.slice('virtio'.length);
    const dev: Record<string, unknown> = { driver, ...virtioOptionsProps(r.virtio), rng: `obj${alias}`, id: alias };
    if (r.rate) {
      dev['max-bytes'] = r.rate;
      dev.period = r.period || 1000;
    }
    return [['-object', JSON.stringify(obj)], ...zpciDevice(r.info), ['-device', JSON.stringify({ ...dev, ...addressProps(r.info, def) })]];
  },
};
