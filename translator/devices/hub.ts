// <hub type='usb'> (libvirt's virDomainHubDef): a usb-hub of 8 ports on a USB port.
// Hubs are placed before the other USB devices (stages/usb-assign.ts), and libvirt
// adds hubs of its own when the controllers have too few ports.
import { hasFlag } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { ccidCommands } from './ccid.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo } from './info.js';
import type { DeviceKind } from './kind.js';

export interface HubDef {
  type: 'usb';
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    hub: HubDef[];
  }
}

export const hub: DeviceKind<HubDef> = {
  element: 'hub',
  // virDomainHubDefParseXML
  parse(e, { def }) {
    const type = e.attrs.type;
    if (type === undefined) throw internalError('missing hub device type');
    if (type !== 'usb') throw unsupportedConfig(`unknown hub device type '${type}'`);
    const info = parseDeviceInfo(e, '<hub>', false, ['usb']);
    if (info.address && info.address.type !== 'usb') throw notImplemented(`<address type='${info.address.type}'> on <hub>`);
    // (virDomainDefParseXML, with the controllers parsed before the hubs)
    if (def.devices.controller.some((c) => c.type === 'usb' && c.model === 'none')) throw unsupportedConfig("Can't add USB hub: USB is disabled for this domain");
    return { type, info };
  },
  info: (h) => h.info,
  usb: (h) => ({ info: h.info }),
  // qemuValidateDomainDeviceDefHub
  validate(_h, { caps }) {
    if (!hasFlag(caps, 'usb-hub')) throw unsupportedConfig('usb-hub not supported by QEMU binary');
  },
  alias: (_h, i) => `hub${i}`,
  format(w, h) {
    w.element(`hub type='${h.type}'`, 'hub', hasInfo(h.info) ? () => formatInfo(w, h.info) : undefined);
  },
  // qemuBuildHubCommandLine
  command: (h, { def }) => [['-device', JSON.stringify({ driver: 'usb-hub', id: h.info.alias, ...addressProps(h.info, def) })]],
  // the CCID controllers go on the USB bus right after the hubs
  commandAfter: (_list, ctx) => ccidCommands(ctx),
};
