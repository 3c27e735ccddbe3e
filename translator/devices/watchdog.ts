// <watchdog>: i6300esb (PCI), ib700 (ISA) and diag288 (s390x, no bus), with the action
// QEMU takes when it fires (libvirt's virDomainWatchdogDef). One at most.
import { internalError, unsupportedConfig } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { pciFlags } from '../pci/connect.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { DeviceKind } from './kind.js';
import type { XElement } from '../xml/tree.js';

const MODELS = ['i6300esb', 'ib700', 'diag288'] as const;
const ACTIONS = ['reset', 'shutdown', 'poweroff', 'pause', 'dump', 'none', 'inject-nmi'] as const;

export interface WatchdogDef {
  model: (typeof MODELS)[number];
  action: (typeof ACTIONS)[number];
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    watchdog: WatchdogDef[];
  }
}

/** virDomainWatchdogDefParseXML */
function parse(e: XElement): WatchdogDef {
  const model = e.attrs.model;
  if (model === undefined) throw internalError('watchdog must contain model name');
  if (!(MODELS as readonly string[]).includes(model)) throw unsupportedConfig(`unknown watchdog model '${model}'`);
  const action = e.attrs.action ?? 'reset';
  if (!(ACTIONS as readonly string[]).includes(action)) throw unsupportedConfig(`unknown watchdog action '${action}'`);
  return { model: model as WatchdogDef['model'], action: action as WatchdogDef['action'], info: parseDeviceInfo(e, '<watchdog>', false) };
}

export const watchdog: DeviceKind<WatchdogDef> = {
  element: 'watchdog',
  parse,
  info: (w) => w.info,
  // only the i6300esb is a PCI device
  pci: (w) => (w.model === 'i6300esb' && (!w.info.address || w.info.address.type === 'pci') ? { info: w.info, connect: pciFlags, function: -1 } : undefined),
  // qemuValidateDomainWatchdogDef
  validate(w, { def }) {
    const type = w.info.address?.type;
    if (w.model === 'i6300esb' && type !== undefined && type !== 'pci') throw unsupportedConfig('i6300esb model of watchdog can go only on PCI bus');
    if (w.model === 'ib700' && type !== undefined) throw unsupportedConfig('ib700 model of watchdog does not support configuring the address');
    if (w.model === 'diag288') {
      if (type !== undefined) throw unsupportedConfig('diag288 model of watchdog is virtual and cannot go on any bus.');
      if (def.os.arch !== 's390x' && def.os.arch !== 's390') throw unsupportedConfig('diag288 model of watchdog is allowed for s390 and s390x only');
    }
  },
  alias: () => 'watchdog0',
  format(wr, w) {
    wr.element(`watchdog model='${w.model}' action='${w.action}'`, 'watchdog', hasInfo(w.info) ? () => formatInfo(wr, w.info) : undefined);
  },
  // qemuBuildWatchdogCommandLine: QEMU has no 'dump' action; libvirt pauses and dumps itself.
  command: (w, { def }) => [
    ...zpciDevice(w.info),
    ['-device', JSON.stringify({ driver: w.model, id: w.info.alias, ...addressProps(w.info, def) })],
    ['-watchdog-action', w.action === 'dump' ? 'pause' : w.action],
  ],
};
