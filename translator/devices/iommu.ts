// <iommu> (libvirt's virDomainIOMMUDef): intel-iommu with its driver knobs, virtio-iommu
// on PCI; smmuv3 (ARM virt only) is parsed and then refused as libvirt refuses it on
// other machines. One at most (virDomainDefParseXML).
import { hasFlag, type CapsFlag } from '../capabilities.js';
import { unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef, TriState } from '../model.js';
import { propOnOff, propEnum, propUInt, required } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo } from './info.js';
import type { DeviceKind } from './kind.js';
import { virtioFlags } from '../pci/connect.js';
import { C } from '../pci/addrset.js';

export interface IommuDef {
  model: 'intel' | 'smmuv3' | 'virtio';
  intremap?: TriState;
  cachingMode?: TriState;
  iotlb?: TriState;
  eim?: TriState;
  /** 0: not set */
  awBits: number;
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    iommu: IommuDef[];
  }
}

const MODELS = ['intel', 'smmuv3', 'virtio'] as const;

/** virDomainIOMMUDefParseXML */
function parse(e: XElement): IommuDef {
  required(e, 'model');
  const model = propEnum(e, 'model', MODELS)!;
  const d: IommuDef = { model, awBits: 0, info: {} };
  const driver = child(e, 'driver');
  if (driver) {
    const set = (k: 'intremap' | 'cachingMode' | 'iotlb' | 'eim', a: string) => {
      const v = propOnOff(driver, a);
      if (v) d[k] = v;
    };
    set('intremap', 'intremap');
    set('cachingMode', 'caching_mode');
    set('iotlb', 'iotlb');
    set('eim', 'eim');
    d.awBits = propUInt(driver, 'aw_bits') ?? 0;
  }
  d.info = parseDeviceInfo(e, '<iommu>', false, ['virtio-mmio']);
  return d;
}

const hasKnobs = (d: IommuDef) => d.intremap !== undefined || d.cachingMode !== undefined || d.eim !== undefined || d.iotlb !== undefined || d.awBits !== 0;

/** virDomainDefIOMMUValidate (with the generic domain checks) */
export function validateIommuDomain(def: DomainDef): void {
  const d = def.devices.iommu[0];
  if (!d) return;
  if (d.intremap === 'on' && def.features.ioapic !== 'qemu') throw unsupportedConfig("IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')");
  if (d.eim === 'on' && d.intremap !== 'on') throw unsupportedConfig('IOMMU eim requires interrupt remapping to be enabled');
}

/** The end of qemuValidateDomainVCpuTopology: x86 guests of more than 255 vCPUs. */
export function validateEimVcpus(def: DomainDef, q35: boolean): void {
  if (!['x86_64', 'i686'].includes(def.os.arch!) || def.vcpu.max <= 255) return;
  if (!q35) throw unsupportedConfig('more than 255 vCPUs are only supported on q35-based machine types');
  if (def.devices.iommu[0]?.eim !== 'on') throw unsupportedConfig('more than 255 vCPUs require extended interrupt mode enabled on the iommu device');
}

const KNOB_FLAGS: [keyof IommuDef, CapsFlag, string][] = [
  ['intremap', 'intel-iommu.intremap', 'interrupt remapping'],
  ['cachingMode', 'intel-iommu.caching-mode', 'caching mode'],
  ['eim', 'intel-iommu.eim', 'eim'],
  ['iotlb', 'intel-iommu.device-iotlb', 'device IOTLB'],
];

export const iommu: DeviceKind<IommuDef> = {
  element: 'iommu',
  parse,
  info: (d) => d.info,
  pci: (d, { def, caps }) => (d.model === 'virtio' ? { info: d.info, connect: virtioFlags(def, caps) | C.INTEGRATED, function: -1 } : undefined),
  // virDomainIOMMUDefValidate
  validateConf(d) {
    if (d.model !== 'intel' && hasKnobs(d)) throw xmlError(`iommu model '${d.model}' doesn't support additional attributes`);
    if (d.model !== 'virtio' && d.info.address) throw xmlError(`iommu model '${d.model}' can't have address`);
  },
  // qemuValidateDomainDeviceDefIOMMU
  validate(d, { def, caps, machine }) {
    const q35 = machine.family === 'q35';
    if (d.model === 'intel') {
      if (!q35) throw unsupportedConfig("IOMMU device: 'intel' is only supported with Q35 machines");
      if (!hasFlag(caps, 'intel-iommu')) throw unsupportedConfig("IOMMU device: 'intel' is not supported with this QEMU binary");
    } else if (d.model === 'smmuv3') {
      // no ARM virt machine in the snapshots
      throw unsupportedConfig("IOMMU device: 'smmuv3' is only supported with ARM Virt machines");
    } else {
      if (!q35) throw unsupportedConfig("IOMMU device: 'virtio' is only supported with Q35 and ARM Virt machines");
      if (!hasFlag(caps, 'virtio-iommu-pci') || !hasFlag(caps, 'virtio-iommu.boot-bypass')) throw unsupportedConfig("IOMMU device: 'virtio' is not supported with this QEMU binary");
      if (!def.features.acpi) throw unsupportedConfig("IOMMU device: 'virtio' requires ACPI");
      if (d.info.address && d.info.address.type !== 'pci') throw unsupportedConfig("IOMMU device: 'virtio' needs a PCI address");
    }
    for (const [k, flag, what] of KNOB_FLAGS) if (d[k] !== undefined && !hasFlag(caps, flag)) throw unsupportedConfig(`iommu: ${what} is not supported with this QEMU binary`);
    if (d.awBits > 0 && !hasFlag(caps, 'intel-iommu.aw-bits')) throw unsupportedConfig('iommu: aw_bits is not supported with this QEMU binary');
  },
  alias: () => 'iommu0',
  // virDomainIOMMUDefFormat
  format(w, d) {
    const drv = `${attr('intremap', d.intremap)}${attr('caching_mode', d.cachingMode)}${attr('eim', d.eim)}${attr('iotlb', d.iotlb)}${d.awBits > 0 ? ` aw_bits='${d.awBits}'` : ''}`;
    w.element(`iommu model='${d.model}'`, 'iommu', drv || hasInfo(d.info) ? () => {
      if (drv) w.line(`<driver${drv}/>`);
      formatInfo(w, d.info);
    } : undefined);
  },
  // qemuBuildIOMMUCommandLine (before the controllers)
  command(d, { def }) {
    if (d.model === 'intel') {
      const p: Record<string, unknown> = { driver: 'intel-iommu', id: d.info.alias };
      if (d.intremap) p.intremap = d.intremap;
      if (d.cachingMode) p['caching-mode'] = d.cachingMode === 'on';
      if (d.eim) p.eim = d.eim;
      if (d.iotlb) p['device-iotlb'] = d.iotlb === 'on';
      if (d.awBits) p['aw-bits'] = d.awBits;
      return [['-device', JSON.stringify(p)]];
    }
    if (d.model === 'virtio') return [['-device', JSON.stringify({ driver: 'virtio-iommu', id: d.info.alias, ...addressProps(d.info, def) })]];
    return [];
  },
};
