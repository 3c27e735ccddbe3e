// libvirt's x86 CPU driver for host-model (src/cpu/cpu_x86.c, qemu_capabilities.c):
// the host CPU QEMU expanded (<hostCPU> of the snapshot) decoded into the closest model
// of libvirt's CPU map (x86Decode), and the comparison of a guest CPU with it
// (x86Compute). Every x86 feature of the map is one CPUID/MSR bit of its own, so sets of
// feature names stand for CPUID data here; the vendor and the signature (family, model,
// stepping) travel beside them.
import type { CapsVirtType, HostCpu, QemuCaps } from '../capabilities.js';
import { X86_MODEL_DATA, X86_UNMIGRATABLE, X86_VENDORS, type X86ModelData } from './cpu-map-data.js';
import { X86_FEATURES, X86_MODELS } from './cpu-map.js';

/** libvirt's feature names where QEMU spells them differently (virQEMUCapsCPUFeaturesX86). */
export const X86_QEMU_NAMES: Record<string, string> = {
  cmp_legacy: 'cmp-legacy', ds_cpl: 'ds-cpl', fxsr_opt: 'fxsr-opt', kvm_pv_eoi: 'kvm-pv-eoi',
  kvm_pv_unhalt: 'kvm-pv-unhalt', lahf_lm: 'lahf-lm', nodeid_msr: 'nodeid-msr', pclmuldq: 'pclmulqdq',
  perfctr_core: 'perfctr-core', perfctr_nb: 'perfctr-nb', tsc_adjust: 'tsc-adjust',
};
const FROM_QEMU: Record<string, string> = Object.fromEntries(Object.entries(X86_QEMU_NAMES).map(([l, q]) => [q, l]));
const fromQemu = (name: string) => FROM_QEMU[name] ?? name;

export type X86Policy = 'force' | 'require' | 'optional' | 'disable' | 'forbid';
export interface X86Feature {
  name: string;
  policy: X86Policy;
}
/** A CPU as libvirt decodes it: model, vendor name and the features listed. */
export interface X86Cpu {
  model: string;
  vendor?: string;
  features: X86Feature[];
}

interface HostData {
  features: Set<string>;
  vendor?: string;
  /** family, model, stepping; undefined when all are 0 (no signature) */
  signature?: [number, number, number];
}

/** virQEMUCapsGetCPUModelX86Data: the CPU data in QEMU's expansion (features QEMU enables,
 *  without non-migratable ones when asked; names libvirt's map lacks are ignored). */
function hostData(host: HostCpu, migratable: boolean): HostData {
  const features = new Set<string>();
  for (const p of host.props) {
    if (!p.value || (migratable && p.migratable === false)) continue;
    const name = fromQemu(p.name);
    if (X86_FEATURES.has(name)) features.add(name);
  }
  const num = (k: string) => (typeof host.values[k] === 'number' ? (host.values[k] as number) : 0);
  const sig: [number, number, number] = [num('family'), num('model'), num('stepping')];
  const vendorStr = host.values.vendor;
  const vendor = typeof vendorStr === 'string' ? X86_VENDORS.find(([, s]) => s === vendorStr)?.[0] : undefined;
  return { features, ...(vendor ? { vendor } : {}), ...(sig.some((x) => x !== 0) ? { signature: sig } : {}) };
}

const inMapOrder = (set: Set<string>) => [...X86_FEATURES].filter((f) => set.has(f));

/** x86DataToCPU for a guest CPU: the model, what the data adds to it and what it lacks
 *  (with the hypervisor's blockers), then the model's removed features, disabled. */
function dataToCpu(data: HostData, name: string, model: X86ModelData, blockers: string[]): X86Cpu {
  const extra = new Set([...data.features].filter((f) => !model.features.includes(f)));
  const missing = new Set(model.features.filter((f) => !data.features.has(f)));
  for (const b of blockers.map(fromQemu)) if (X86_FEATURES.has(b) && !extra.has(b)) missing.add(b);
  const features: X86Feature[] = [
    ...inMapOrder(extra).map((f) => ({ name: f, policy: 'require' as const })),
    ...inMapOrder(missing).map((f) => ({ name: f, policy: 'disable' as const })),
  ];
  for (const r of X86_MODELS.get(name) ?? []) if (!features.some((f) => f.name === r)) features.push({ name: r, policy: 'disable' });
  return { model: name, features };
}

/** virCPUx86CompareCandidateFeatureList for guest CPUs (its loop bound shrinks as it counts). */
function weigh(cpu: X86Cpu): { total: number; disabled: number } {
  let enabled = cpu.features.length;
  let disabled = 0;
  let penalty = 2;
  for (let i = 0; i < enabled; i++) {
    if (cpu.features[i]!.policy === 'disable') {
      enabled--;
      disabled += penalty++;
    }
  }
  return { total: enabled + disabled, disabled };
}

const sigMatch = (model: X86ModelData, sig: [number, number, number]) =>
  model.signatures.some((s) => s.family === sig[0] && s.model === sig[1] && (!s.steppings || s.steppings.includes(sig[2])));

