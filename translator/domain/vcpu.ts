// <vcpu> and <vcpus>: how many vCPUs, which are online at start, where they may run
// (virDomainVcpuParse, qemuDomainDefVcpusPostParse, virDomainVcpuDefPostParse,
// virDomainCpuDefFormat, the counts of qemuBuildSmpCommandLine).
import { notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef, VcpuDef, VcpuState } from '../model.js';
import { propEnum, propUInt, required } from '../xml/props.js';
import { child, elements, textOf, type XElement } from '../xml/tree.js';
import { CPUMASK_LEN, formatBitmap, parseBitmap } from './bitmap.js';
import type { Writer } from '../xml/writer.js';

/** virStrToLong_ui: blanks, a sign, decimal digits and nothing after; '-N' is taken as
 *  UINT_MAX+1-N, as strtoul wraps it. */
function strToUint(raw: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(raw);
  if (!m) return undefined;
  const v = BigInt(m[2]!);
  if (m[1] !== '-') return v <= 4294967295n ? Number(v) : undefined;
  return v <= 4294967295n ? Number((2n ** 32n - v) % 2n ** 32n) : undefined;
}

/** A cpuset-like attribute: a non-empty set (libvirt's "Invalid value of 'ATTR'"). */
export function parseCpuset(value: string, attr = 'cpuset'): number[] {
  const set = parseBitmap(value);
  if (!set.length) throw unsupportedConfig(`Invalid value of '${attr}': ${value}`);
  return set;
}

export function parseVcpu(domain: XElement): VcpuDef {
  const el = child(domain, 'vcpu');
  let max = 1;
  let current = 1;
  const out: VcpuDef = { max, placement: 'static' };
  if (el) {
    const n = strToUint(textOf(el));
    if (n === undefined) throw xmlError('maximum vcpus count must be an integer');
    max = n;
    current = propUInt(el, 'current') ?? max;
    out.placement = propEnum(el, 'placement', ['static', 'auto'] as const) ?? 'static';
    if (out.placement !== 'auto' && el.attrs.cpuset !== undefined) out.cpuset = parseCpuset(el.attrs.cpuset);
  }
  // (<vcpu>0</vcpu> fails only after <cpu> and NUMA are read: stages/parse.ts)
  out.max = max;

  const list = elements(domain).filter((e) => e.name === 'vcpus').flatMap((v) => elements(v, 'vcpu'));
  if (list.length) {
    // One state per vCPU, as libvirt keeps them: bounded here (no machine takes more).
    if (max > MAX_INDIVIDUAL) throw notImplemented(`<vcpus> with more than ${MAX_INDIVIDUAL} vCPUs`);
    const states: VcpuState[] = Array.from({ length: max }, () => ({ online: false, order: 0 }));
    for (const v of list) {
      required(v, 'id');
      const id = propUInt(v, 'id')!;
      if (id >= max) throw xmlError(`vcpu id '${id}' is out of range of maximum vcpu count`);
      const s = states[id]!;
      required(v, 'enabled');
      s.online = propEnum(v, 'enabled', ['absent', 'yes', 'no'] as const, { nonZero: true }) === 'yes';
      const hp = propEnum(v, 'hotpluggable', ['absent', 'yes', 'no'] as const, { nonZero: true });
      if (hp) s.hotpluggable = hp as 'yes' | 'no';
      else delete s.hotpluggable;
      s.order = propUInt(v, 'order') ?? 0;
    }
    out.individual = states;
    const online = states.filter((s) => s.online).length;
    if (online !== max) out.current = online;
  } else {
    if (current > max) throw unsupportedConfig('maximum vCPU count must not be less than current vCPU count');
    if (current !== max) out.current = current;
  }
  return out;
}

const MAX_INDIVIDUAL = 16384;

/** qemuDomainDefVcpusPostParse (the qemu driver's rules). Without <vcpus> only
 *  vCPU 0 can break a rule (when current='0'). */
export function postParseVcpus(def: DomainDef): void {
  const all = def.vcpu.individual ?? [{ online: (def.vcpu.current ?? def.vcpu.max) > 0, order: 0 }];
  const first = all[0]!;
  if (!first.online) throw unsupportedConfig("vcpu 0 can't be offline");
  if (first.hotpluggable === 'yes') throw unsupportedConfig("vcpu0 can't be hotpluggable");
  if (first.order !== 0 && first.order !== 1) throw unsupportedConfig('vcpu0 must be enabled first');
  const hasOrder = first.order !== 0;
  for (let i = 1; i < all.length; i++) {
    const v = all[i]!;
    const prev = all[i - 1]!;
    if (v.online && (v.order !== 0) !== hasOrder) throw unsupportedConfig('all vcpus must have either set or unset order');
    if (v.hotpluggable === 'no') {
      if (prev.hotpluggable === 'yes') throw unsupportedConfig('online non-hotpluggable vcpus need to be ordered prior to hotplugable vcpus');
      if (prev.order > v.order) throw unsupportedConfig('online non-hotpluggable vcpus must be ordered in ascending order');
    }
  }
}

/** virDomainVcpuDefPostParse (libvirt's common post-parse): every vCPU's
 *  hotpluggability made explicit. */
export function postParseVcpusCommon(def: DomainDef): void {
  const all = def.vcpu.individual;
  if (!all) return;
  all.forEach((v, i) => {
    if (v.hotpluggable === undefined) v.hotpluggable = v.online ? 'no' : 'yes';
    else if (v.hotpluggable === 'no' && !v.online) throw unsupportedConfig(`vcpu '${i}' is both offline and not hotpluggable`);
  });
}

/** The vCPUs QEMU starts with: online and not hotpluggable (the others are plugged in
 *  once QEMU runs). */
export function bootVcpus(v: VcpuDef): number {
  return v.individual ? v.individual.filter((s) => s.online && s.hotpluggable !== 'yes').length : v.current ?? v.max;
}

export function formatVcpu(w: Writer, v: VcpuDef): void {
  const cpuset = v.cpuset && v.cpuset.length < CPUMASK_LEN ? ` cpuset='${formatBitmap(v.cpuset)}'` : '';
  const cur = v.current !== undefined ? ` current='${v.current}'` : '';
  w.line(`<vcpu placement='${v.placement}'${cpuset}${cur}>${v.max}</vcpu>`);
  if (!v.individual) return;
  w.open('<vcpus>');
  v.individual.forEach((s, i) => {
    const order = s.order !== 0 ? ` order='${s.order}'` : '';
    w.line(`<vcpu id='${i}' enabled='${s.online ? 'yes' : 'no'}' hotpluggable='${s.hotpluggable}'${order}/>`);
  });
  w.close('</vcpus>');
}
