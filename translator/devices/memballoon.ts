// <memballoon>: the virtio balloon (libvirt's virDomainMemballoonDef). One at most;
// machines add a virtio one when the XML has none.
import { notImplemented, unsupportedConfig } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import type { TriState } from '../model.js';
import { hasFlag } from '../capabilities.js';
import { propEnum, propInt, propOnOff, required } from '../xml/props.js';
import { attr } from '../xml/writer.js';
import { parseVirtioOptions, virtioOptionsAttrs, virtioOptionsProps, type VirtioOptions } from './virtio-opts.js';
import { child, type XElement } from '../xml/tree.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { DeviceKind } from './kind.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';

export interface MemballoonDef {
  model: 'virtio' | 'virtio-transitional' | 'virtio-non-transitional' | 'none';
  statsPeriod?: number;
  autodeflate?: TriState;
  freePageReporting?: TriState;
  virtio?: VirtioOptions;
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    memballoon: MemballoonDef[];
  }
}

const MODELS = ['virtio', 'xen', 'none', 'virtio-transitional', 'virtio-non-transitional'] as const;

function parse(e: XElement): MemballoonDef {
  required(e, 'model');
  const model = propEnum(e, 'model', MODELS)!;
  if (model === 'xen') throw notImplemented("<memballoon model='xen'>");
  const autodeflate = propOnOff(e, 'autodeflate');
  const freePageReporting = propOnOff(e, 'freePageReporting');
  const stats = child(e, 'stats');
  // libvirt reads an int; anything not positive means "not set" and is dropped.
  const period = stats && stats.attrs.period !== '' ? propInt(stats, 'period') : undefined;
  // libvirt ignores the device info (address, alias) of a disabled balloon.
  const def: MemballoonDef = { model, info: model === 'none' ? {} : parseDeviceInfo(e, '<memballoon>', false) };
  if (autodeflate) def.autodeflate = autodeflate;
  if (freePageReporting) def.freePageReporting = freePageReporting;
  if (period !== undefined && period > 0) def.statsPeriod = period;
  const virtio = parseVirtioOptions(child(e, 'driver'));
  if (virtio) def.virtio = virtio;
  return def;
}

const active = (m: MemballoonDef) => m.model !== 'none';

export const memballoon: DeviceKind<MemballoonDef> = {
  element: 'memballoon',
  parse,
  info: (m) => m.info,
  postParse(m) {
    if (!active(m)) delete m.info.address; // a disabled device keeps no address
  },
  pci: (m, { def, caps, machine }) => {
    if (!active(m) || machine.virtioCcw) return undefined;
    // Transitional devices only work in conventional PCI slots.
    return { info: m.info, connect: m.model === 'virtio-transitional' ? pciFlags : virtioFlags(def, caps), function: -1 };
  },
  ccw: (m, { machine }) => active(m) && machine.virtioCcw,
  validate(m, { machine, caps }) {
    if (machine.virtioCcw && m.info.address?.type === 'pci') throw notImplemented('a PCI address for the memballoon on s390x');
    // qemuValidateDomainDeviceDefMemballoon
    if (!active(m)) return;
    if (m.autodeflate && !hasFlag(caps, 'virtio-balloon-pci.deflate-on-oom')) throw unsupportedConfig('deflate-on-oom is not supported by this QEMU binary');
    if (m.freePageReporting && !hasFlag(caps, 'virtio-balloon.free-page-reporting')) throw unsupportedConfig('freePageReporting is not supported by this QEMU binary');
  },
  alias: () => 'balloon0',
  format(w, m) {
    const drv = virtioOptionsAttrs(m.virtio);
    const head = `memballoon model='${m.model}'${attr('autodeflate', m.autodeflate)}${attr('freePageReporting', m.freePageReporting)}`;
    w.element(head, 'memballoon', m.statsPeriod !== undefined || hasInfo(m.info) || drv ? () => {
      if (m.statsPeriod !== undefined) w.line(`<stats period='${m.statsPeriod}'/>`);
      formatInfo(w, m.info);
      if (drv) w.line(`<driver${drv}/>`);
    } : undefined);
  },
  command(m, { def }) {
    if (!active(m)) return [];
    const ccw = m.info.address?.type === 'ccw';
    const suffix = m.model === 'virtio' ? '' : m.model.slice('virtio'.length);
    return [...zpciDevice(m.info), ['-device', JSON.stringify({
      driver: `virtio-balloon-${ccw ? 'ccw' : 'pci'}${suffix}`, ...virtioOptionsProps(m.virtio), id: m.info.alias,
      ...(m.autodeflate ? { 'deflate-on-oom': m.autodeflate === 'on' } : {}),
      ...(m.freePageReporting ? { 'free-page-reporting': m.freePageReporting === 'on' } : {}),
      ...addressProps(m.info, def),
    })]];
  },
};
