// Define-time checks of an <interface>: libvirt's generic virDomainNetDefValidate, then
// the qemu driver's qemuValidateDomainDeviceDefNetwork.
import { hasFlag } from '../capabilities.js';
import { internalError, unsupportedConfig, xmlError } from '../errors.js';
import type { StageContext } from './kind.js';
import { isVirtioModel, modelEnum, type NetDef } from './net-def.js';

/** virDomainNetDefValidate */
export function validateNetConf(n: NetDef): void {
  if (n.hostdev) return;
  if (n.hostIps && n.type !== 'ethernet') {
    throw unsupportedConfig(`Invalid attempt to set network interface host-side IP route and/or address info on interface of type '${n.type}'. This is only supported on interfaces of type 'ethernet'`);
  }
  if (n.target?.managed === 'no' && n.type !== 'ethernet') {
    throw unsupportedConfig(`unmanaged target dev is not supported on interfaces of type '${n.type}'`);
  }
  const t = n.teaming;
  if (t?.type === 'transient' && t.persistent === undefined) {
    throw unsupportedConfig("teaming persistent attribute must be set if teaming type is 'transient'");
  }
  if (t?.type === 'persistent' && t.persistent !== undefined) {
    throw unsupportedConfig("teaming persistent attribute not allowed if teaming type is 'persistent'");
  }
  // virDomainNetDefValidatePortOptions: only a port of a Linux host bridge can be isolated
  // (<virtualport>, which it also excludes, is refused at parse)
  if (n.isolatedPort === 'yes' && n.type !== 'network' && n.type !== 'bridge') {
    throw unsupportedConfig(`interface ${n.mac} - <port isolated='yes'/> is not supported for network interfaces with type='${n.type}'`);
  }
  if (!isVirtioModel(n)) {
    const v = n.virtio;
    if (v?.iommu) throw unsupportedConfig('iommu driver option is only supported for virtio devices');
    if (v?.ats) throw unsupportedConfig('ats driver option is only supported for virtio devices');
    if (v?.packed) throw unsupportedConfig('packed driver option is only supported for virtio devices');
    if (v?.pagePerVq) throw unsupportedConfig('page_per_vq option is only supported for virtio devices');
  }
  if (n.source.kind === 'vhostuser') {
    if (!isVirtioModel(n)) {
      throw internalError("Wrong or no <model> 'type' attribute specified with <interface type='vhostuser'/>. vhostuser requires the virtio-net* frontend");
    }
    if (n.source.mode === 'server' && n.source.reconnect?.enabled === 'yes') {
      throw unsupportedConfig("'reconnect' attribute unsupported 'server' mode for <interface type='vhostuser'>");
    }
  }
}

const isPow2 = (x: number) => (x & (x - 1)) === 0;

/** qemuValidateDomainDeviceDefNetwork */
export function validateNet(n: NetDef, { caps }: StageContext): void {
  if (n.hostdev) return;
  if (n.type === 'user') {
    let v4 = false;
    let v6 = false;
    for (const ip of n.guestIps ?? []) {
      if (ip.peer) throw unsupportedConfig('Invalid attempt to set peer IP for guest');
      if (ip.address.family === 'ipv4') {
        if (v4) throw unsupportedConfig('Only one IPv4 address per interface is allowed');
        v4 = true;
        if (ip.prefix > 0 && (ip.prefix < 4 || ip.prefix > 27)) throw xmlError('invalid prefix, must be in range of 4-27');
      } else {
        if (v6) throw unsupportedConfig('Only one IPv6 address per interface is allowed');
        v6 = true;
        if (ip.prefix && ip.prefix !== 64) throw unsupportedConfig(`unsupported IPv6 address prefix='${ip.prefix}' - must be 64`);
      }
    }
  } else if (n.type !== 'vdpa' && n.guestIps) {
    throw unsupportedConfig('Invalid attempt to set network interface guest-side IP route and/or address info, not supported by QEMU');
  }
  if (n.type === 'vdpa') {
    if (!hasFlag(caps, 'netdev.vhost-vdpa')) throw unsupportedConfig('vDPA devices are not supported with this QEMU binary');
    if (n.model !== 'virtio') throw unsupportedConfig(`invalid model for interface of type 'vdpa': '${modelEnum(n)}'`);
  }
  if (isVirtioModel(n)) {
    const d = n.driver;
    if (d?.rxQueueSize && !isPow2(d.rxQueueSize)) throw unsupportedConfig('rx_queue_size has to be a power of two');
    if (d?.txQueueSize && !isPow2(d.txQueueSize)) throw unsupportedConfig('tx_queue_size has to be a power of two');
    if (d?.rss && !hasFlag(caps, 'virtio-net.rss')) throw unsupportedConfig('virtio rss is not supported with this QEMU binary');
    if (d?.rssHashReport && !hasFlag(caps, 'virtio-net.rss')) throw unsupportedConfig('virtio rss hash report is not supported with this QEMU binary');
  }
  // qemuDomainNetSupportsMTU (the passt backend, which allows it on 'user', is refused at parse)
  if (n.mtu && !['network', 'bridge', 'ethernet', 'vhostuser'].includes(n.type)) {
    throw unsupportedConfig(`setting MTU on interface type ${n.type} is not supported yet`);
  }
  const t = n.teaming;
  if (t?.type === 'persistent' && !isVirtioModel(n)) {
    throw unsupportedConfig(`virtio-net teaming persistent interface must be <model type='virtio'/>, not '${n.model ?? '(null)'}'`);
  }
  if (t?.type === 'transient' && n.type !== 'network') {
    throw unsupportedConfig(`virtio-net teaming transient interface must be type='hostdev', not '${n.type}'`);
  }
  if (n.coalesceRxFrames && n.type !== 'network' && n.type !== 'bridge') {
    throw unsupportedConfig(`coalesce settings on interface type ${n.type} are not supported`);
  }
}
