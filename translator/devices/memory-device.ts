// <memory> devices (libvirt's virDomainMemoryDef): pc-dimm and nvdimm in DIMM slots,
// virtio-pmem and virtio-mem on PCI; each with its memory backend object (memory.ts's
// memoryBackendProps, as for the guest's RAM); sgx-epc, an SGX enclave page cache that
// QEMU takes on -machine (and only where the snapshot's QEMU reports SGX). The domain-level
// rules of memory hotplug (<maxMemory>, the total size, the slots) are here too.
import { findMachine, accelOf, hasFlag } from '../capabilities.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef, YesNo } from '../model.js';
import { propEnum, propUInt, propYesNo, required } from '../xml/props.js';
import { child, textOf, type XElement } from '../xml/tree.js';
import { escapeXml } from '../xml/tree.js';
import { formatBitmap, parseBitmap } from '../domain/bitmap.js';
import { parseUuid, shortName } from '../domain/ids.js';
import { memoryBackendProps } from '../domain/memory.js';
import { numaArgs, numaMemoryKiB } from '../domain/numa.js';
import { guestNumaCells } from '../domain/numatune.js';
import { parseScaledKiB } from '../domain/units.js';
import { virtioFlags } from '../pci/connect.js';
import { addressProps, formatInfo, parseDeviceInfo } from './info.js';
import type { DeviceKind, StageContext } from './kind.js';

export type MemoryModel = 'dimm' | 'nvdimm' | 'virtio-pmem' | 'virtio-mem' | 'sgx-epc';

export interface MemoryDeviceDef {
  model: MemoryModel;
  access?: 'shared' | 'private';
  discard?: YesNo;
  /** NVDIMM <uuid>, canonical */
  uuid?: string;
  /** <source>: KiB sizes are 0 when unset */
  pagesizeKiB: number;
  sourceNodes?: number[];
  path?: string;
  alignKiB: number;
  pmem: boolean;
  /** <target>: the guest NUMA node, -1 for none */
  targetNode: number;
  sizeKiB: number;
  labelKiB: number;
  readonly: boolean;
  blockKiB: number;
  requestedKiB: number;
  /** <address type='dimm'> (assigned to DIMMs when the domain has hotplug memory) */
  dimm?: { slot: number; base: bigint };
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    memory: MemoryDeviceDef[];
  }
}

const MODELS = ['', 'dimm', 'nvdimm', 'virtio-pmem', 'virtio-mem', 'sgx-epc'] as const;
const ACCESS = ['default', 'shared', 'private'] as const;
/** virGetSystemPageSizeKB / virHostMemGetTHPSize on the hosts the snapshots stand for
 *  (x86_64 hosts: libvirt here, and its test harness, run on one) */
const THP_KIB = 2048;
/** virMemoryMaxValue(false) in KiB: what a size may reach */
const MAX_KIB = 2n ** 53n;

/** virDomainParseMemory on `./xpath` (a child of `parent`): KiB, 0 when absent or empty. */
function sizeKiB(parent: XElement | undefined, name: string, xpath: string, isRequired = false): number {
  const el = parent && child(parent, name);
  if (!el || textOf(el) === '') {
    if (isRequired) throw xmlError(`missing element or attribute '${xpath}'`);
    return 0;
  }
  const kib = parseScaledKiB(parent!, name, xpath, 2n ** 63n - 1n)!;
  if (kib >= MAX_KIB) throw new TranslationError('bare', 'numerical overflow: size value too large');
  return Number(kib);
}

/** virBitmapParse of a <nodemask>, which may not be empty */
function nodemask(src: XElement): number[] | undefined {
  const el = child(src, 'nodemask');
  const raw = el ? textOf(el) : '';
  if (raw === '') return undefined;
  const set = parseBitmap(raw);
  if (!set.length) throw unsupportedConfig(`Invalid value of 'nodemask': ${raw}`);
  return set;
}

