// <controller type='pci'>: the PCI topology's controllers (pci-root, pcie-root, bridges,
// root ports, switch ports, expander buses) with their <model name> and <target>
// options — parsed, checked, formatted and turned into -device JSON as libvirt 9.0.0
// does (virDomainControllerDefParseXML, virDomainControllerDefValidate,
// qemuValidateDomainDeviceDefControllerPCI, qemuBuildControllerPCIDevProps).
import { isI440fxMachine, isQ35Machine } from '../arch.js';
import { hasFlag, type CapsFlag, type QemuCaps } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { TriState } from '../model.js';
import { propOnOff } from '../xml/props.js';
import { elements, textOf, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import { PCI_MODELS, type PciModel } from './addrset.js';

export const MODEL_NAMES = [
  'none', 'pci-bridge', 'i82801b11-bridge', 'ioh3420', 'x3130-upstream', 'xio3130-downstream', 'pxb', 'pxb-pcie',
  'pcie-root-port', 'spapr-pci-host-bridge', 'pcie-pci-bridge',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** virDomainPCIControllerOpts; -1 means unset, as in libvirt. */
export interface PciOpts {
  modelName: ModelName;
  chassisNr: number;
  chassis: number;
  port: number;
  busNr: number;
  targetIndex: number;
  hotplug?: TriState;
  /** <target><node>: the guest NUMA node of an expander bus; -1 unset */
  numaNode: number;
  /** <pcihole64> of a root, in KiB */
  pcihole64?: number;
}

/** The device behind each model name; its capability flag has the name given here. */
const MODEL_NAME_CAP: Record<ModelName, CapsFlag | undefined> = {
  none: undefined,
  'pci-bridge': 'pci-bridge',
  'i82801b11-bridge': 'dmi-to-pci-bridge',
  ioh3420: 'ioh3420',
  'x3130-upstream': 'x3130-upstream',
  'xio3130-downstream': 'xio3130-downstream',
  pxb: 'pxb',
  'pxb-pcie': 'pxb-pcie',
  'pcie-root-port': 'pcie-root-port',
  'spapr-pci-host-bridge': undefined, // pSeries only: refused before this check
  'pcie-pci-bridge': 'pcie-pci-bridge',
};

/** The only model name each model accepts (pcie-root-port also takes ioh3420). */
const DEFAULT_NAME: Record<PciModel, ModelName> = {
  'pci-root': 'none',
  'pcie-root': 'none',
  'pci-bridge': 'pci-bridge',
  'dmi-to-pci-bridge': 'i82801b11-bridge',
  'pcie-to-pci-bridge': 'pcie-pci-bridge',
  'pcie-root-port': 'pcie-root-port',
  'pcie-switch-upstream-port': 'x3130-upstream',
  'pcie-switch-downstream-port': 'xio3130-downstream',
  'pci-expander-bus': 'pxb',
  'pcie-expander-bus': 'pxb-pcie',
};

export const isPciModel = (m: string): m is PciModel => (PCI_MODELS as readonly string[]).includes(m);

/** virXMLPropInt with base 0 and NONNEGATIVE (strtol: decimal, 0x hex, 0 octal). */
function propIntBase0(e: XElement, name: string): number {
  const v = e.attrs[name];
  if (v === undefined) return -1;
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(v);
  let n: number | undefined;
  if (m) {
    const body = m[2]!;
    n = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : body.length > 1 && body[0] === '0' ? parseInt(body, 8) : parseInt(body, 10);
    if (m[1] === '-') n = -n;
    if (n > 2147483647 || n < -2147483648) n = undefined;
  }
  if (n === undefined) throw xmlError(`Invalid value for attribute '${name}' in element '${e.name}': '${v}'. Expected integer value`);
  if (n < 0) throw xmlError(`Invalid value for attribute '${name}' in element '${e.name}': '${v}'. Expected non-negative value`);
  return n;
}

/** The PCI part of virDomainControllerDefParseXML: <model name>, <target …>. */
export function parsePciOpts(e: XElement): PciOpts {
  const opts: PciOpts = { modelName: 'none', chassisNr: -1, chassis: -1, port: -1, busNr: -1, targetIndex: -1, numaNode: -1 };
  const models = elements(e, 'model');
  if (models.length > 1) throw xmlError('Multiple <model> elements in controller definition not allowed');
  const name = models[0]?.attrs.name;
  if (name !== undefined) {
    if (!(MODEL_NAMES as readonly string[]).includes(name)) {
      throw xmlError(`Invalid value for attribute 'name' in element 'model': '${name}'.`);
    }
    opts.modelName = name as ModelName;
  }
  const targets = elements(e, 'target');
  if (targets.length > 1) throw xmlError('Multiple <target> elements in controller definition not allowed');
  const t = targets[0];
  if (t) {
    opts.chassisNr = propIntBase0(t, 'chassisNr');
    opts.chassis = propIntBase0(t, 'chassis');
    opts.port = propIntBase0(t, 'port');
    opts.busNr = propIntBase0(t, 'busNr');
    const hotplug = propOnOff(t, 'hotplug');
    if (hotplug) opts.hotplug = hotplug;
    opts.targetIndex = propIntBase0(t, 'index');
    const node = elements(t, 'node')[0];
    if (node) {
      const raw = textOf(node).trim();
      if (!/^[+-]?\d+$/.test(raw) || Number(raw) < 0 || Number(raw) > 2 ** 31 - 1) throw xmlError('invalid NUMA node in target');
      opts.numaNode = Number(raw);
    }
  }
  return opts;
}

const UNITS: Record<string, number> = { b: 1, bytes: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1e6, g: 1024 ** 3, gib: 1024 ** 3, gb: 1e9, t: 1024 ** 4, tib: 1024 ** 4, tb: 1e12 };

/** <pcihole64>, read for pci-root and pcie-root only (virParseScaledValue, KiB by default). */
export function parsePciHole(e: XElement, opts: PciOpts): void {
  const el = elements(e, 'pcihole64')[0];
  const raw = el ? textOf(el) : '';
  if (!el || raw === '') return;
  if (!/^\s*\+?\d+$/.test(raw) || BigInt(raw.trim()) > 2n ** 64n - 1n) throw xmlError(`Invalid value '${raw}' for element or attribute './pcihole64'`);
  const unit = el.attrs.unit;
  const scale = unit === undefined || unit === '' ? 1024 : UNITS[unit.toLowerCase()];
  if (scale === undefined) throw notImplemented(`<pcihole64 unit='${unit}'>`);
  const bytes = BigInt(raw.trim()) * BigInt(scale);
  const kib = (bytes + 1023n) / 1024n;
  if (kib > 2n ** 40n) throw notImplemented('<pcihole64> larger than 2^40 KiB');
  opts.pcihole64 = Number(kib);
}

/** virDomainControllerDefValidate, the PCI part (after the root-address check). */
export function validatePciConf(index: number, o: PciOpts): void {
  if (index > 255) throw unsupportedConfig(`PCI controller index ${index} too high, maximum is 255`);
  if (o.targetIndex !== -1) {
    if (o.targetIndex > 30) throw unsupportedConfig(`PCI controller target index '${o.targetIndex}' out of range - must be 0-30`);
    if ((index === 0) !== (o.targetIndex === 0)) {
      throw unsupportedConfig('Only the PCI controller with index 0 can have target index 0, and vice versa');
    }
  }
  if (o.chassisNr !== -1 && (o.chassisNr < 1 || o.chassisNr > 255)) throw unsupportedConfig(`PCI controller chassisNr '${o.chassisNr}' out of range - must be 1-255`);
  if (o.chassis > 255) throw unsupportedConfig(`PCI controller chassis '${o.chassis}' out of range - must be 0-255`);
  if (o.port > 255) throw unsupportedConfig(`PCI controller port '${o.port}' out of range - must be 0-255`);
  if (o.busNr !== -1 && (o.busNr < 1 || o.busNr > 254)) throw unsupportedConfig(`PCI controller busNr '${o.busNr}' out of range - must be 1-254`);
}

/** qemuDomainPCIControllerSetDefaultModelName */
export function defaultModelName(model: PciModel, caps: QemuCaps): ModelName {
  if (model === 'pcie-root-port' && !hasFlag(caps, 'pcie-root-port')) return 'ioh3420';
  return DEFAULT_NAME[model];
}

/** qemuValidateDomainDeviceDefControllerPCI (no pSeries, no NUMA nodes here). */
export function validatePci(index: number, model: PciModel, o: PciOpts, caps: QemuCaps, machineName: string): void {
  const where = `for PCI controller with index '${index}', model '${model}' and modelName '${o.modelName}'`;
  const invalidOption = (opt: string) => unsupportedConfig(`Option '${opt}' is not valid ${where}`);
  const root = model === 'pci-root' || model === 'pcie-root';
  if (root ? o.modelName !== 'none' : false) throw invalidOption('modelName');
  const nameOk = model === 'pcie-root-port' ? o.modelName === 'ioh3420' || o.modelName === 'pcie-root-port' : o.modelName === DEFAULT_NAME[model];
  if (!nameOk) throw unsupportedConfig(`Option 'modelName' has invalid value ${where}`);
  if (!root && index === 0) throw unsupportedConfig(`Index for '${model}' controllers must be > 0`);
  if (root && index !== 0) throw unsupportedConfig(`Index for '${model}' controllers must be 0`);
  if (o.targetIndex !== -1) throw invalidOption('targetIndex');
  // Only the expander buses take a NUMA node (and pSeries' PHBs, not here).
  if (o.numaNode !== -1 && model !== 'pci-expander-bus' && model !== 'pcie-expander-bus') throw invalidOption('numaNode');
  if (o.pcihole64 !== undefined && !(model === 'pci-root' ? isI440fxMachine : isQ35Machine)(machineName)) {
    throw unsupportedConfig(`Setting the 64-bit PCI hole size is not supported for machine '${machineName}'`);
  }
  const expander = model === 'pci-expander-bus' || model === 'pcie-expander-bus';
  if (expander && o.busNr === -1) throw internalMissing(where, 'busNr');
  if (!expander && o.busNr !== -1) throw invalidOption('busNr');
  if (model === 'pci-bridge' && o.chassisNr === -1) throw internalMissing(where, 'chassisNr');
  if (model !== 'pci-bridge' && o.chassisNr !== -1) throw invalidOption('chassisNr');
  const port = model === 'pcie-root-port' || model === 'pcie-switch-downstream-port';
  if (port && o.chassis === -1) throw internalMissing(where, 'chassis');
  if (port && o.port === -1) throw internalMissing(where, 'port');
  if (!port && o.chassis !== -1) throw invalidOption('chassis');
  if (!port && o.port !== -1) throw invalidOption('port');
  if (o.hotplug) {
    if (model === 'pci-root') {
      if (!hasFlag(caps, 'piix4.acpi-root-pci-hotplug')) {
        throw unsupportedConfig("setting the 'hotplug' property on a 'pci-root' device is not supported by this QEMU binary");
      }
    } else if (port) {
      if (!hasFlag(caps, 'pcie-root-port.hotplug')) {
        throw unsupportedConfig(`setting the 'hotplug' property on a '${o.modelName}' device is not supported by this QEMU binary`);
      }
    } else {
      throw invalidOption('hotplug');
    }
  }
  const cap = MODEL_NAME_CAP[o.modelName];
  if (cap && !hasFlag(caps, cap)) throw unsupportedConfig(`The '${o.modelName}' device is not supported by this QEMU binary`);
}

const internalMissing = (where: string, opt: string) => internalError(`Required option '${opt}' is not set ${where}`);

/** <model name> and <target>, as virDomainControllerDefFormatPCI writes them. */
export function formatPciOpts(o: PciOpts): string[] {
  const out: string[] = [];
  if (o.modelName !== 'none') out.push(`<model name='${o.modelName}'/>`);
  let t = '';
  if (o.chassisNr !== -1) t += ` chassisNr='${o.chassisNr}'`;
  if (o.chassis !== -1) t += ` chassis='${o.chassis}'`;
  if (o.port !== -1) t += ` port='0x${o.port.toString(16)}'`;
  if (o.busNr !== -1) t += ` busNr='${o.busNr}'`;
  if (o.targetIndex !== -1) t += ` index='${o.targetIndex}'`;
  t += attr('hotplug', o.hotplug);
  if (o.numaNode !== -1) out.push(`<target${t}>`, `  <node>${o.numaNode}</node>`, '</target>');
  else if (t) out.push(`<target${t}/>`);
  return out;
}

/** qemuBuildGlobalControllerCommandLine: the roots' 64-bit PCI hole sizes. */
export function pciHoleGlobal(model: PciModel, o: PciOpts | undefined): string[][] {
  if (o?.pcihole64 === undefined) return [];
  const host = model === 'pci-root' ? 'i440FX-pcihost' : model === 'pcie-root' ? 'q35-pcihost' : undefined;
  if (!host) throw internalError('64-bit PCI hole setting is only for root PCI controllers');
  return [['-global', `${host}.pci-hole64-size=${o.pcihole64}K`]];
}

/** qemuBuildControllerPCIDevProps (the address is added by the caller). */
export function pciDeviceProps(model: PciModel, o: PciOpts, alias: string | undefined): Record<string, unknown> | undefined {
  const driver = o.modelName;
  switch (model) {
    case 'pci-root':
    case 'pcie-root':
      return undefined; // implicit in the machine
    case 'pci-bridge':
      return { driver, chassis_nr: o.chassisNr, id: alias };
    case 'pci-expander-bus':
    case 'pcie-expander-bus':
      return { driver, bus_nr: o.busNr, id: alias, ...(o.numaNode !== -1 && { numa_node: o.numaNode }) };
    case 'dmi-to-pci-bridge':
    case 'pcie-switch-upstream-port':
    case 'pcie-to-pci-bridge':
      return { driver, id: alias };
    case 'pcie-root-port':
    case 'pcie-switch-downstream-port': {
      const props: Record<string, unknown> = { driver, port: o.port, chassis: o.chassis, id: alias };
      if (o.hotplug) props.hotplug = o.hotplug === 'on';
      return props;
    }
  }
}
