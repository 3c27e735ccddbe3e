// The guest CPU (<cpu>, libvirt's virCPUDef) through every stage: parsing
// (virCPUDefParseXML), the qemu driver's post-parse (default model, check, migratable),
// validation (qemuValidateDomainDefCpu, the vCPU topology), what libvirt does to the CPU
// when it starts a domain (feature checks, qemuProcessUpdateGuestCPU), the XML it writes
// (virCPUDefFormatBufFull) and the -cpu / -smp options (qemuBuildCpuCommandLine,
// qemuBuildSmpCommandLine). Guest NUMA, which libvirt writes inside <cpu>, is numa.ts.
import { isX86 } from '../arch.js';
import { accelOf, hasFlag, type HostCpu, type MachineType, type QemuCaps } from '../capabilities.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef, TriState } from '../model.js';
import { propEnum, propInt, propOnOff, propUInt, required } from '../xml/props.js';
import { child, elements, escapeXml, textOf, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { X86_FEATURES, X86_MODELS } from './cpu-map.js';
import { X86_QEMU_NAMES, x86CpuData, x86HostModels, x86Extra, x86QemuFeatureNames, x86Required, x86UpdateHostModel, type X86Cpu } from './cpu-x86.js';
import { HOST_ARCH } from './host.js';

export const CPU_MODES = ['custom', 'host-model', 'host-passthrough', 'maximum'] as const;
export type CpuMode = (typeof CPU_MODES)[number];
const POLICIES = ['force', 'require', 'optional', 'disable', 'forbid'] as const;
export type FeaturePolicy = (typeof POLICIES)[number];
const CACHE_MODES = ['emulate', 'passthrough', 'disable'] as const;

export interface CpuFeature {
  name: string;
  policy: FeaturePolicy;
}

export interface CpuTopology {
  sockets: number;
  dies: number;
  cores: number;
  threads: number;
}

export interface CpuDef {
  mode: CpuMode;
  /** custom mode only (libvirt's default, 'exact', is what absence means) */
  match: 'exact' | 'minimum' | 'strict';
  /** undefined until post-parse picks the default (VIR_CPU_CHECK_DEFAULT) */
  check?: 'none' | 'partial' | 'full';
  model?: string;
  fallback: 'allow' | 'forbid';
  vendorId?: string;
  vendor?: string;
  migratable?: TriState;
  topology?: CpuTopology;
  cache?: { level?: number; mode: (typeof CACHE_MODES)[number] };
  maxPhysAddr?: { mode: 'passthrough' | 'emulate'; bits?: number };
  features: CpuFeature[];
}

declare module '../model.js' {
  interface DomainDef {
    cpu?: CpuDef;
  }
}

const isS390 = (arch: string | undefined) => arch === 's390x' || arch === 's390';
const hostLike = (m: CpuMode) => m === 'host-passthrough' || m === 'maximum';

/** XPath string() of an element or attribute as libvirt reads it: empty counts as absent. */
const nonEmpty = (s: string | undefined) => (s === undefined || s === '' ? undefined : s);

// ---------------------------------------------------------------------------------
// Parse

/** virCPUDefParseXML for a guest CPU; undefined without <cpu>. */
export function parseCpu(domain: XElement): CpuDef | undefined {
  const el = child(domain, 'cpu');
  if (!el) return undefined;
  const modeStr = el.attrs.mode;
  if (modeStr !== undefined && !CPU_MODES.includes(modeStr as CpuMode)) throw unsupportedConfig(`Invalid mode attribute '${modeStr}'`);
  const mode = (modeStr ?? 'custom') as CpuMode;
  const cpu: CpuDef = { mode, match: 'exact', fallback: 'allow', features: [] };

  const migratable = propOnOff(el, 'migratable');
  if (migratable !== undefined) {
    if (!hostLike(mode)) throw unsupportedConfig("Attribute migratable is only allowed for 'host-passthrough' / 'maximum' CPU mode");
    cpu.migratable = migratable;
  }
  cpu.match = propEnum(el, 'match', ['exact', 'minimum', 'strict'] as const) ?? 'exact';
  const check = propEnum(el, 'check', ['default', 'none', 'partial', 'full'] as const);
  if (check && check !== 'default') cpu.check = check;

  const modelEl = child(el, 'model');
  const model = modelEl && nonEmpty(textOf(modelEl));
  if (model !== undefined) cpu.model = model;
  if (!hostLike(mode) && modelEl) {
    const fallback = nonEmpty(modelEl.attrs.fallback);
    if (fallback !== undefined) {
      if (fallback !== 'allow' && fallback !== 'forbid') throw unsupportedConfig('Invalid fallback attribute');
      cpu.fallback = fallback;
    }
    const vendorId = nonEmpty(modelEl.attrs.vendor_id);
    if (vendorId !== undefined) {
      if ([...vendorId].length !== 12) throw xmlError('vendor_id must be exactly 12 characters long');
      if (vendorId.includes(',')) throw xmlError('vendor id is invalid');
      cpu.vendorId = vendorId;
    }
  }
  const vendorEl = child(el, 'vendor');
  const vendor = vendorEl && nonEmpty(textOf(vendorEl));
  if (vendor !== undefined) {
    if (cpu.model === undefined) throw xmlError('CPU vendor specified without CPU model');
    cpu.vendor = vendor;
  }

  const topo = child(el, 'topology');
  if (topo) {
    const req = (name: string) => (required(topo, name), propUInt(topo, name, { nonZero: true })!);
    const sockets = req('sockets');
    const dies = propUInt(topo, 'dies', { nonZero: true }) ?? 1;
    cpu.topology = { sockets, dies, cores: req('cores'), threads: req('threads') };
  }

  const feats = elements(el, 'feature');
  if (feats.length && cpu.model === undefined && mode === 'custom') throw xmlError('Non-empty feature list specified without CPU model');
  for (const f of feats) {
    const p = f.attrs.policy;
    if (p !== undefined && !POLICIES.includes(p as FeaturePolicy)) throw unsupportedConfig('Invalid CPU feature policy');
    const name = f.attrs.name;
    if (!name) throw xmlError('Invalid CPU feature name');
    if (cpu.features.some((x) => x.name === name)) throw xmlError(`CPU feature '${name}' specified more than once`);
    // libvirt writes feature names back unescaped: only names that need no escaping.
    if (/[<>&'"]/.test(name)) throw notImplemented('CPU feature names with XML special characters');
    cpu.features.push({ name, policy: (p ?? 'require') as FeaturePolicy });
  }

  const caches = elements(el, 'cache');
  if (caches.length > 1) throw xmlError('at most one CPU cache element may be specified');
  if (caches[0]) {
    const level = propInt(caches[0], 'level', { nonNegative: true });
    if (level !== undefined && (level < 1 || level > 3)) throw xmlError('invalid CPU cache level, must be in range [1,3]');
    required(caches[0], 'mode');
    cpu.cache = { mode: propEnum(caches[0], 'mode', CACHE_MODES)!, ...(level !== undefined ? { level } : {}) };
  }
  const addr = child(el, 'maxphysaddr');
  if (addr) {
    required(addr, 'mode');
    const bits = propInt(addr, 'bits', { nonNegative: true });
    cpu.maxPhysAddr = { mode: propEnum(addr, 'mode', ['passthrough', 'emulate'] as const)!, ...(bits !== undefined ? { bits } : {}) };
  }
  return cpu;
}

// ---------------------------------------------------------------------------------
// Post-parse

/** qemuDomainDefSetDefaultCPU, for a known machine. */
export function cpuSetDefault(def: DomainDef, caps: QemuCaps, machine: MachineType): void {
  const accel = accelOf(def.virtType);
  // The machine's default model, when the domain names none.
  if ((!def.cpu || (def.cpu.mode === 'custom' && def.cpu.model === undefined)) && machine.defaultCPU) {
    const model = caps.cpuModels.find((c) => c.virtType === accel && c.typename === machine.defaultCPU)?.name;
    if (model === 'host') {
      if (def.virtType !== 'kvm') throw internalError('QEMU reports invalid default CPU model "host" for non-kvm domain virt type');
      // host-model where the snapshot has the host CPU data it needs (s390x only).
      def.cpu ??= { mode: 'host-passthrough', match: 'exact', fallback: 'allow', features: [] };
      const hostModel = isS390(def.os.arch) && hostCpuOf(caps, accel) && !S390_PASSTHROUGH_ONLY.test(machine.name);
      def.cpu.mode = hostModel ? 'host-model' : 'host-passthrough';
    } else if (model !== undefined) {
      def.cpu ??= { mode: 'custom', match: 'exact', fallback: 'allow', features: [] };
      Object.assign(def.cpu, { mode: 'custom', match: 'exact', check: 'none', fallback: 'forbid', model });
    }
  }
}

/** qemuDomainDefCPUPostParse (after the vCPU rules, tuning's postParseVcpus). */
export function cpuPostParse(def: DomainDef, caps: QemuCaps): void {
  const cpu = def.cpu;
  if (!cpu) return;
  // SVE vector lengths imply SVE itself.
  const sve = cpu.features.find((f) => f.name === 'sve');
  if (cpu.features.some((f) => f.name !== 'sve' && f.name.startsWith('sve'))) {
    if (sve?.policy === 'disable' || sve?.policy === 'forbid') throw unsupportedConfig('SVE disabled, but SVE vector lengths provided');
    if (sve) sve.policy = 'require';
    else cpu.features.push({ name: 'sve', policy: 'require' });
  }
  if (cpu.mode === 'host-passthrough' && cpu.migratable === undefined) {
    if (hasFlag(caps, 'cpu.migratable')) cpu.migratable = 'on';
    else if (isX86(def.os.arch)) cpu.migratable = 'off';
  }
  if ((cpu.mode === 'custom' && cpu.model === undefined) || cpu.check !== undefined) return;
  if (hostLike(cpu.mode)) cpu.check = 'none';
  else if (cpu.mode === 'host-model') cpu.check = 'partial';
  // Custom CPUs are compared with the host's only under KVM.
  else cpu.check = def.virtType === 'qemu' ? 'none' : 'partial';
}

// ---------------------------------------------------------------------------------
// Validation

/** qemuValidateDomainDefCpu. */
export function validateCpu(def: DomainDef, caps: QemuCaps): void {
  const cpu = def.cpu;
  if (!cpu) return;
  const arch = def.os.arch!;
  if (cpu.maxPhysAddr) {
    const a = cpu.maxPhysAddr;
    if (!isX86(arch)) throw unsupportedConfig(`CPU maximum physical address bits specification is not supported for '${arch}' architecture`);
    if (a.mode === 'passthrough' && a.bits !== undefined) {
      throw unsupportedConfig("CPU maximum physical address bits number specification cannot be used with mode='passthrough'");
    }
    if (a.mode === 'emulate' && a.bits === undefined) {
      throw unsupportedConfig("if using CPU maximum physical address mode='emulate', bits= must be specified too");
    }
    // libvirt also compares the bits with the host CPU's.
    if (a.mode === 'emulate') throw notImplemented("<maxphysaddr mode='emulate'> (libvirt compares it with the host's CPU)");
  }
  if (cpu.cache) {
    const c = cpu.cache;
    if (!isX86(arch)) throw unsupportedConfig(`CPU cache specification is not supported for '${arch}' architecture`);
    if (c.mode === 'emulate' && c.level !== 3) throw unsupportedConfig("CPU cache mode 'emulate' can only be used with level='3'");
    if (c.mode === 'passthrough' && !hostLike(cpu.mode)) {
      throw unsupportedConfig("CPU cache mode 'passthrough' can only be used with 'host-passthrough' / 'maximum' CPUs");
    }
    if (c.mode !== 'emulate' && c.level !== undefined) throw unsupportedConfig(`unsupported CPU cache level for mode '${c.mode}'`);
  }
  if (cpu.mode === 'host-passthrough' && cpu.migratable === 'on' && !hasFlag(caps, 'cpu.migratable')) {
    throw unsupportedConfig('Migratable attribute for host-passthrough CPU is not supported by this QEMU binary');
  }
  if (cpu.mode === 'maximum' && !hasFlag(caps, 'cpu-max')) throw unsupportedConfig('maximum CPU is not supported by QEMU binary');
}

/** virDomainDefGetVcpusTopology: the vCPU count the topology gives, undefined without one. */
export function topologyCpus(def: DomainDef): number | undefined {
  const t = def.cpu?.topology;
  if (!t) return undefined;
  let n = t.sockets;
  for (const f of [t.dies, t.cores, t.threads]) {
    n *= f;
    if (n > 4294967295) throw unsupportedConfig('cpu topology results in more than 4294967295 cpus');
  }
  return n;
}

/** The topology part of qemuValidateDomainVCpuTopology (after the machine's limit). */
export function validateTopology(def: DomainDef, caps: QemuCaps): void {
  if (!hasFlag(caps, 'query-hotpluggable-cpus')) return;
  let n: number | undefined;
  try {
    n = topologyCpus(def);
  } catch {
    return; // reported again, and for good, by the generic checks (validateTopologyOverflow)
  }
  if (n !== undefined && n !== def.vcpu.max) throw unsupportedConfig("CPU topology doesn't match maximum vcpu count");
}

/** virDomainDefValidateInternal's topology check. */
export function validateTopologyOverflow(def: DomainDef): void {
  topologyCpus(def);
}

// ---------------------------------------------------------------------------------
// Start: what libvirt checks and changes in the CPU before it builds the command line

/** Features QEMU's x86 CPU has no property for (libvirt 9.0.0's map has them): libvirt
 *  drops them, when disabled, only if the snapshot lists QEMU's properties (host CPU
 *  data, which virtgold's snapshots do not carry), so the outcome depends on the probe. */
const X86_NOT_IN_QEMU = new Set(['cvt16', 'pconfig']);
/** virQEMUCapsCPUFilterFeatures: x86 features never passed to QEMU. */
const X86_NEVER_PASSED = new Set(['cmt', 'mbm_total', 'mbm_local', 'osxsave', 'ospke']);

/** qemuProcessStartValidate's CPU checks (virCPUValidateFeatures). */
export function cpuStartValidate(def: DomainDef, caps: QemuCaps): void {
  const cpu = def.cpu;
  if (!cpu) return;
  for (const f of cpu.features) {
    if (isX86(def.os.arch) && !X86_FEATURES.has(f.name)) throw unsupportedConfig(`unknown CPU feature: ${f.name}`);
    if (isS390(def.os.arch) && f.policy === 'optional') {
      throw unsupportedConfig(`only cpu feature policies 'require' and 'disable' are supported for ${f.name}`);
    }
  }
  if (isX86(def.os.arch) && !hasFlag(caps, 'cpu-unavailable-features')) throw notImplemented('QEMU without unavailable-features reporting');
}

/** qemuProcessUpdateGuestCPU: the CPU the command line is built from. */
export function cpuPrepareStart(def: DomainDef, caps: QemuCaps): void {
  const cpu = def.cpu;
  if (!cpu || (cpu.mode === 'custom' && cpu.model === undefined)) return;
  const arch = def.os.arch!;
  const accel = accelOf(def.virtType);
  const models = caps.cpuModels.filter((c) => c.virtType === accel);
  // The message names the host: under KVM it is of the guest's arch (the snapshot has
  // KVM for it); under TCG it is this one, which only x86_64 guests can count on.
  const unsupported = () => {
    if (def.virtType !== 'kvm' && arch !== HOST_ARCH) throw notImplemented(`<cpu mode='${cpu.mode}'> here (libvirt's refusal names the host's arch)`);
    const host = def.virtType === 'kvm' ? arch : HOST_ARCH;
    return unsupportedConfig(`CPU mode '${cpu.mode}' for ${arch} ${def.virtType} domain on ${host} host is not supported by hypervisor`);
  };
  if (isS390(arch) && def.virtType === 'kvm' && cpu.mode !== 'host-passthrough' && S390_PASSTHROUGH_ONLY.test(def.os.machine ?? '')) throw unsupported();
  switch (cpu.mode) {
    case 'host-passthrough':
      // Needs KVM on a host of the guest's arch: a snapshot with KVM for its arch was
      // probed on such a host. Without KVM, libvirt's message names where it runs.
      if (def.virtType === 'kvm') break;
      throw unsupported();
    case 'host-model':
      // Expanded from the snapshot's host CPU data (s390x). Without it libvirt uses the
      // CPU of the host it runs on (a fake core2duo in its test harness); on x86 it also
      // decodes the data into a model with its CPUID-level map (README "Guest CPU").
      if (!hostCpuOf(caps, accel)) {
        throw notImplemented("<cpu mode='host-model'> without host CPU data (<hostCPU>) in the snapshot (libvirt then uses the CPU of the host it runs on)");
      }
      break;
    case 'custom':
      if (!models.length) throw unsupported();
      break;
    case 'maximum':
      if (!hasFlag(caps, 'cpu-max')) throw unsupported();
      break;
  }
  // Forbidden features are checked against the host's CPU when check is not 'none'.
  if (cpu.check !== 'none' && cpu.features.some((f) => f.policy === 'forbid')) {
    throw notImplemented("<feature policy='forbid'> with <cpu check> other than 'none' (compared with the host's CPU)");
  }
  if (!hostLike(cpu.mode)) {
    const x86Hosts = isX86(arch) && cpu.mode === 'host-model' ? x86HostModels(caps, accel)! : undefined;
    // Only x86 compares: s390x leaves every check to QEMU.
    if (cpu.check === 'partial' && isX86(arch)) {
      if (!x86Hosts) throw notImplemented("comparing <cpu check='partial'> with the host's CPU");
      compareX86HostModel(cpu, x86Hosts.reported, def.virtType === 'kvm');
    }
    // virCPUUpdate: host-model becomes the host's model and features, the domain's own
    // features updating or adding to them.
    if (x86Hosts) expandX86HostModel(cpu, x86Hosts.migratable);
    else if (cpu.mode === 'host-model') expandHostModel(cpu, hostCpuOf(caps, accel)!);
    // 'minimum' and optional features are resolved against the host's CPU.
    const relative = cpu.match === 'minimum' || cpu.features.some((f) => f.policy === 'optional');
    if (isS390(arch) && relative) {
      throw unsupportedConfig(cpu.match === 'minimum' ? 'match mode minimum not supported' : 'optional CPU features are not supported');
    }
    if (relative) throw notImplemented("<cpu match='minimum'> or <feature policy='optional'> (resolved against the host's CPU)");
    if (isX86(arch)) {
      const removed = X86_MODELS.get(cpu.model!);
      if (!removed) throw internalError(`Unknown CPU model ${cpu.model}`);
      for (const name of removed) if (!cpu.features.some((f) => f.name === name)) cpu.features.push({ name, policy: 'disable' });
    }
    // virCPUTranslate: a model QEMU lacks is replaced only with fallback='allow'.
    if (!models.some((m) => m.name === cpu.model)) {
      if (cpu.fallback !== 'allow') throw unsupportedConfig(`CPU model ${cpu.model} is not supported by hypervisor`);
      // Only x86 can translate (from the model's CPUID data in libvirt's map).
      if (!isX86(arch)) {
        throw new TranslationError('bare', `this function is not supported by the connection driver: cannot translate CPU model ${cpu.model} to a supported model`);
      }
      throw notImplemented(`translating CPU model '${cpu.model}' to one the emulator has (fallback='allow')`);
    }
    cpu.fallback = 'forbid';
  }
  if (isX86(arch)) {
    cpu.features = cpu.features.filter((f) => !X86_NEVER_PASSED.has(f.name));
    // qemuProcessDropUnknownCPUFeatures: a feature QEMU does not know is off anyway.
    const known = x86QemuFeatureNames(caps, accel);
    if (known) cpu.features = cpu.features.filter((f) => (f.policy !== 'disable' && f.policy !== 'forbid') || known.has(f.name));
    const unknown = cpu.features.find((f) => (f.policy === 'disable' || f.policy === 'forbid') && X86_NOT_IN_QEMU.has(f.name));
    if (unknown) throw notImplemented(`disabling CPU feature '${unknown.name}', which QEMU may not know`);
  }
}

/** s390x machines on which KVM runs no CPU model but the host's (s390HostPassthroughOnlyMachines). */
const S390_PASSTHROUGH_ONLY = /^s390-ccw-virtio-2\.[4-7]$/;

/** The host CPU data of the snapshot for an accelerator, if any. */
const hostCpuOf = (caps: QemuCaps, accel: string): HostCpu | undefined => caps.hostCpus.find((h) => h.virtType === accel);

/** virCPUs390Update for host-model: the host's model with its features (true: require,
 *  false: disable), each of the domain's features updating its namesake or added last. */
function expandHostModel(cpu: CpuDef, host: HostCpu): void {
  const features: CpuFeature[] = host.props.map((p) => ({ name: p.name, policy: p.value ? 'require' : 'disable' }));
  for (const f of cpu.features) {
    const same = features.find((x) => x.name === f.name);
    if (same) same.policy = f.policy;
    else features.push({ ...f });
  }
  Object.assign(cpu, { mode: 'custom', match: 'exact', model: host.model, features });
}

/** virCPUCompare of an x86 host-model CPU with the host's (x86Compute). Under TCG the host
 *  CPU is the snapshot's; under KVM libvirt takes the machine's own CPUID data (a fake
 *  core2duo in its test harness) plus the snapshot's features, so only what the
 *  snapshot's CPU provides can be decided. */
function compareX86HostModel(cpu: CpuDef, host: X86Cpu, kvm: boolean): void {
  const incompatible = (why: string) => new TranslationError('bare', `the CPU is incompatible with host CPU: ${why}`);
  if (cpu.vendor !== undefined) {
    if (kvm) throw notImplemented("<vendor> in a KVM host-model CPU (compared with the machine's own CPU)");
    if (cpu.vendor !== host.vendor) throw incompatible(`host CPU vendor does not match required CPU vendor ${cpu.vendor}`);
  }
  if (cpu.model !== undefined && !X86_MODELS.has(cpu.model)) throw internalError(`Unknown CPU model ${cpu.model}`);
  const data = x86CpuData(host);
  const lacking = x86Required(cpu.model, cpu.features).filter((f) => !data.has(f));
  if (lacking.length) {
    if (kvm) throw notImplemented("a KVM host-model CPU requiring features the snapshot's host CPU lacks (compared with the machine's own CPU)");
    throw incompatible(`Host CPU does not provide required features: ${lacking.join(', ')}`);
  }
  if (cpu.match === 'strict') {
    if (kvm) throw notImplemented("<cpu mode='host-model' match='strict'> under KVM (compared with the machine's own CPU)");
    const extra = x86Extra(data, cpu.model, cpu.features);
    if (extra.length) throw incompatible(`Host CPU does not strictly match guest CPU: Extra features: ${extra.join(', ')}`);
  }
}

/** x86's virCPUUpdate for host-model: optional features resolved against the host's CPU,
 *  then the host's model, vendor and features with the domain's on top. */
function expandX86HostModel(cpu: CpuDef, host: X86Cpu): void {
  const data = x86CpuData(host);
  for (const f of cpu.features) if (f.policy === 'optional') f.policy = data.has(f.name) ? 'require' : 'disable';
  const features = x86UpdateHostModel(host, cpu.features);
  Object.assign(cpu, { mode: 'custom', match: 'exact', model: host.model, features });
  if (host.vendor !== undefined) cpu.vendor = host.vendor;
  else delete cpu.vendor;
}

// ---------------------------------------------------------------------------------
// Output

/** The -cpu value (qemuBuildCpuCommandLine), or undefined when there is none.
 *  `extraProps` is where libvirt adds the timer, Hyper-V, KVM and PMU properties. */
export function cpuArg(def: DomainDef, caps: QemuCaps, extraProps: string): string | undefined {
  const cpu = def.cpu;
  const arch = def.os.arch!;
  let model = '';
  if (cpu && (cpu.mode !== 'custom' || cpu.model !== undefined)) {
    if (hostLike(cpu.mode)) {
      model = cpu.mode === 'maximum' ? 'max' : 'host';
      if (cpu.migratable && hasFlag(caps, 'cpu.migratable')) model += `,migratable=${cpu.migratable}`;
    } else if (cpu.mode === 'host-model') {
      throw internalError(`unexpected host-model CPU for ${arch} architecture`);
    } else {
      model = cpu.model!;
    }
    if ((isS390(arch)) && cpu.features.length && !hasFlag(caps, 'query-cpu-model-expansion')) {
      throw internalError(`CPU features not supported by hypervisor for ${arch} architecture`);
    }
    if (cpu.vendorId) model += `,vendor=${cpu.vendorId}`;
    for (const f of cpu.features) {
      const name = (isX86(arch) && X86_QEMU_NAMES[f.name]) || f.name;
      if (f.policy === 'force' || f.policy === 'require') model += `,${name}=on`;
      else if (f.policy === 'disable' || f.policy === 'forbid') model += `,${name}=off`;
    }
  }
  let flags = extraProps;
  const cache = cpu?.cache;
  if (cache) {
    const hostOff = cache.mode === 'emulate' || cache.mode === 'disable';
    const l3Off = cache.mode === 'passthrough' || cache.mode === 'disable';
    if (cache.mode === 'emulate') flags += ',l3-cache=on';
    if (cache.mode === 'passthrough') flags += ',host-cache-info=on';
    if (hostOff && hostLike(cpu!.mode) && hasFlag(caps, 'cpu-cache')) flags += ',host-cache-info=off';
    if (l3Off && hasFlag(caps, 'cpu-cache')) flags += ',l3-cache=off';
  }
  if (cpu?.maxPhysAddr) flags += cpu.maxPhysAddr.mode === 'passthrough' ? ',host-phys-bits=on' : `,phys-bits=${cpu.maxPhysAddr.bits}`;
  if (flags && !model) {
    if (arch !== 'x86_64') throw unsupportedConfig(`CPU flags requested but can't determine default CPU for arch ${arch}`);
    model = 'qemu64';
  }
  return model ? model + flags : undefined;
}

/** The topology part of -smp (after the vCPU counts). */
export function smpTopology(def: DomainDef, caps: QemuCaps): string {
  const t = def.cpu?.topology;
  if (!t) return `,sockets=${def.vcpu.max},cores=1,threads=1`;
  const dies = hasFlag(caps, 'smp-dies');
  if (t.dies !== 1 && !dies) throw unsupportedConfig('Only 1 die per socket is supported');
  return `,sockets=${t.sockets}${dies ? `,dies=${t.dies}` : ''},cores=${t.cores},threads=${t.threads}`;
}

/** virCPUDefFormatBufFull: <cpu> with its children; `inner` writes guest NUMA. */
export function formatCpu(w: Writer, cpu: CpuDef | undefined, inner?: () => void): void {
  if (!cpu) return;
  let head = 'cpu';
  if (cpu.mode !== 'custom' || cpu.model !== undefined) {
    head += ` mode='${cpu.mode}'`;
    if (cpu.mode === 'custom') head += ` match='${cpu.match}'`;
    head += attr('check', cpu.check);
    if (hostLike(cpu.mode)) head += attr('migratable', cpu.migratable);
  }
  const lines: string[] = [];
  const withModel = cpu.mode === 'custom' || cpu.mode === 'host-model';
  if (withModel && (cpu.model !== undefined || cpu.vendorId !== undefined)) {
    const a = `${cpu.model !== undefined ? ` fallback='${cpu.fallback}'` : ''}${attr('vendor_id', cpu.vendorId)}`;
    lines.push(cpu.model !== undefined ? `<model${a}>${escapeXml(cpu.model)}</model>` : `<model${a}/>`);
  }
  if (withModel && cpu.vendor !== undefined) lines.push(`<vendor>${escapeXml(cpu.vendor)}</vendor>`);
  const t = cpu.topology;
  if (t) lines.push(`<topology sockets='${t.sockets}' dies='${t.dies}' cores='${t.cores}' threads='${t.threads}'/>`);
  if (cpu.cache) lines.push(`<cache ${cpu.cache.level !== undefined ? `level='${cpu.cache.level}' ` : ''}mode='${cpu.cache.mode}'/>`);
  if (cpu.maxPhysAddr) lines.push(`<maxphysaddr mode='${cpu.maxPhysAddr.mode}'${attr('bits', cpu.maxPhysAddr.bits)}/>`);
  for (const f of cpu.features) lines.push(`<feature policy='${f.policy}' name='${f.name}'/>`);
  const hasContent = lines.length > 0 || inner !== undefined;
  if (head === 'cpu' && !hasContent) return;
  w.element(head, 'cpu', hasContent ? () => {
    for (const l of lines) w.line(l);
    inner?.();
  } : undefined);
}