/** virDomainDeviceDimmAddressParseXML: slot (required, decimal), base (hex). */
function parseDimmAddress(a: XElement): { slot: number; base: bigint } {
  required(a, 'slot');
  const slot = propUInt(a, 'slot')!;
  const raw = a.attrs.base;
  let base = 0n;
  if (raw !== undefined) {
    const m = /^[ \t\n\v\f\r]*\+?(?:0[xX])?([0-9a-fA-F]+)$/.exec(raw);
    if (!m || BigInt(`0x${m[1]}`) > 2n ** 64n - 1n) throw xmlError(`Invalid value for attribute 'base' in element 'address': '${raw}'. Expected non-negative integer value`);
    base = BigInt(`0x${m[1]}`);
  }
  return { slot, base };
}

/** virDomainMemoryDefParseXML */
function parse(e: XElement): MemoryDeviceDef {
  required(e, 'model');
  const model = propEnum(e, 'model', MODELS, { nonZero: true })!;
  const d: MemoryDeviceDef = { model: model as MemoryModel, pagesizeKiB: 0, alignKiB: 0, pmem: false, targetNode: -1, sizeKiB: 0, labelKiB: 0, readonly: false, blockKiB: 0, requestedKiB: 0, info: {} };
  const access = propEnum(e, 'access', ACCESS, { nonZero: true });
  if (access && access !== 'default') d.access = access;
  const discard = propYesNo(e, 'discard');
  if (discard) d.discard = discard;
  const uuidEl = child(e, 'uuid');
  if (model === 'nvdimm' && uuidEl && textOf(uuidEl) !== '') {
    const u = parseUuid(textOf(uuidEl));
    if (u === undefined) throw internalError('malformed uuid element');
    d.uuid = u;
  }
  const src = child(e, 'source');
  if (src) {
    if (model === 'dimm' || model === 'virtio-mem' || model === 'sgx-epc') {
      if (model !== 'sgx-epc') d.pagesizeKiB = sizeKiB(src, 'pagesize', './pagesize');
      const nodes = nodemask(src);
      if (nodes) d.sourceNodes = nodes;
    } else {
      const path = child(src, 'path');
      if (path && textOf(path) !== '') d.path = textOf(path);
      if (model === 'nvdimm') {
        d.alignKiB = sizeKiB(src, 'alignsize', './alignsize');
        d.pmem = child(src, 'pmem') !== undefined;
      }
    }
  }
  const target = child(e, 'target');
  if (!target) throw xmlError('missing <target> element for <memory> device');
  const node = child(target, 'node');
  const rawNode = node ? textOf(node) : '';
  if (rawNode !== '') {
    const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(rawNode);
    const n = m ? Number(m[1]) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 2147483647) throw xmlError('invalid value of memory device node');
    d.targetNode = n;
  }
  d.sizeKiB = sizeKiB(target, 'size', './size', true);
  if (model === 'nvdimm') {
    d.labelKiB = sizeKiB(child(target, 'label'), 'size', './label/size');
    if (d.labelKiB && d.labelKiB < 128) throw xmlError('nvdimm label must be at least 128KiB');
    if (d.labelKiB >= d.sizeKiB) throw xmlError('label size must be smaller than NVDIMM size');
    d.readonly = child(target, 'readonly') !== undefined;
  } else if (model === 'virtio-mem') {
    d.blockKiB = sizeKiB(target, 'block', './block');
    d.requestedKiB = sizeKiB(target, 'requested', './requested');
  }
  // A DIMM address is this kind's own; the others go through the shared info parser.
  const addr = child(e, 'address');
  if (addr?.attrs.type === 'dimm') {
    d.dimm = parseDimmAddress(addr);
    d.info = parseDeviceInfo({ ...e, children: e.children.filter((c) => c !== addr) }, '<memory>', false);
  } else {
    d.info = parseDeviceInfo(e, '<memory>', false);
  }
  return d;
}

const onPci = (d: MemoryDeviceDef) => d.model === 'virtio-pmem' || d.model === 'virtio-mem';
/** DIMMs and NVDIMMs take a DIMM slot */
const inSlot = (d: MemoryDeviceDef) => d.model === 'dimm' || d.model === 'nvdimm';
const hotplug = (def: DomainDef) => def.maxMemory !== undefined;
const addrType = (d: MemoryDeviceDef) => (d.dimm ? 'dimm' : d.info.address?.type);

