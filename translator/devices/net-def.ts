// <interface>: libvirt's virDomainNetDef, as far as virtgold implements it. The other
// net modules share these types: net-parse.ts (XML → NetDef), net-format.ts (NetDef →
// XML), net-validate.ts (define-time checks), net-command.ts (-netdev/-device).
import type { DeviceInfo, TriState, YesNo } from '../model.js';
import type { HostdevDef } from './hostdev.js';
import type { NetIp, PortForward } from './net-ip.js';
import type { Bandwidth, FilterRef, Vlan } from './net-qos.js';

/** virDomainNetType, in libvirt's order. */
export const NET_TYPES = [
  'user', 'ethernet', 'vhostuser', 'server', 'client', 'mcast', 'network', 'bridge', 'internal', 'direct',
  'hostdev', 'udp', 'vdpa', 'null', 'vds',
] as const;
export type NetType = (typeof NET_TYPES)[number];

/** virDomainNetModel: the models libvirt knows by name (matched without regard to case,
 *  written as listed; 'scm91c111' sic). Any other name of [A-Za-z0-9_-] is kept as given. */
export const NET_MODELS = [
  'unknown', 'netfront', 'rtl8139', 'virtio', 'e1000', 'e1000e', 'virtio-transitional', 'virtio-non-transitional',
  'usb-net', 'spapr-vlan', 'lan9118', 'scm91c111', 'vlance', 'vmxnet', 'vmxnet2', 'vmxnet3', 'Am79C970A', 'Am79C973',
  '82540EM', '82545EM', '82543GC',
] as const;

export const MACVLAN_MODES = ['vepa', 'private', 'bridge', 'passthrough'] as const;

/** <driver>'s virtio-net settings (virDomainNetDef.driver.virtio): read only for a virtio
 *  model, and written only for one. */
export interface NetVirtioDriver {
  name?: 'qemu' | 'vhost';
  txmode?: 'iothread' | 'timer';
  ioeventfd?: TriState;
  eventIdx?: TriState;
  /** 1 is kept as 0 (absent): there is always one queue */
  queues?: number;
  rxQueueSize?: number;
  txQueueSize?: number;
  rss?: TriState;
  rssHashReport?: TriState;
  host: Partial<Record<(typeof HOST_OFFLOADS)[number], TriState>>;
  guest: Partial<Record<(typeof GUEST_OFFLOADS)[number], TriState>>;
}

export const HOST_OFFLOADS = ['csum', 'gso', 'tso4', 'tso6', 'ecn', 'ufo', 'mrg_rxbuf'] as const;
export const GUEST_OFFLOADS = ['csum', 'tso4', 'tso6', 'ecn', 'ufo'] as const;

/** virDomainVirtioOptions of <driver> (any model; only virtio ones may set them). */
export interface VirtioOptions {
  iommu?: TriState;
  ats?: TriState;
  packed?: TriState;
  pagePerVq?: TriState;
}

/** What <source> holds, per type. */
export type NetSource =
  | { kind: 'network'; network: string; portgroup?: string }
  | { kind: 'bridge'; bridge: string }
  | { kind: 'direct'; dev: string; mode: (typeof MACVLAN_MODES)[number] }
  | { kind: 'socket'; address?: string; port: number; local?: { address: string; port: number } }
  | { kind: 'vdpa'; dev: string }
  | { kind: 'vhostuser'; path: string; mode: 'client' | 'server'; reconnect?: { enabled: YesNo; timeout?: number } }
  | { kind: 'internal'; name: string }
  | { kind: 'vds'; switchId: string; portId: bigint; portgroupId: string; connectionId: bigint }
  | { kind: 'none' };

export interface NetDef {
  type: NetType;
  mac: string;
  macType?: 'generated' | 'static';
  macCheck?: YesNo;
  trustGuestRxFilters?: YesNo;
  /** the model's name: a known one as libvirt spells it, else as given; undefined: none */
  model?: string;
  source: NetSource;
  /** <source><ip>: host-side addresses (type='ethernet' only) */
  hostIps?: NetIp[];
  /** <ip>: guest-side addresses */
  guestIps?: NetIp[];
  portForwards?: PortForward[];
  vlan?: Vlan;
  filterRef?: FilterRef;
  bandwidth?: Bandwidth;
  /** <port isolated>: a bridge port that talks only to unisolated ports (set on the
   *  host's bridge, nothing on QEMU's command line) */
  isolatedPort?: YesNo;
  target?: { dev?: string; managed?: YesNo };
  guest?: { dev?: string; actual?: string };
  script?: string;
  downscript?: string;
  backendDomain?: string;
  driver?: NetVirtioDriver;
  virtio?: VirtioOptions;
  backend?: { tap?: string; vhost?: string; logFile?: string };
  linkState?: 'up' | 'down';
  teaming?: { type: 'persistent' | 'transient'; persistent?: string };
  /** <tune><sndbuf>, as written (an unsigned 64-bit number) */
  sndbuf?: bigint;
  mtu?: number;
  /** <coalesce><rx><frames max> */
  coalesceRxFrames?: number;
  info: DeviceInfo;
  /** type='hostdev': the backend, shared with the domain's hostdev list */
  hostdev?: HostdevDef;
}

/** virDomainNetIsVirtioModel */
export const isVirtioModel = (n: Pick<NetDef, 'model'>) =>
  n.model === 'virtio' || n.model === 'virtio-transitional' || n.model === 'virtio-non-transitional';

/** virDomainNetModel as an enum: a name of NET_MODELS, else 'unknown' (a free-form model). */
export const modelEnum = (n: Pick<NetDef, 'model'>): string =>
  n.model !== undefined && (NET_MODELS as readonly string[]).includes(n.model) ? n.model : 'unknown';

declare module '../model.js' {
  interface Devices {
    interface: NetDef[];
  }
}
