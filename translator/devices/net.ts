// <interface>: only type='hostdev' so far (an SR-IOV VF given to the guest as a NIC).
// As in libvirt, its VFIO backend is also a hostdev in the domain's hostdev list
// (parentnet): it takes a hostdevN alias, a PCI slot in hostdev order, and its
// -device is emitted with the hostdevs; only its XML is the interface's.
import { notImplemented, xmlError } from '../errors.js';
import { deterministicMac } from '../domain/ids.js';
import { child, elements, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import { formatBackend, parseBackend, parseManaged, type HostdevDef } from './hostdev.js';
import { formatInfo, hex, parseDeviceInfo } from './info.js';
import type { DeviceKind, ParseContext } from './kind.js';

export interface NetDef {
  type: 'hostdev';
  mac: string;
  macType?: string;
  macCheck?: string;
  /** the backend, shared with the domain's hostdev list */
  hostdev: HostdevDef;
}

declare module '../model.js' {
  interface Devices {
    interface: NetDef[];
  }
}

const MAC_RE = /^([0-9a-fA-F]{1,2}[:-]){5}[0-9a-fA-F]{1,2}$/;
const NOT_IMPLEMENTED_CHILDREN = [
  'target', 'model', 'vlan', 'virtualport', 'link', 'mtu', 'coalesce', 'teaming', 'bandwidth', 'filterref',
  'ip', 'route', 'script', 'backenddomain', 'guest', 'tune', 'backend', 'port', 'downscript', 'portOptions',
];
const WHAT = "<interface type='hostdev'>";

function parse(e: XElement, { def, index }: ParseContext): NetDef {
  const type = e.attrs.type;
  if (type !== 'hostdev') throw notImplemented(`<interface type='${type ?? ''}'>`);
  for (const c of elements(e)) if (NOT_IMPLEMENTED_CHILDREN.includes(c.name)) throw notImplemented(`<${c.name}> in ${WHAT}`);
  const macEl = child(e, 'mac');
  const net: Omit<NetDef, 'hostdev'> = { type: 'hostdev', mac: '' };
  const raw = macEl?.attrs.address;
  if (raw !== undefined) {
    if (!MAC_RE.test(raw)) throw xmlError(`unable to parse mac address '${raw}'`);
    const bytes = raw.split(/[:-]/).map((b) => parseInt(b, 16));
    if (bytes[0]! & 1) throw xmlError(`expected unicast mac address, found multicast '${raw}'`);
    net.mac = bytes.map((b) => hex(b, 2)).join(':');
    if (macEl!.attrs.type !== undefined) net.macType = macEl!.attrs.type;
    if (macEl!.attrs.check !== undefined) net.macCheck = macEl!.attrs.check;
  } else {
    // libvirt picks a random 52:54:00 address; virtgold derives one from the domain
    // name and the interface's position.
    net.mac = deterministicMac(`${def.name}/${index}`);
  }
  const hostdev: HostdevDef = {
    managed: parseManaged(e), ...parseBackend(e, WHAT, true), info: parseDeviceInfo(e, WHAT, true), parentNet: true,
  };
  def.devices.hostdev.push(hostdev); // virDomainHostdevInsert, as libvirt's parser does
  return { ...net, hostdev };
}

export const net: DeviceKind<NetDef> = {
  element: 'interface',
  parse,
  info: (n) => n.hostdev.info,
  format(w, n) {
    const h = n.hostdev;
    // Unlike <hostdev>, an interface names managed only when it is 'yes'.
    w.open(`<interface type='hostdev'${h.managed ? " managed='yes'" : ''}>`);
    w.line(`<mac address='${n.mac}'${attr('type', n.macType)}${attr('check', n.macCheck)}/>`);
    formatBackend(w, h, true);
    formatInfo(w, h.info);
    w.close('</interface>');
  },
};