/** The memory devices' share of virDomainDefPostParseMemory: with guest NUMA the
 *  total is the cells' sum plus the devices', else the devices must fit in <memory>. */
export function postParseMemoryTotal(def: DomainDef): void {
  const hotplugKiB = def.devices.memory.reduce((s, m) => s + m.sizeKiB, 0);
  const numaKiB = def.numa ? numaMemoryKiB(def) : 0;
  if (numaKiB) def.memory.totalKiB = numaKiB + hotplugKiB;
  else if (hotplugKiB > def.memory.totalKiB) throw xmlError('Total size of memory devices exceeds the total memory size');
  if (def.memory.totalKiB - hotplugKiB === 0) throw xmlError('Memory size must be specified via <memory> or in the <numa> configuration');
}

/** virDomainDefGetMemoryInitial: the memory without the devices' */
export const initialMemoryKiB = (def: DomainDef) => def.memory.totalKiB - def.devices.memory.reduce((s, m) => s + m.sizeKiB, 0);

/** qemuDomainAssignMemorySlots (after the USB ports): DIMMs without an address take
 *  the lowest free slot, when the domain has hotplug memory. */
export function assignMemorySlots(def: DomainDef): void {
  const slots = def.maxMemory?.slots;
  if (!slots) return;
  const used = new Set(def.devices.memory.flatMap((m) => (m.dimm && m.dimm.slot < slots ? [m.dimm.slot] : [])));
  let next = 0;
  for (const m of def.devices.memory) {
    if (!inSlot(m) || m.dimm) continue;
    // libvirt makes the address a DIMM one in place and reads the old one's fields as its base
    if (m.info.address) throw notImplemented(`<address type='${m.info.address.type}'> on <memory model='${m.model}'>`);
    while (used.has(next)) next++;
    if (next >= slots) throw internalError('failed to find an empty memory slot');
    used.add(next);
    m.dimm = { slot: next, base: 0n };
  }
}

/** qemuDomainDefValidateMemoryHotplugDevice */
function validateHotplugDevice(m: MemoryDeviceDef, def: DomainDef, numaCells: number): void {
  const needsNode = () => {
    if (numaCells && m.targetNode === -1) throw unsupportedConfig('target NUMA node needs to be specified for memory device');
  };
  const t = addrType(m);
  if (m.model === 'dimm' || m.model === 'nvdimm') {
    if (t !== undefined && t !== 'dimm') throw unsupportedConfig("only 'dimm' addresses are supported for the pc-dimm device");
    needsNode();
    if (m.dimm) {
      if (m.dimm.slot >= def.maxMemory!.slots) throw unsupportedConfig(`memory device slot '${m.dimm.slot}' exceeds slots count '${def.maxMemory!.slots}'`);
      for (const o of def.devices.memory) {
        if (o === m || !o.dimm) continue;
        if (o.dimm.slot === m.dimm.slot) throw unsupportedConfig(`memory device slot '${m.dimm.slot}' is already being used by another memory device`);
        if (m.dimm.base !== 0n && o.dimm.base === m.dimm.base) throw unsupportedConfig(`memory device base '0x${m.dimm.base.toString(16)}' is already being used by another memory device`);
      }
    }
  } else if (m.model === 'virtio-pmem') {
    if (t !== undefined && t !== 'pci') throw unsupportedConfig("only 'pci' addresses are supported for the virtio-pmem device");
  } else {
    if (t !== undefined && t !== 'pci') throw unsupportedConfig(`only 'pci' addresses are supported for the ${m.model} device`);
    needsNode();
  }
}

/** qemuDomainDefValidateMemoryHotplug (with no device being hotplugged) */
export function validateMemoryHotplug(def: DomainDef): void {
  const mems = def.devices.memory;
  if (!hotplug(def)) {
    if (mems.length) throw unsupportedConfig("cannot use/hotplug a memory device when domain 'maxMemory' is not defined");
    return;
  }
  const numaCells = guestNumaCells(def);
  if (!numaCells) throw unsupportedConfig('At least one numa node has to be configured when enabling memory hotplug');
  const { slots, kib: max } = def.maxMemory!;
  if (mems.length > slots) throw unsupportedConfig(`memory device count '${mems.length}' exceeds slots count '${slots}'`);
  // (sgx-epc cannot be hotplugged: nothing to check)
  for (const m of mems) if (m.model !== 'sgx-epc') validateHotplugDevice(m, def, numaCells);
  const space = max - initialMemoryKiB(def);
  if (mems.reduce((s, m) => s + m.sizeKiB, 0) > space) throw unsupportedConfig('memory device total size exceeds hotplug space');
}

