// <rng>: the virtio RNG (libvirt's virDomainRNGDef) with its backend, a host file
// (rng-random), QEMU's builtin generator (rng-builtin) or an EGD daemon over a chardev
// (rng-egd: the chardev source is libvirt's common one, chardev-source.ts).
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';
import { elements, textOf, type XElement } from '../xml/tree.js';
import { escapeXml } from '../xml/tree.js';
import { addressProps, formatInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { DeviceKind } from './kind.js';
import { parseVirtioOptions, virtioOptionsAttrs, virtioOptionsProps, type VirtioOptions } from './virtio-opts.js';
import { chardevArgs, CHR_TYPES, type ChrSource, type ChrType, formatChrSource, parseChrSource, validateChrSourceConf, validateChrSourceQemu } from './chardev-source.js';
import { hasSpice, nextFdset } from './chardev.js';

const MODELS = ['virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
const BACKENDS = ['random', 'egd', 'builtin'] as const;

export interface RngDef {
  model: (typeof MODELS)[number];
  backend: (typeof BACKENDS)[number];
  /** random: the host file (post-parse: /dev/random when the XML names none) */
  file?: string;
  /** egd: the daemon's chardev */
  source?: ChrSource;
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
  let source: ChrSource | undefined;
  if (backend === 'egd') {
    const type = be.attrs.type;
    if (type === undefined) throw xmlError('missing EGD backend type');
    if (!(CHR_TYPES as readonly string[]).includes(type)) throw unsupportedConfig(`unknown backend type '${type}' for egd`);
    // (no seclabels: libvirt reads them only for chardev devices)
    source = parseChrSource(be, type as ChrType);
    // (a spicevmc source's channel is the enum's first, vdagent)
    if (source.type === 'spicevmc') source.spicevmc = 'vdagent';
  }
  const def: RngDef = { model: model as RngDef['model'], backend: backend as RngDef['backend'], rate: rate ?? 0, period: period ?? 0, info: parseDeviceInfo(e, '<rng>', false) };
  if (source) def.source = source;
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
  // virDomainRNGDefValidate
  validateConf(r, { def }) {
    if (r.source) validateChrSourceConf(r.source, false, def);
  },
  // qemuValidateDomainRNGDef
  validate(r, { def, caps }) {
    const flag = `rng-${r.backend}` as const;
    if (!hasFlag(caps, flag)) throw unsupportedConfig(`this qemu doesn't support the ${flag} backend`);
    if (r.source) validateChrSourceQemu(r.source, caps, hasSpice(def));
    const ok = hasFlag(caps, 'virtio-rng') && (r.model === 'virtio' || hasFlag(caps, 'virtio-pci-non-transitional'));
    if (!ok) throw unsupportedConfig(`domain configuration does not support rng model '${r.model}'`);
  },
  validateStart(r, { def, caps }) {
    // qemuBuildVirtioDevGetConfig reports this but builds the device anyway: not followed.
    if (r.model !== 'virtio' && r.info.address?.type !== 'pci') throw notImplemented(`<rng model='${r.model}'> on a non-PCI address`);
    // libvirt numbers fd sets in its device iterator's order (rngs before redirdevs)
    // but builds them in the command line's (rngs last)
    if (r.source && usesFdset(r.source, caps) && def.devices.redirdev.some((d) => usesFdset(d.source, caps))) {
      throw notImplemented('an egd <rng> and a <redirdev> that both pass files in fd sets');
    }
  },
  // qemuAssignDeviceRNGAlias
  alias: (_r, index) => `rng${index}`,
  format(w, r) {
    w.open(`<rng model='${r.model}'>`);
    if (r.rate) w.line(`<rate bytes='${r.rate}'${r.period ? ` period='${r.period}'` : ''}/>`);
    if (r.backend === 'random') w.line(`<backend model='random'>${escapeXml(r.file ?? '')}</backend>`);
    else if (r.backend === 'egd') {
      // (sic) the element is never empty, even when the source writes nothing
      w.open(`<backend model='egd' type='${r.source!.type}'>`);
      formatChrSource(w, r.source!);
      w.close('</backend>');
    } else w.line("<backend model='builtin'/>");
    const drv = virtioOptionsAttrs(r.virtio);
    if (drv) w.line(`<driver${drv}/>`);
    formatInfo(w, r.info);
    w.close('</rng>');
  },
  // qemuBuildRNGCommandLine
  command(r, { def, caps }) {
    const alias = r.info.alias!;
    const obj = r.backend === 'random' ? { 'qom-type': 'rng-random', id: `obj${alias}`, filename: r.file }
      : r.backend === 'egd' ? { 'qom-type': 'rng-egd', id: `obj${alias}`, chardev: `char${alias}` } : { 'qom-type': 'rng-builtin', id: `obj${alias}` };
    const chardev = r.source ? chardevArgs(r.source, { caps, alias, nextFdset: nextFdset(def) }) : [];
    const ccw = r.info.address?.type === 'ccw';
    let driver = `virtio-rng-${ccw ? 'ccw' : 'pci'}`;
    if (r.model !== 'virtio' && !ccw && hasFlag(caps, 'virtio-pci-non-transitional')) driver += r.model.slice('virtio'.length);
    const dev: Record<string, unknown> = { driver, ...virtioOptionsProps(r.virtio), rng: `obj${alias}`, id: alias };
    if (r.rate) {
      dev['max-bytes'] = r.rate;
      dev.period = r.period || 1000;
    }
    return [...chardev, ['-object', JSON.stringify(obj)], ...zpciDevice(r.info), ['-device', JSON.stringify({ ...dev, ...addressProps(r.info, def) })]];
  },
};

/** Whether the chardev's command line passes a descriptor in an fd set (the harness's mock). */
function usesFdset(s: ChrSource, caps: QemuCaps): boolean {
  return caps.chardevHost?.sourceFds === 'libvirt-test-mock' && (s.type === 'file' || s.logfile !== undefined);
}
