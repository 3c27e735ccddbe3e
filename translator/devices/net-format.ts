// virDomainNetDefFormat for inactive XML: NetDef → <interface>, in libvirt's child order.
import { attr, type Writer } from '../xml/writer.js';
import { formatBackend } from './hostdev.js';
import { formatInfo } from './info.js';
import { formatIps, formatPortForwards } from './net-ip.js';
import { formatBandwidth, formatFilterRef, formatVlan } from './net-qos.js';
import { GUEST_OFFLOADS, HOST_OFFLOADS, isVirtioModel, type NetDef } from './net-def.js';

function formatSource(w: Writer, n: NetDef): void {
  const s = n.source;
  switch (s.kind) {
    case 'network':
      w.line(`<source${attr('network', s.network)}${attr('portgroup', s.portgroup)}/>`);
      return;
    case 'bridge':
      w.line(`<source${attr('bridge', s.bridge)}/>`);
      return;
    case 'direct':
      w.line(`<source${attr('dev', s.dev)} mode='${s.mode}'/>`);
      return;
    case 'vdpa':
      w.line(`<source${attr('dev', s.dev)}/>`);
      return;
    case 'internal':
      w.line(`<source${attr('name', s.name)}/>`);
      return;
    case 'socket': {
      // (printed as given: libvirt does not escape these two)
      const head = s.address !== undefined ? `source address='${s.address}' port='${s.port}'` : `source port='${s.port}'`;
      if (!s.local) {
        w.line(`<${head}/>`);
        return;
      }
      w.open(`<${head}>`);
      w.line(`<local address='${s.local.address}' port='${s.local.port}'/>`);
      w.close('</source>');
      return;
    }
    case 'vhostuser': {
      const head = `source type='unix'${attr('path', s.path)} mode='${s.mode}'`;
      const r = s.reconnect;
      if (!r) {
        w.line(`<${head}/>`);
        return;
      }
      w.open(`<${head}>`);
      w.line(`<reconnect enabled='${r.enabled}'${r.enabled === 'yes' ? ` timeout='${r.timeout}'` : ''}/>`);
      w.close('</source>');
      return;
    }
    case 'vds':
      w.line(`<source switchid='${s.switchId}' portid='${s.portId}'${attr('portgroupid', s.portgroupId)} connectionid='${s.connectionId}'/>`);
      return;
    case 'none':
      return;
  }
}

function formatDriver(w: Writer, n: NetDef): void {
  const d = n.driver;
  const v = n.virtio;
  const attrs = [
    attr('name', d?.name), attr('txmode', d?.txmode), attr('ioeventfd', d?.ioeventfd), attr('event_idx', d?.eventIdx),
    attr('queues', d?.queues), attr('rx_queue_size', d?.rxQueueSize), attr('tx_queue_size', d?.txQueueSize),
    attr('rss', d?.rss), attr('rss_hash_report', d?.rssHashReport),
    attr('iommu', v?.iommu), attr('ats', v?.ats), attr('packed', v?.packed), attr('page_per_vq', v?.pagePerVq),
  ].join('');
  const host = HOST_OFFLOADS.map((k) => attr(k, d?.host[k])).join('');
  const guest = GUEST_OFFLOADS.map((k) => attr(k, d?.guest[k])).join('');
  if (!attrs && !host && !guest) return;
  w.element(`driver${attrs}`, 'driver', host || guest ? () => {
    if (host) w.line(`<host${host}/>`);
    if (guest) w.line(`<guest${guest}/>`);
  } : undefined);
}

export function formatNet(w: Writer, n: NetDef): void {
  const h = n.hostdev;
  // Unlike <hostdev>, an interface names managed only when it is 'yes'.
  w.open(`<interface type='${n.type}'${h?.managed ? " managed='yes'" : ''}${attr('trustGuestRxFilters', n.trustGuestRxFilters)}>`);
  w.line(`<mac address='${n.mac}'${attr('type', n.macType)}${attr('check', n.macCheck)}/>`);
  if (h) formatBackend(w, h, true);
  else if (n.hostIps) {
    // (host addresses pass validation on type='ethernet' only, which has no <source> of its own)
    w.open('<source>');
    formatIps(w, n.hostIps);
    w.close('</source>');
  } else formatSource(w, n);
  if (n.vlan) formatVlan(w, n.vlan);
  if (n.bandwidth) formatBandwidth(w, n.bandwidth);
  if (n.isolatedPort) w.line(`<port isolated='${n.isolatedPort}'/>`);
  if (n.guestIps) formatIps(w, n.guestIps);
  if (n.portForwards) formatPortForwards(w, n.portForwards);
  if (n.script !== undefined) w.line(`<script${attr('path', n.script)}/>`);
  if (n.downscript !== undefined) w.line(`<downscript${attr('path', n.downscript)}/>`);
  if (n.backendDomain !== undefined) w.line(`<backenddomain${attr('name', n.backendDomain)}/>`);
  const t = n.target;
  if (t && (t.dev !== undefined || t.managed !== undefined)) w.line(`<target${attr('dev', t.dev)}${attr('managed', t.managed)}/>`);
  if (n.guest) w.line(`<guest${attr('dev', n.guest.dev)}${attr('actual', n.guest.actual)}/>`);
  if (n.model !== undefined) {
    w.line(`<model${attr('type', n.model)}/>`);
    if (isVirtioModel(n)) formatDriver(w, n);
  }
  const b = n.backend;
  if (b && (b.tap !== undefined || b.vhost !== undefined || b.logFile !== undefined)) {
    w.line(`<backend${attr('tap', b.tap)}${attr('vhost', b.vhost)}${attr('logFile', b.logFile)}/>`);
  }
  if (n.filterRef) formatFilterRef(w, n.filterRef);
  if (n.sndbuf !== undefined) {
    w.open('<tune>');
    w.line(`<sndbuf>${n.sndbuf}</sndbuf>`);
    w.close('</tune>');
  }
  if (n.teaming) w.line(`<teaming type='${n.teaming.type}'${attr('persistent', n.teaming.persistent)}/>`);
  if (n.linkState) w.line(`<link state='${n.linkState}'/>`);
  if (n.mtu) w.line(`<mtu size='${n.mtu}'/>`);
  if (n.coalesceRxFrames) {
    w.open('<coalesce>');
    w.open('<rx>');
    w.line(`<frames max='${n.coalesceRxFrames}'/>`);
    w.close('</rx>');
    w.close('</coalesce>');
  }
  formatInfo(w, h ? h.info : n.info);
  w.close('</interface>');
}