const CAPS: Record<MemoryModel, [Parameters<typeof hasFlag>[1], string]> = {
  dimm: ['pc-dimm', "memory hotplug isn't supported by this QEMU binary"],
  nvdimm: ['nvdimm', "nvdimm isn't supported by this QEMU binary"],
  'virtio-pmem': ['virtio-pmem-pci', "virtio-pmem isn't supported by this QEMU binary"],
  'virtio-mem': ['virtio-mem-pci', "virtio-mem isn't supported by this QEMU binary"],
  'sgx-epc': ['sgx-epc', "sgx epc isn't supported by this QEMU binary"],
};

/** The memory devices' -machine parameters (qemuAppendDomainMemoryMachineParams), in
 *  the devices' order: nvdimm=on at the first NVDIMM, each EPC section's backend and
 *  guest node (0 when it names none). */
export function memoryDeviceMachineOpts(def: DomainDef): string[] {
  const out: string[] = [];
  let epc = 0;
  for (const m of def.devices.memory) {
    if (m.model === 'nvdimm' && !out.includes('nvdimm=on')) out.push('nvdimm=on');
    if (m.model === 'sgx-epc') {
      out.push(`sgx-epc.${epc}.memdev=mem${m.info.alias}`, `sgx-epc.${epc}.node=${Math.max(m.targetNode, 0)}`);
      epc++;
    }
  }
  return out;
}

/** qemuDomainGetMemoryModuleSizeAlignment: modules are rounded up to 2 MiB on the way to a command line */
const alignedKiB = (m: MemoryDeviceDef) => Math.ceil(m.sizeKiB / 2048) * 2048;

function backend(m: MemoryDeviceDef, { def, caps }: StageContext): string[][] {
  const cell = m.targetNode >= 0 ? def.numa?.[m.targetNode] : undefined;
  const access = m.access ?? cell?.memAccess;
  const discard = m.discard ?? cell?.discard;
  const b = memoryBackendProps({
    def, caps, alias: `mem${m.info.alias}`, sizeKiB: alignedKiB(m), targetNode: m.targetNode, shortName: shortName(def.name),
    ...(access ? { cellAccess: access } : {}), ...(discard ? { cellDiscard: discard } : {}),
    device: { model: m.model, pagesizeKiB: m.pagesizeKiB, pmem: m.pmem, alignKiB: m.alignKiB, pathAlias: m.info.alias!, ...(m.path !== undefined ? { path: m.path } : {}), ...(m.sourceNodes ? { sourceNodes: m.sourceNodes } : {}) },
  });
  return [...(b.threadContext ? [['-object', b.threadContext]] : []), ['-object', b.json]];
}

