// <features>, through every stage: parsing (virDomainFeaturesDefParse), the qemu
// driver's post-parse (qemuDomainDefTsegPostParse) and validation
// (qemuValidateDomainDefFeatures), the XML (virDomainDefFormatFeatures) and what the
// features add to -machine, -accel, -cpu, -global and the devices.
import { isI440fxMachine, isQ35Machine, isX86 } from '../arch.js';
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
import { ON_OFF, propEnum, propUInt, required } from '../xml/props.js';
import { child, elements, textOf, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { timerCpuProps } from './clock.js';
import { strToULL, unitScale } from './units.js';

/** virDomainFeature, in libvirt's order (the order of the XML and of validation). */
export const FEATURE_NAMES = [
  'acpi', 'apic', 'pae', 'hap', 'viridian', 'privnet', 'hyperv', 'kvm', 'pvspinlock', 'capabilities', 'pmu',
  'vmport', 'gic', 'smm', 'ioapic', 'hpt', 'vmcoreinfo', 'htm', 'nested-hv', 'msrs', 'ccf-assist', 'xen',
  'cfpc', 'sbbc', 'ibs', 'tcg',
] as const;
export const HYPERV_NAMES = [
  'relaxed', 'vapic', 'spinlocks', 'vpindex', 'runtime', 'synic', 'stimer', 'reset', 'vendor_id', 'frequencies',
  'reenlightenment', 'tlbflush', 'ipi', 'evmcs', 'avic',
] as const;
export const KVM_NAMES = ['hidden', 'hint-dedicated', 'poll-control', 'pv-ipi', 'dirty-ring'] as const;
const XEN_NAMES = ['e820_host', 'passthrough'] as const;
const PROCESS_CAPS = [
  'audit_control', 'audit_write', 'block_suspend', 'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid',
  'ipc_lock', 'ipc_owner', 'kill', 'lease', 'linux_immutable', 'mac_admin', 'mac_override', 'mknod', 'net_admin',
  'net_bind_service', 'net_broadcast', 'net_raw', 'setgid', 'setfcap', 'setpcap', 'setuid', 'sys_admin', 'sys_boot',
  'sys_chroot', 'sys_module', 'sys_nice', 'sys_pacct', 'sys_ptrace', 'sys_rawio', 'sys_resource', 'sys_time',
  'sys_tty_config', 'syslog', 'wake_alarm',
] as const;

type Switch = 'on' | 'off';
type HypervName = (typeof HYPERV_NAMES)[number];
type KvmName = (typeof KVM_NAMES)[number];
type XenName = (typeof XEN_NAMES)[number];
/** Features only pSeries or ARM 'virt' machines take: set, they are refused in validation. */
type ForeignFeature = 'gic' | 'hpt' | 'htm' | 'nested-hv' | 'ccf-assist' | 'cfpc' | 'sbbc' | 'ibs';

export interface FeaturesDef {
  acpi: boolean;
  apic: boolean;
  pae: boolean;
  apicEoi?: Switch;
  viridian?: true;
  privnet?: true;
  hap?: Switch;
  pvspinlock?: Switch;
  pmu?: Switch;
  vmport?: Switch;
  vmcoreinfo?: Switch;
  hyperv?: {
    mode: 'custom' | 'passthrough';
    features: Partial<Record<HypervName, Switch>>;
    spinlocks?: number;
    stimerDirect?: Switch;
    vendorId?: string;
  };
  kvm?: { features: Partial<Record<KvmName, Switch>>; dirtyRingSize?: number };
  xen?: { features: Partial<Record<XenName, Switch>>; passthroughMode?: string };
  capabilities?: { policy: 'default' | 'allow' | 'deny'; caps: Partial<Record<string, Switch>> };
  smm?: { state: Switch; tsegBytes?: bigint };
  ioapic?: 'qemu' | 'kvm';
  msrs?: 'ignore' | 'fault';
  tcg?: { tbCacheKiB: bigint };
  foreign: Set<ForeignFeature>;
}

declare module '../model.js' {
  interface DomainDef {
    features: FeaturesDef;
  }
}

const ULLONG_MAX = 2n ** 64n - 1n;
const LLONG_MAX = 2n ** 63n - 1n;

/** virScaleInteger on a BigInt: the value times its unit, or libvirt's errors. */
function scale(value: bigint, unit: string | undefined, dflt: bigint, limit: bigint): bigint {
  // Every multiplier (at most 1024^6) is exact as a double.
  const mult = BigInt(unitScale(unit, Number(dflt)));
  if (value && value > limit / mult) throw new TranslationError('bare', `numerical overflow: value too large: ${value}${unit ?? ''}`);
  return value * mult;
}

/** virParseScaledValue on an element's text and its unit attribute; undefined when empty. */
function scaledValue(e: XElement | undefined, xpath: string, dflt: bigint, limit: bigint): bigint | undefined {
  const text = e ? textOf(e) : '';
  if (text === '') return undefined;
  const n = strToULL(text);
  if (n === undefined) throw xmlError(`Invalid value '${text}' for element or attribute '${xpath}'`);
  return scale(n, e!.attrs.unit || undefined, dflt, limit);
}

/** virXMLPropTristateSwitch, required. */
function stateOf(e: XElement): Switch {
  required(e, 'state');
  return propEnum(e, 'state', ON_OFF)!;
}

function parseHyperv(f: FeaturesDef, node: XElement): void {
  const mode = propEnum(node, 'mode', ['none', 'custom', 'passthrough'] as const, { nonZero: true }) ?? 'custom';
  const hv = (f.hyperv ??= { mode: mode as 'custom', features: {} });
  hv.mode = mode as 'custom' | 'passthrough';
  for (const c of elements(node)) {
    if (!(HYPERV_NAMES as readonly string[]).includes(c.name)) throw unsupportedConfig(`unsupported HyperV Enlightenment feature: ${c.name}`);
    const name = c.name as HypervName;
    const value = stateOf(c);
    hv.features[name] = value;
    if (value !== 'on') continue;
    if (name === 'stimer') {
      for (const d of elements(c)) {
        if (d.name !== 'direct') throw unsupportedConfig(`unsupported Hyper-V stimer feature: ${d.name}`);
        hv.stimerDirect = stateOf(d);
      }
    } else if (name === 'spinlocks') {
      required(c, 'retries');
      hv.spinlocks = propUInt(c, 'retries', { base0: true })!;
      if (hv.spinlocks < 0xfff) throw xmlError('HyperV spinlock retry count must be at least 4095');
    } else if (name === 'vendor_id') {
      const v = c.attrs.value;
      if (v === undefined) throw xmlError("missing 'value' attribute for HyperV feature 'vendor_id'");
      // libvirt counts bytes
      if (Buffer.byteLength(v, 'utf8') > 12) throw xmlError('HyperV vendor_id value must not be more than 12 characters.');
      if (v.includes(',')) throw xmlError('HyperV vendor_id value is invalid');
      hv.vendorId = v;
    }
  }
}

function parseKvm(node: XElement): NonNullable<FeaturesDef['kvm']> {
  const kvm: NonNullable<FeaturesDef['kvm']> = { features: {} };
  for (const c of elements(node)) {
    if (!(KVM_NAMES as readonly string[]).includes(c.name)) throw unsupportedConfig(`unsupported KVM feature: ${c.name}`);
    const value = stateOf(c);
    kvm.features[c.name as KvmName] = value;
    if (c.name === 'dirty-ring' && value === 'on') {
      required(c, 'size');
      const size = propUInt(c, 'size', { base0: true })!;
      if ((size & (size - 1)) !== 0 || size < 1024 || size > 65536) throw xmlError('dirty ring must be power of 2 and ranges [1024, 65536]');
      kvm.dirtyRingSize = size;
    }
  }
  return kvm;
}

function parseXen(f: FeaturesDef, node: XElement): void {
  const xen = (f.xen ??= { features: {} });
  for (const c of elements(node)) {
    if (!(XEN_NAMES as readonly string[]).includes(c.name)) throw unsupportedConfig(`unsupported Xen feature: ${c.name}`);
    const value = stateOf(c);
    xen.features[c.name as XenName] = value;
    if (c.name === 'passthrough' && value === 'on') {
      const mode = propEnum(c, 'mode', ['default', 'sync_pt', 'share_pt'] as const, { nonZero: true });
      if (mode) xen.passthroughMode = mode;
    }
  }
}

function parseCapabilities(f: FeaturesDef, node: XElement): void {
  const policy = propEnum(node, 'policy', ['default', 'allow', 'deny'] as const) ?? 'default';
  const caps = (f.capabilities ??= { policy, caps: {} });
  caps.policy = policy;
  for (const c of elements(node)) {
    if (!(PROCESS_CAPS as readonly string[]).includes(c.name)) throw unsupportedConfig(`unexpected capability feature '${c.name}'`);
    caps.caps[c.name] = propEnum(c, 'state', ON_OFF) ?? 'on';
  }
}

/** What libvirt's XPath ./features/FEATURE/NAME finds first, in document order. */
function firstOf(domain: XElement, feature: string, name: string): XElement | undefined {
  return elements(domain, 'features').flatMap((f) => elements(f, feature)).flatMap((e) => elements(e, name))[0];
}

/** virDomainFeaturesDefParse: every child of <features> (of each <features>, as XPath reads). */
export function parseFeatures(domain: XElement): FeaturesDef {
  const f: FeaturesDef = { acpi: false, apic: false, pae: false, foreign: new Set() };
  for (const node of elements(domain, 'features').flatMap((e) => elements(e))) {
    const name = node.name;
    if (!(FEATURE_NAMES as readonly string[]).includes(name)) throw unsupportedConfig(`unexpected feature '${name}'`);
    const optState = () => propEnum(node, 'state', ON_OFF) ?? 'on';
    switch (name as (typeof FEATURE_NAMES)[number]) {
      case 'acpi':
      case 'pae':
        f[name as 'acpi' | 'pae'] = true;
        break;
      case 'viridian':
      case 'privnet':
        f[name as 'viridian' | 'privnet'] = true;
        break;
      case 'apic': {
        const eoi = propEnum(node, 'eoi', ON_OFF);
        f.apic = true;
        if (eoi) f.apicEoi = eoi;
        else delete f.apicEoi;
        break;
      }
      case 'msrs':
        required(node, 'unknown');
        f.msrs = propEnum(node, 'unknown', ['ignore', 'fault'] as const)!;
        break;
      case 'hyperv':
        parseHyperv(f, node);
        break;
      case 'kvm':
        f.kvm = parseKvm(node);
        break;
      case 'xen':
        parseXen(f, node);
        break;
      case 'capabilities':
        parseCapabilities(f, node);
        break;
      case 'vmcoreinfo':
      case 'hap':
      case 'pmu':
      case 'pvspinlock':
      case 'vmport':
        f[name as 'vmcoreinfo' | 'hap' | 'pmu' | 'pvspinlock' | 'vmport'] = optState();
        break;
      case 'smm': {
        const state = optState();
        f.smm = { state };
        if (state === 'on') {
          const tseg = scaledValue(firstOf(domain, 'smm', 'tseg'), 'string(./features/smm/tseg)', 1024n * 1024n, ULLONG_MAX);
          if (tseg !== undefined) f.smm.tsegBytes = tseg;
        }
        break;
      }
      case 'gic':
        propEnum(node, 'version', ['none', 'host', '2', '3'] as const, { nonZero: true });
        f.foreign.add('gic');
        break;
      case 'ioapic': {
        const driver = propEnum(node, 'driver', ['none', 'qemu', 'kvm'] as const, { nonZero: true });
        if (driver) f.ioapic = driver as 'qemu' | 'kvm';
        else delete f.ioapic;
        break;
      }
      case 'hpt': {
        const resizing = propEnum(node, 'resizing', ['none', 'enabled', 'disabled', 'required'] as const, { nonZero: true });
        let pagesize: bigint | undefined;
        try {
          pagesize = scaledValue(firstOf(domain, 'hpt', 'maxpagesize'), './features/hpt/maxpagesize', 1024n, ULLONG_MAX);
        } catch {
          throw unsupportedConfig('Unable to parse HPT maxpagesize setting');
        }
        if (resizing || (pagesize !== undefined && (pagesize + 1023n) / 1024n > 0n)) f.foreign.add('hpt');
        else f.foreign.delete('hpt');
        break;
      }
      case 'cfpc':
      case 'sbbc':
      case 'ibs': {
        const values = name === 'ibs' ? ['none', 'broken', 'workaround', 'fixed-ibs', 'fixed-ccd', 'fixed-na'] : ['none', 'broken', 'workaround', 'fixed'];
        if (propEnum(node, 'value', values, { nonZero: true })) f.foreign.add(name as ForeignFeature);
        else f.foreign.delete(name as ForeignFeature);
        break;
      }
      case 'htm':
      case 'nested-hv':
      case 'ccf-assist':
        stateOf(node);
        f.foreign.add(name as ForeignFeature);
        break;
      case 'tcg': {
        const bytes = scaledValue(child(node, 'tb-cache'), './tb-cache', 1024n, LLONG_MAX);
        const kib = bytes === undefined ? 0n : (bytes + 1023n) / 1024n;
        if (kib >= (LLONG_MAX + 1023n) / 1024n) throw new TranslationError('bare', 'numerical overflow: size value too large');
        if (kib > 0n) f.tcg = { tbCacheKiB: kib };
        break;
      }
    }
  }
  return f;
}


/** qemuDomainDefTsegPostParse. */
export function postParseFeatures(def: DomainDef, caps: QemuCaps): void {
  const smm = def.features.smm;
  if (smm?.state !== 'on' || smm.tsegBytes === undefined) return;
  if (!isQ35Machine(def.os.machine)) throw unsupportedConfig('SMM TSEG is only supported with q35 machine type');
  if (!hasFlag(caps, 'mch.extended-tseg-mbytes')) throw unsupportedConfig('Setting TSEG size is not supported with this QEMU binary');
  if (smm.tsegBytes % (1n << 20n) !== 0n) throw unsupportedConfig('SMM TSEG size must be divisible by 1 MiB');
}

/** qemuValidateDomainDefFeatures, in its (the features') order. */
export function validateFeatures(def: DomainDef, caps: QemuCaps): void {
  const f = def.features;
  const arch = def.os.arch;
  const notFor = (name: string) => unsupportedConfig(`The '${name}' feature is not supported for architecture '${arch}' or machine type '${def.os.machine}'`);
  for (const name of FEATURE_NAMES) {
    switch (name) {
      case 'apic':
        if (f.apic && f.apicEoi && !isX86(arch)) {
          throw unsupportedConfig(`The 'eoi' attribute of the 'apic' feature is not supported for architecture '${arch}' or machine type '${def.os.machine}'`);
        }
        break;
      case 'hyperv':
        if (f.hyperv && !isX86(arch)) throw unsupportedConfig(`Hyperv features are not supported for architecture '${arch}' or machine type '${def.os.machine}'`);
        break;
      case 'pvspinlock':
        if (f.pvspinlock && !isX86(arch)) throw notFor(name);
        break;
      case 'vmport':
        if (f.vmport && !(hasFlag(caps, 'machine-vmport-opt') && (isI440fxMachine(def.os.machine) || isQ35Machine(def.os.machine) || def.os.machine === 'isapc'))) {
          throw unsupportedConfig('vmport is not available with this QEMU binary');
        }
        break;
      case 'vmcoreinfo':
        if (f.vmcoreinfo === 'on' && !hasFlag(caps, 'vmcoreinfo')) throw unsupportedConfig('vmcoreinfo is not available with this QEMU binary');
        break;
      case 'ioapic':
        if (f.ioapic && !isX86(arch)) throw notFor(name);
        break;
      case 'gic':
      case 'hpt':
      case 'htm':
      case 'nested-hv':
      case 'ccf-assist':
      case 'cfpc':
      case 'sbbc':
      case 'ibs':
        // pSeries and ARM 'virt' only: no snapshot here has such a machine.
        if (f.foreign.has(name)) throw notFor(name);
        break;
      case 'tcg':
        if (f.tcg) {
          if (def.virtType !== 'qemu') throw unsupportedConfig(`TCG features are incompatible with domain type '${def.virtType}'`);
          if (f.tcg.tbCacheKiB & 0x3ffn) throw unsupportedConfig('tb-cache size must be an integer multiple of MiB');
        }
        break;
      default:
        break;
    }
  }
}

/** virFormatIntPretty: the largest binary unit that divides the size. */
function prettySize(bytes: bigint): [bigint, string] {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  while (i < units.length - 1 && bytes !== 0n && bytes % 1024n === 0n) {
    bytes /= 1024n;
    i++;
  }
  return [bytes, units[i]!];
}

/** virDomainDefFormatFeatures: nothing when no feature is set. */
export function formatFeatures(w: Writer, f: FeaturesDef): void {
  const lines = new Writer0();
  if (f.acpi) lines.line('<acpi/>');
  if (f.apic) lines.line(`<apic${attr('eoi', f.apicEoi)}/>`);
  if (f.pae) lines.line('<pae/>');
  if (f.hap) lines.line(`<hap state='${f.hap}'/>`);
  if (f.viridian) lines.line('<viridian/>');
  if (f.privnet) lines.line('<privnet/>');
  if (f.hyperv) {
    const hv = f.hyperv;
    lines.line(`<hyperv mode='${hv.mode}'>`);
    for (const name of HYPERV_NAMES) {
      const v = hv.features[name];
      if (!v) continue;
      const head = `  <${name} state='${v}'`;
      // printed as a signed int, as libvirt does: past 2^31 it writes a negative count
      if (v === 'on' && name === 'spinlocks') lines.line(`${head} retries='${hv.spinlocks! | 0}'/>`);
      else if (v === 'on' && name === 'vendor_id') lines.line(`${head}${attr('value', hv.vendorId)}/>`);
      else if (v === 'on' && name === 'stimer' && hv.stimerDirect === 'on') lines.line(`${head}>`, "    <direct state='on'/>", '  </stimer>');
      else lines.line(`${head}/>`);
    }
    lines.line('</hyperv>');
  }
  if (f.kvm) {
    lines.line('<kvm>');
    for (const name of KVM_NAMES) {
      const v = f.kvm.features[name];
      if (!v) continue;
      lines.line(`  <${name} state='${v}'${name === 'dirty-ring' && f.kvm.dirtyRingSize ? ` size='${f.kvm.dirtyRingSize}'` : ''}/>`);
    }
    lines.line('</kvm>');
  }
  if (f.pvspinlock) lines.line(`<pvspinlock state='${f.pvspinlock}'/>`);
  if (f.capabilities) {
    const c = f.capabilities;
    const kids = PROCESS_CAPS.filter((n) => c.caps[n]).map((n) => `  <${n} state='${c.caps[n]}'/>`);
    const head = c.policy !== 'default' || kids.length ? ` policy='${c.policy}'` : '';
    if (kids.length) lines.line(`<capabilities${head}>`, ...kids, '</capabilities>');
    else if (head) lines.line(`<capabilities${head}/>`);
  }
  if (f.pmu) lines.line(`<pmu state='${f.pmu}'/>`);
  if (f.vmport) lines.line(`<vmport state='${f.vmport}'/>`);
  if (f.smm) {
    if (f.smm.state === 'on' && f.smm.tsegBytes !== undefined) {
      const [n, unit] = prettySize(f.smm.tsegBytes);
      lines.line("<smm state='on'>", `  <tseg unit='${unit}'>${n}</tseg>`, '</smm>');
    } else lines.line(`<smm state='${f.smm.state}'/>`);
  }
  if (f.ioapic) lines.line(`<ioapic driver='${f.ioapic}'/>`);
  if (f.vmcoreinfo) lines.line(`<vmcoreinfo state='${f.vmcoreinfo}'/>`);
  if (f.msrs) lines.line(`<msrs unknown='${f.msrs}'/>`);
  if (f.xen) {
    lines.line('<xen>');
    for (const name of XEN_NAMES) {
      const v = f.xen.features[name];
      if (!v) continue;
      const mode = name === 'passthrough' && v === 'on' && f.xen.passthroughMode && f.xen.passthroughMode !== 'default' ? attr('mode', f.xen.passthroughMode) : '';
      lines.line(`  <${name} state='${v}'${mode}/>`);
    }
    lines.line('</xen>');
  }
  if (f.tcg) lines.line('<tcg>', `  <tb-cache unit='KiB'>${f.tcg.tbCacheKiB}</tb-cache>`, '</tcg>');
  if (!lines.out.length) return;
  w.open('<features>');
  for (const l of lines.out) w.line(l);
  w.close('</features>');
}

/** Lines relative to <features>' children level. */
class Writer0 {
  out: string[] = [];
  line(...ls: string[]): void {
    this.out.push(...ls);
  }
}

/** qemuAppendDomainFeaturesMachineParam, for the features these machines can have. */
export function machineFeatureParams(def: DomainDef): string[] {
  const f = def.features;
  const out: string[] = [];
  if (f.vmport) out.push(`vmport=${f.vmport}`);
  if (f.smm) out.push(`smm=${f.smm.state}`);
  if (f.ioapic) out.push(`kernel_irqchip=${f.ioapic === 'qemu' ? 'split' : 'on'}`);
  return out;
}

/** qemuBuildAccelCommandLine's options after the accelerator's name. */
export function accelParams(def: DomainDef): string[] {
  const f = def.features;
  if (def.virtType === 'qemu' && f.tcg) return [`tb-size=${f.tcg.tbCacheKiB >> 10n}`];
  if (def.virtType === 'kvm' && f.kvm?.features['dirty-ring'] === 'on') return [`dirty-ring-size=${f.kvm.dirtyRingSize}`];
  return [];
}

/** qemuBuildTSEGCommandLine. */
export function tsegArgs(def: DomainDef): string[][] {
  const tseg = def.features.smm?.state === 'on' ? def.features.smm.tsegBytes : undefined;
  return tseg === undefined ? [] : [['-global', `mch.extended-tseg-mbytes=${tseg >> 20n}`]];
}

/** qemuBuildVMCoreInfoCommandLine. */
export function vmcoreinfoArgs(def: DomainDef): string[][] {
  return def.features.vmcoreinfo === 'on' ? [['-device', JSON.stringify({ driver: 'vmcoreinfo' })]] : [];
}

/** The properties qemuBuildCpuCommandLine appends to the CPU model, in its order:
 *  paravirtual timers, EOI, PV spinlocks, Hyper-V, the Hyper-V panic device, KVM, PMU.
 *  The CPU model's own features come before them; its cache and address-size
 *  properties after. */
export function cpuFeatureProps(def: DomainDef, _caps?: QemuCaps): string[] {
  const f = def.features;
  const out = timerCpuProps(def);
  if (f.apicEoi) out.push(`kvm-pv-eoi=${f.apicEoi}`);
  if (f.pvspinlock) out.push(`kvm-pv-unhalt=${f.pvspinlock}`);
  if (f.hyperv) {
    const hv = f.hyperv;
    if (hv.mode === 'passthrough') out.push('hv-passthrough=on');
    for (const name of HYPERV_NAMES) {
      if (hv.features[name] !== 'on') continue;
      if (name === 'spinlocks') out.push(`hv-spinlocks=0x${hv.spinlocks!.toString(16)}`);
      else if (name === 'vendor_id') out.push(`hv-vendor-id=${hv.vendorId}`);
      else out.push(`hv-${name}=on`);
      if (name === 'stimer' && hv.stimerDirect === 'on') out.push('hv-stimer-direct=on');
    }
  }
  // A Hyper-V panic device is a CPU property.
  if (def.devices.panic.some((p) => p.model === 'hyperv')) out.push('hv-crash');
  const kvm = f.kvm?.features;
  if (kvm?.hidden === 'on') out.push('kvm=off');
  if (kvm?.['hint-dedicated'] === 'on') out.push('kvm-hint-dedicated=on');
  if (kvm?.['poll-control'] === 'on') out.push('kvm-poll-control=on');
  if (kvm?.['pv-ipi'] === 'off') out.push('kvm-pv-ipi=off');
  if (f.pmu) out.push(`pmu=${f.pmu}`);
  return out;
}

/** cpuFeatureProps as the ',name=value' string the -cpu builder appends. */
export function cpuFeatureFlags(def: DomainDef, caps?: QemuCaps): string {
  return cpuFeatureProps(def, caps).map((p) => `,${p}`).join('');
}

