// <interface>: the device kind. The definition is net-def.ts; parsing, XML, validation
// and the command line live in net-parse.ts, net-format.ts, net-validate.ts and
// net-command.ts. type='hostdev' (an SR-IOV VF given to the guest as a NIC) is special:
// as in libvirt, its VFIO backend is also a hostdev in the domain's hostdev list
// (parentnet): it takes a hostdevN alias, a PCI slot in hostdev order, and its -device
// is emitted with the hostdevs; only its XML is the interface's.
import { hasFlag } from '../capabilities.js';
import { notImplemented } from '../errors.js';
import { pcieFlags, pciFlags, virtioFlags } from '../pci/connect.js';
import type { DeviceKind, StageContext } from './kind.js';
import { freshNetInfo, netCommand } from './net-command.js';
import { isVirtioModel, type NetDef } from './net-def.js';
import { formatNet } from './net-format.js';
import { checkHostScript, hostNetworkForward } from './net-host.js';
import { parseNet } from './net-parse.js';
import { validateNet, validateNetConf } from './net-validate.js';

export type { NetDef } from './net-def.js';

/** qemuDomainDefaultNetModel for the machines virtgold runs */
function defaultModel({ def, caps }: StageContext): string {
  if (def.os.arch === 's390x') return 'virtio';
  if (hasFlag(caps, 'rtl8139')) return 'rtl8139';
  if (hasFlag(caps, 'e1000')) return 'e1000';
  if (hasFlag(caps, 'virtio-net')) return 'virtio';
  return 'rtl8139';
}

/** qemuDomainDeviceNetDefPostParse */
function postParse(n: NetDef, ctx: StageContext): void {
  if (n.hostdev || n.model !== undefined) return;
  if (n.type === 'vdpa') {
    n.model = 'virtio';
    return;
  }
  // virDomainNetResolveActualType: a network is looked up on the host (a pool of host
  // devices gets no model); host/<snapshot>.json says which networks the host has.
  if (n.type === 'network' && n.source.kind === 'network' && hostNetworkForward(ctx.caps, n.source.network) === 'hostdev') {
    throw notImplemented(`<interface type='network'> on a network of host devices ('${n.source.network}')`);
  }
  n.model = defaultModel(ctx);
}

/** qemuDomainDeviceCalculatePCIConnectFlags for a NIC */
function connectFlags(n: NetDef, { def, caps }: StageContext): number {
  if (n.model === 'virtio' || n.model === 'virtio-non-transitional') return virtioFlags(def, caps);
  if (n.model === 'virtio-transitional') return pciFlags;
  if (n.model === 'e1000e') return pcieFlags(def);
  // a model libvirt does not know by name counts as 'unknown', which it takes for PCIe
  if (n.model === undefined || !KNOWN.has(n.model)) return pcieFlags(def);
  return pciFlags;
}
const KNOWN = new Set<string>([
  'netfront', 'rtl8139', 'virtio', 'e1000', 'e1000e', 'virtio-transitional', 'virtio-non-transitional', 'usb-net',
  'spapr-vlan', 'lan9118', 'scm91c111', 'vlance', 'vmxnet', 'vmxnet2', 'vmxnet3', 'Am79C970A', 'Am79C973', '82540EM',
  '82545EM', '82543GC',
]);

/** qemuProcessPrepareDeviceBootorder: with <os><boot dev='network'/>, the first NIC boots. */
const bootIndexOf = new WeakMap<NetDef, number>();

export const net: DeviceKind<NetDef> = {
  element: 'interface',
  parse(e, ctx) {
    const n = parseNet(e, ctx);
    if (n.model === 'usb-net' || n.model === 'spapr-vlan') throw notImplemented(`<model type='${n.model}'> in <interface>`);
    return n;
  },
  info: (n) => (n.hostdev ? n.hostdev.info : n.info),
  postParse,
  pci: (n, ctx) => (n.hostdev ? undefined : { info: n.info, connect: connectFlags(n, ctx), function: -1 }),
  ccw: (n, { machine }) => !n.hostdev && machine.virtioCcw && isVirtioModel(n),
  validateConf: validateNetConf,
  validate: validateNet,
  validateStart(n, { caps }) {
    if (!n.hostdev && n.script !== undefined) checkHostScript(caps, n.script);
  },
  startAnew(n) {
    if (n.hostdev) return false;
    freshNetInfo(n);
    return true;
  },
  // qemuAssignDeviceNetAlias: netN, one past the highest so far (hostdev ones are hostdevN)
  alias: (n, i, def) => (n.hostdev ? undefined : `net${def.devices.interface.slice(0, i).filter((o) => !o.hostdev).length}`),
  format: (w, n) => formatNet(w, n),
  commandBefore(list, { def }) {
    const pos = def.os.bootDevs.indexOf('network');
    const first = list[0];
    if (first && !first.hostdev && pos >= 0) bootIndexOf.set(first, pos + 1);
    return [];
  },
  command: (n, ctx) => netCommand(n, bootIndexOf.get(n), ctx),
};
