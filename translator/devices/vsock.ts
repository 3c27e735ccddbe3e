// <vsock> (libvirt's virDomainVsockDef): vhost-vsock on PCI or CCW. One at most. The
// guest CID of <cid auto='yes'/> and the vhost descriptor come from the host when the
// domain starts (vsock-host.ts says what a snapshot's host gives).
import { hasFlag } from '../capabilities.js';
import { notImplemented, unsupportedConfig } from '../errors.js';
import type { DeviceInfo, TriState, YesNo } from '../model.js';
import { propEnum, propOnOff, propUInt, propYesNo } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { DeviceKind } from './kind.js';
import { pciFlags, virtioFlags } from '../pci/connect.js';
import './vsock-host.js';

/** virDomainVirtioOptions: <driver> attributes (libvirt's order) and -device properties */
const VIRTIO_OPTS = [['iommu', 'iommu_platform'], ['ats', 'ats'], ['packed', 'packed'], ['page_per_vq', 'page-per-vq']] as const;
type VirtioOpts = Partial<Record<(typeof VIRTIO_OPTS)[number][0], TriState>>;

export interface VsockDef {
  model?: 'virtio' | 'virtio-transitional' | 'virtio-non-transitional';
  /** 0: none */
  cid: number;
  auto?: YesNo;
  virtio?: VirtioOpts;
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    vsock: VsockDef[];
  }
}

const MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;

/** virDomainVsockDefParseXML */
function parse(e: XElement): VsockDef {
  // 'default' may be written: it is what absence means
  const model = propEnum(e, 'model', MODELS);
  const d: VsockDef = { cid: 0, info: {} };
  if (model && model !== 'default') d.model = model;
  const cid = child(e, 'cid');
  if (cid) {
    d.cid = propUInt(cid, 'address', { nonZero: true }) ?? 0;
    const auto = propYesNo(cid, 'auto');
    if (auto) d.auto = auto;
  }
  d.info = parseDeviceInfo(e, '<vsock>', false);
  const drv = child(e, 'driver');
  if (drv) {
    const v: VirtioOpts = {};
    for (const [a] of VIRTIO_OPTS) {
      const x = propOnOff(drv, a);
      if (x) v[a] = x;
    }
    d.virtio = v;
  }
  return d;
}

export const vsock: DeviceKind<VsockDef> = {
  element: 'vsock',
  parse,
  info: (d) => d.info,
  // virDomainVsockDefPostParse, then the qemu driver's default model
  postParse(d) {
    d.auto ??= d.cid !== 0 ? 'no' : 'yes';
    d.model ??= 'virtio';
  },
  pci: (d, { def, caps, machine }) => {
    if (machine.virtioCcw && d.info.address?.type !== 'pci') return undefined;
    return { info: d.info, connect: d.model === 'virtio-transitional' ? pciFlags : virtioFlags(def, caps), function: -1 };
  },
  ccw: (_d, { machine }) => machine.virtioCcw,
  // virDomainVsockDefValidate (every model the qemu driver keeps is a virtio one)
  validateConf(d) {
    if (d.cid > 0 && d.cid <= 2) throw unsupportedConfig('guest CIDs must be >= 3');
  },
  // qemuValidateDomainDeviceDefVsock
  validate(_d, { caps }) {
    if (!hasFlag(caps, 'vhost-vsock')) throw unsupportedConfig('vsock device is not supported with this QEMU binary');
  },
  validateStart(_d, { caps }) {
    if (!caps.vsockHost) throw notImplemented('<vsock> on a command line with a snapshot that carries no vsock host facts (host/<snapshot>.json)');
  },
  alias: () => 'vsock0',
  // virDomainVsockDefFormat
  format(w, d) {
    const cid = `${attr('auto', d.auto)}${d.cid ? ` address='${d.cid}'` : ''}`;
    const drv = VIRTIO_OPTS.map(([a]) => attr(a, d.virtio?.[a])).join('');
    w.element(`vsock${attr('model', d.model)}`, 'vsock', cid || drv || hasInfo(d.info) ? () => {
      if (cid) w.line(`<cid${cid}/>`);
      formatInfo(w, d.info);
      if (drv) w.line(`<driver${drv}/>`);
    } : undefined);
  },
  // qemuBuildVsockCommandLine (after -sandbox)
  command(d, { def, caps }) {
    const host = caps.vsockHost!;
    let driver = `vhost-vsock-${d.info.address?.type === 'ccw' ? 'ccw' : 'pci'}`;
    // (libvirt reports, but does not fail on, a transitional model on CCW)
    if (d.model === 'virtio-transitional' && hasFlag(caps, 'virtio-pci-non-transitional')) driver += '-transitional';
    if (d.model === 'virtio-non-transitional') {
      if (!hasFlag(caps, 'virtio-pci-non-transitional')) throw unsupportedConfig('virtio non-transitional model not supported for this qemu');
      driver += '-non-transitional';
    }
    const p: Record<string, unknown> = { driver };
    for (const [a, prop] of VIRTIO_OPTS) if (d.virtio?.[a]) p[prop] = d.virtio[a] === 'on';
    const cid = d.auto === 'yes' && host.autoCid !== null ? host.autoCid : d.cid;
    Object.assign(p, { id: d.info.alias, 'guest-cid': cid, vhostfd: String(host.vhostfd) }, addressProps(d.info, def));
    return [...zpciDevice(d.info), ['-device', JSON.stringify(p)]];
  },
};
