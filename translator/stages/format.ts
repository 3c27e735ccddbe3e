// Stage 5a, the domain XML, byte for byte as libvirt 9.0.0's `virsh dumpxml --inactive
// --security-info` prints it (virDomainDefFormatInternal): domain-level elements in its
// order, then the devices, each kind in FORMAT_ORDER.
import { formatMaxMemory, formatMemoryBacking } from '../domain/memory.js';
import { formatNumatune } from '../domain/numatune.js';
import { formatBlkioMemtune, formatCputune, formatIOThreads } from '../domain/tuning.js';
import { formatVcpu } from '../domain/vcpu.js';
import type { StageContext } from '../devices/kind.js';
import { eachDevice } from '../devices/registry.js';
import type { MetadataDef } from '../model.js';
import { formatOs } from '../domain/os.js';
import { formatSysinfo } from '../domain/sysinfo.js';
import { FORMAT_ORDER } from './order.js';
import * as misc from '../domain/misc.js';
import { formatCpu } from '../domain/cpu.js';
import { formatNuma } from '../domain/numa.js';
import { formatClock } from '../domain/clock.js';
import { formatFeatures } from '../domain/features.js';
import { dumpNode, escAttr, sanitizeMetadata, undeclaredPrefixes } from '../xml/serialize.js';
import { escapeXml } from '../xml/tree.js';
import { attr, Writer } from '../xml/writer.js';

/** <metadata>, as libvirt copies it: namespaced elements only, with the namespace
 *  declarations they need re-declared on <metadata>, written by libxml2. */
function formatMetadata(w: Writer, m: MetadataDef): void {
  const { own, inherited } = m;
  const meta = sanitizeMetadata(m.elements, { ...inherited, ...Object.fromEntries(own) });
  const used: string[] = [];
  undeclaredPrefixes(meta, new Set(own.map(([k]) => k.slice(6))), used);
  const decls: [string, string][] = [...own];
  for (const p of used) {
    const uri = inherited[`xmlns:${p}`];
    if (uri !== undefined) decls.push([`xmlns:${p}`, uri]);
  }
  w.element(`metadata${decls.map(([k, v]) => ` ${k}="${escAttr(v)}"`).join('')}`, 'metadata',
    meta.length ? () => meta.forEach((e) => w.line(dumpNode(e, 2, true))) : undefined);
}

export function formatDomain(ctx: StageContext): string {
  const { def } = ctx;
  const w = new Writer();
  w.open(`<domain type='${def.virtType}'${misc.rootNamespaceAttr(def)}>`);
  w.line(`<name>${escapeXml(def.name)}</name>`);
  w.line(`<uuid>${def.uuid}</uuid>`);
  misc.formatGenid(w, def);
  if (def.title !== undefined) w.line(`<title>${escapeXml(def.title)}</title>`);
  if (def.description !== undefined) w.line(`<description>${escapeXml(def.description)}</description>`);
  if (def.metadata) formatMetadata(w, def.metadata);
  formatMaxMemory(w, def);
  w.line(`<memory${attr('dumpCore', def.memory.dumpCore)} unit='KiB'>${def.memory.totalKiB}</memory>`);
  w.line(`<currentMemory unit='KiB'>${def.memory.currentKiB}</currentMemory>`);
  formatBlkioMemtune(w, def);
  formatMemoryBacking(w, def);
  formatVcpu(w, def.vcpu);
  formatIOThreads(w, def);
  formatCputune(w, def);
  formatNumatune(w, def);
  misc.formatResource(w, def);

  formatSysinfo(w, def);
  formatOs(w, def.os);
  misc.formatIdmap(w, def);

  formatFeatures(w, def.features);
  const numa = def.numa;
  formatCpu(w, def.cpu, numa ? () => formatNuma(w, numa, def.numaInterconnects) : undefined);
  formatClock(w, def.clock);
  w.line(`<on_poweroff>${def.onPoweroff}</on_poweroff>`);
  w.line(`<on_reboot>${def.onReboot}</on_reboot>`);
  w.line(`<on_crash>${def.onCrash}</on_crash>`);
  misc.formatLockFailure(w, def);
  if (def.pm.suspendToMem || def.pm.suspendToDisk) {
    w.open('<pm>');
    if (def.pm.suspendToMem) w.line(`<suspend-to-mem enabled='${def.pm.suspendToMem}'/>`);
    if (def.pm.suspendToDisk) w.line(`<suspend-to-disk enabled='${def.pm.suspendToDisk}'/>`);
    w.close('</pm>');
  }
  misc.formatPerf(w, def);

  w.open('<devices>');
  if (def.emulator) w.line(`<emulator>${escapeXml(def.emulator)}</emulator>`);
  for (const kind of FORMAT_ORDER) eachDevice(def.devices, kind, (k, dev) => k.format(w, dev, ctx));
  w.close('</devices>');
  misc.formatMiscTail(w, def);
  w.close('</domain>');
  return w.text();
}