/** x86Decode of host CPU data into a guest CPU definition, among the emulator's models. */
function decode(data: HostData, models: Map<string, string[]>): X86Cpu {
  const features = new Set(data.features);
  // x86DataFilterTSX: Intel CPUs whose TSX is broken.
  const sig = data.signature;
  if (data.vendor === 'Intel' && sig && sig[0] === 6 && ((sig[1] === 63 && sig[2] < 4) || [60, 69, 70].includes(sig[1]))) {
    features.delete('hle');
    features.delete('rtm');
  }
  const filtered: HostData = { ...data, features };
  let best: { cpu: X86Cpu; model: X86ModelData } | undefined;
  for (const [name, model] of [...X86_MODEL_DATA].reverse()) {
    const blockers = models.get(name);
    if (!blockers) continue;
    if (data.vendor && model.vendor && data.vendor !== model.vendor) continue;
    if (!model.decodeGuest) continue;
    const cpu = dataToCpu(filtered, name, model, blockers);
    if (!best) {
      best = { cpu, model };
      continue;
    }
    if (sig) {
      const cur = sigMatch(best.model, sig);
      const cand = sigMatch(model, sig);
      if (cur && !cand) continue;
      if (!cur && cand) {
        best = { cpu, model };
        continue;
      }
    }
    const a = weigh(cpu);
    const b = weigh(best.cpu);
    if (a.total < b.total || (a.total === b.total && a.disabled < b.disabled)) best = { cpu, model };
  }
  if (!best) throw new Error('Cannot find suitable CPU model for given data');
  return { ...best.cpu, ...(data.vendor ? { vendor: data.vendor } : {}) };
}

/** The host CPUs libvirt derives from the snapshot for an accelerator
 *  (virQEMUCapsInitHostCPUModel): `reported` and the `migratable` one host-model becomes. */
export function x86HostModels(caps: QemuCaps, virtType: CapsVirtType): { reported: X86Cpu; migratable: X86Cpu } | undefined {
  const host = caps.hostCpus.find((h) => h.virtType === virtType);
  if (!host) return undefined;
  const models = new Map(caps.cpuModels.filter((c) => c.virtType === virtType).map((c) => [c.name, c.blockers]));
  const reported = decode(hostData(host, false), models);
  const migratable = host.migratability
    ? decode(hostData(host, true), models)
    : { ...reported, features: reported.features.filter((f) => !X86_UNMIGRATABLE.has(f.name)) };
  return { reported, migratable };
}

/** x86ModelFromCPU(cpu, -1) for a decoded CPU: the features its data holds. */
export function x86CpuData(cpu: X86Cpu): Set<string> {
  const data = new Set(X86_MODEL_DATA.get(cpu.model)?.features ?? []);
  for (const f of cpu.features) {
    if (f.policy === 'require' || f.policy === 'force') data.add(f.name);
    else if (f.policy === 'disable' || f.policy === 'forbid') data.delete(f.name);
  }
  return data;
}

/** The features x86Compute finds a guest CPU requires (its model's and its required
 *  ones, less those it forces, makes optional or disables), in the map's order. */
export function x86Required(model: string | undefined, features: readonly X86Feature[]): string[] {
  const req = new Set(model !== undefined ? (X86_MODEL_DATA.get(model)?.features ?? []) : []);
  for (const f of features) if (f.policy === 'require') req.add(f.name);
  for (const f of features) if (f.policy !== 'require') req.delete(f.name);
  return inMapOrder(req);
}

/** x86Compute's strict match: the host's features a guest CPU does not mention. */
export function x86Extra(host: Set<string>, model: string | undefined, features: readonly X86Feature[]): string[] {
  const named = new Set(model !== undefined ? (X86_MODEL_DATA.get(model)?.features ?? []) : []);
  for (const f of features) if (f.policy !== 'forbid') named.add(f.name);
  return inMapOrder(new Set([...host].filter((f) => !named.has(f))));
}

/** x86UpdateHostModel: host-model becomes the host's CPU, the guest's features updating
 *  or following the host's, then the model's removed features disabled where missing. */
export function x86UpdateHostModel(host: X86Cpu, guest: readonly X86Feature[]): X86Feature[] {
  const features = host.features.map((f) => ({ ...f }));
  for (const g of guest) {
    const same = features.find((f) => f.name === g.name);
    if (same) same.policy = g.policy;
    else features.push({ ...g });
  }
  for (const r of X86_MODELS.get(host.model) ?? []) if (!features.some((f) => f.name === r)) features.push({ name: r, policy: 'disable' });
  return features;
}

/** virQEMUCapsGetCPUFeatures: every property QEMU's expansion names, in libvirt's names. */
export function x86QemuFeatureNames(caps: QemuCaps, virtType: CapsVirtType): Set<string> | undefined {
  const host = caps.hostCpus.find((h) => h.virtType === virtType);
  return host ? new Set(host.propNames.map(fromQemu)) : undefined;
}