export const memory: DeviceKind<MemoryDeviceDef> = {
  element: 'memory',
  parse,
  info: (m) => m.info,
  // virDomainMemoryDefPostParse: virtio-pmem's writes must reach its file
  postParse(m) {
    if (m.model === 'virtio-pmem') m.access ??= 'shared';
  },
  pci: (m, { def, caps, machine }) => (onPci(m) && !(machine.virtioCcw && m.info.address?.type !== 'pci') ? { info: m.info, connect: virtioFlags(def, caps), function: -1 } : undefined),
  ccw: (m, { machine }) => onPci(m) && machine.virtioCcw,
  // virDomainMemoryDefValidate
  validateConf(m, { def }) {
    if (m.targetNode !== -1) {
      const n = guestNumaCells(def);
      if (!n) throw new TranslationError('bare', "can't add memory backend as guest has no NUMA nodes configured");
      if (m.targetNode >= n) throw new TranslationError('bare', `can't add memory backend for guest node '${m.targetNode}' as the guest has only '${n}' NUMA nodes configured`);
    }
    if (m.model === 'nvdimm') {
      if (m.path === undefined) throw new TranslationError('bare', "path is required for model 'nvdimm'");
      if (m.discard === 'yes') throw unsupportedConfig('discard is not supported for nvdimms');
      if (m.uuid) throw unsupportedConfig('UUID is not supported for NVDIMM device');
    } else if (m.model === 'virtio-pmem') {
      if (m.path === undefined) throw new TranslationError('bare', "path is required for model 'virtio-pmem'");
      if (m.discard === 'yes') throw unsupportedConfig("discard is not supported for model 'virtio-pmem'");
      if (m.access !== 'shared') throw unsupportedConfig('shared access mode required for virtio-pmem device');
      if (m.targetNode !== -1) throw unsupportedConfig('virtio-pmem does not support NUMA nodes');
    } else if (m.model === 'sgx-epc') {
      if (m.info.address || m.dimm) throw unsupportedConfig("memory device address is not supported for model 'sgx-epc'");
    } else if (m.model === 'virtio-mem') {
      if (m.requestedKiB > m.sizeKiB) throw new TranslationError('bare', `requested size must be smaller than or equal to @size (${m.sizeKiB}KiB)`);
      if (m.blockKiB === 0 || (m.blockKiB & (m.blockKiB - 1)) !== 0) throw new TranslationError('bare', 'block size must be a power of two');
      if (m.blockKiB < THP_KIB) throw new TranslationError('bare', `block size too small, must be at least ${THP_KIB}KiB`);
      if (m.requestedKiB % m.blockKiB !== 0) throw new TranslationError('bare', 'requested size must be an integer multiple of block size');
    }
  },
  // qemuValidateDomainDeviceDefMemory
  validate(m, { caps }) {
    const [flag, msg] = CAPS[m.model];
    if (!hasFlag(caps, flag)) throw unsupportedConfig(msg);
    if (m.model === 'nvdimm' && m.readonly && !hasFlag(caps, 'nvdimm.unarmed')) throw unsupportedConfig('nvdimm readonly property is not available with this QEMU binary');
    if (m.model === 'sgx-epc') validateEpc(m, caps.sgxSections ?? []);
  },
  // the module checks of qemuDomainAlignMemorySizes
  validateStart(m, { def }) {
    const i = def.devices.memory.indexOf(m);
    if (alignedKiB(m) >= Number(MAX_KIB)) throw unsupportedConfig(`size of memory module '${i}' overflowed after alignment`);
  },
  // qemuAssignDeviceMemoryAlias: DIMMs by slot, the others by count
  alias(m, i, def) {
    const prefix = m.model === 'sgx-epc' ? 'epc' : m.model.replace('-', '');
    if (inSlot(m)) return `${prefix}${m.dimm?.slot ?? 0}`;
    return `${prefix}${def.devices.memory.slice(0, i).filter((o) => o.model === m.model).length}`;
  },
  // virDomainMemoryDefFormat
  format(w, m) {
    w.open(`<memory model='${m.model}'${m.access ? ` access='${m.access}'` : ''}${m.discard ? ` discard='${m.discard}'` : ''}>`);
    if (m.uuid) w.line(`<uuid>${m.uuid}</uuid>`);
    const src: string[] = [];
    if (m.sourceNodes) src.push(`<nodemask>${formatBitmap(m.sourceNodes)}</nodemask>`);
    if (m.pagesizeKiB) src.push(`<pagesize unit='KiB'>${m.pagesizeKiB}</pagesize>`);
    if (m.path !== undefined) src.push(`<path>${escapeXml(m.path)}</path>`);
    if (m.alignKiB) src.push(`<alignsize unit='KiB'>${m.alignKiB}</alignsize>`);
    if (m.pmem) src.push('<pmem/>');
    if (src.length) {
      w.open('<source>');
      src.forEach((l) => w.line(l));
      w.close('</source>');
    }
    w.open('<target>');
    w.line(`<size unit='KiB'>${m.sizeKiB}</size>`);
    if (m.targetNode >= 0) w.line(`<node>${m.targetNode}</node>`);
    if (m.labelKiB) {
      w.open('<label>');
      w.line(`<size unit='KiB'>${m.labelKiB}</size>`);
      w.close('</label>');
    }
    if (m.readonly) w.line('<readonly/>');
    if (m.blockKiB) {
      w.line(`<block unit='KiB'>${m.blockKiB}</block>`);
      w.line(`<requested unit='KiB'>${m.requestedKiB}</requested>`);
    }
    w.close('</target>');
    if (m.dimm) w.line(`<address type='dimm' slot='${m.dimm.slot}'${m.dimm.base ? ` base='0x${m.dimm.base.toString(16)}'` : ''}/>`);
    formatInfo(w, m.info);
    w.close('</memory>');
  },
  // qemuBuildMemoryDeviceCommandLine: the backend, then the device
  command(m, ctx) {
    const { def, caps } = ctx;
    // -mem-prealloc (NUMA cells without backends, on old machine types) changes every backend
    const mt = findMachine(caps, accelOf(def.virtType), def.os.machine!)!;
    if (def.numa && numaArgs(def, caps, mt, shortName(def.name)).some((a) => a[0] === '-mem-prealloc')) throw notImplemented('<memory> devices with -mem-prealloc');
    // an EPC section is only its backend: -machine names it
    if (m.model === 'sgx-epc') return backend(m, ctx);
    const driver = { dimm: 'pc-dimm', nvdimm: 'nvdimm', 'virtio-pmem': 'virtio-pmem-pci', 'virtio-mem': 'virtio-mem-pci' }[m.model];
    const p: Record<string, unknown> = { driver };
    if (m.targetNode >= 0) p.node = m.targetNode;
    if (m.labelKiB) p['label-size'] = m.labelKiB * 1024;
    if (m.blockKiB) p['block-size'] = m.blockKiB * 1024;
    if (m.requestedKiB) p['requested-size'] = m.requestedKiB * 1024;
    if (m.uuid) p.uuid = m.uuid;
    if (m.readonly) p.unarmed = true;
    p.memdev = `mem${m.info.alias}`;
    if (m.model === 'virtio-mem' && hasFlag(caps, 'virtio-mem-pci.prealloc') && virtioMemPrealloc(m, def)) p.prealloc = true;
    p.id = m.info.alias;
    if (m.dimm) {
      p.slot = m.dimm.slot;
      if (m.dimm.base > BigInt(Number.MAX_SAFE_INTEGER)) throw notImplemented('a DIMM base address above 2^53');
      if (m.dimm.base) p.addr = Number(m.dimm.base);
    }
    Object.assign(p, addressProps(m.info, def));
    return [...backend(m, ctx), ['-device', JSON.stringify(p)]];
  },
};

