// <memballoon>: the virtio balloon (libvirt's virDomainMemballoonDef). One at most;
// machines add a virtio one when the XML has none.
import { notImplemented } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { propEnum, propInt, required } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { DeviceKind } from './kind.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';

export interface MemballoonDef {
  model: 'virtio' | 'virtio-transitional' | 'virtio-non-transitional' | 'none';
  statsPeriod?: number;
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
  for (const a of ['autodeflate', 'freePageReporting']) if (e.attrs[a] !== undefined) throw notImplemented(`<memballoon ${a}>`);
  if (child(e, 'driver')) throw notImplemented('<driver> in <memballoon>');
  const def: MemballoonDef = { model, info: parseDeviceInfo(e, '<memballoon>', false) };
  const stats = child(e, 'stats');
  // libvirt reads an int; anything not positive means "not set" and is dropped.
  const period = stats && stats.attrs.period !== '' ? propInt(stats, 'period') : undefined;
  if (period !== undefined && period > 0) def.statsPeriod = period;
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
  validate(m, { machine }) {
    if (machine.virtioCcw && m.info.address?.type === 'pci') throw notImplemented('a PCI address for the memballoon on s390x');
  },
  alias: () => 'balloon0',
  format(w, m) {
    w.element(`memballoon model='${m.model}'`, 'memballoon', m.statsPeriod !== undefined || hasInfo(m.info) ? () => {
      if (m.statsPeriod !== undefined) w.line(`<stats period='${m.statsPeriod}'/>`);
      formatInfo(w, m.info);
    } : undefined);
  },
  command(m, { def }) {
    if (!active(m)) return [];
    const ccw = m.info.address?.type === 'ccw';
    const suffix = m.model === 'virtio' ? '' : m.model.slice('virtio'.length);
    return [...zpciDevice(m.info), ['-device', JSON.stringify({ driver: `virtio-balloon-${ccw ? 'ccw' : 'pci'}${suffix}`, id: m.info.alias, ...addressProps(m.info, def) })]];
  },
};