/** qemuBuildMemoryGetPagesize's prealloc for a virtio-mem device: immediate
 *  allocation, or huge pages (its own, or the domain's for its cell). */
function virtioMemPrealloc(m: MemoryDeviceDef, def: DomainDef): boolean {
  if (def.memoryBacking.allocation === 'immediate') return true;
  if (m.pagesizeKiB) return m.pagesizeKiB !== 4;
  const pages = def.memoryBacking.hugepages ?? [];
  const page = (m.targetNode >= 0 ? pages.find((p) => p.nodeset?.includes(m.targetNode)) : undefined) ?? pages.find((p) => !p.nodeset);
  return page !== undefined && page.sizeKiB !== 4n;
}


/** qemuValidateDomainDeviceDefMemory's SGX checks: each host node the section comes
 *  from (node 0 when it names none) must have as much EPC. libvirt indexes the sections
 *  by node number. */
function validateEpc(m: MemoryDeviceDef, sections: { node: number; sizeKiB: number }[]): void {
  if (!sections.length) throw unsupportedConfig("this QEMU version didn't provide SGX EPC NUMA info");
  for (const node of m.sourceNodes ?? [0]) {
    const sec = sections[node];
    // (libvirt reads past its array there)
    if (!sec) throw notImplemented(`<memory model='sgx-epc'> from host node ${node}, beyond the SGX sections QEMU reported`);
    if (m.sizeKiB > sec.sizeKiB) throw unsupportedConfig(`sgx epc size ${sec.sizeKiB} on host node ${node} is less than requested size ${m.sizeKiB}`);
  }
}
