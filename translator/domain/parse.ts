// Sections of the domain level (libvirt's virDomainDefParseXML outside <devices>) that
// have no module of their own: the root, identity, domain type, title, memory sizes,
// vCPUs, lifecycle actions, power management and metadata. stages/parse.ts calls them,
// and the other modules' sections, in libvirt's order. Where libvirt ignores an element,
// so do we; where it would act on one virtgold does not implement, it is refused.
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef, LifecycleAction } from '../model.js';
import { emptyDevices } from '../devices/registry.js';
import { propOnOff, propUInt, propYesNo } from '../xml/props.js';
import { child, elements, isElement, textOf, type XElement } from '../xml/tree.js';
import { deterministicUuid, parseUuid } from './ids.js';
import { emptyMisc } from './misc.js';

/** Elements libvirt's domain parser acts on, per level. Others it ignores, and so do we. */
const DOMAIN_CHILDREN_UNSUPPORTED = [
  'maxMemory', 'blkiotune', 'memtune', 'memoryBacking', 'vcpus', 'iothreads', 'iothreadids',
  'cputune', 'throttlegroups',
];
/** virScaleInteger: a unit suffix to a multiplier, or libvirt's error. */
export function unitScale(unit: string | undefined, defaultScale: number): number {
  if (unit === undefined || unit === '') return defaultScale;
  const u = unit.toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return 1;
  let base: number;
  if (u.length === 1 || u.slice(1) === 'ib') base = 1024;
  else if (u.slice(1) === 'b') base = 1000;
  else throw new TranslationError('invalid argument', `unknown suffix '${unit}'`);
  const power = 'kmgtpe'.indexOf(u[0]!) + 1;
  if (power === 0) throw new TranslationError('invalid argument', `unknown suffix '${unit}'`);
  return base ** power;
}

/** virDomainParseMemory: value with unit → KiB, rounded up. Returns undefined when absent. */
function parseMemoryEl(domain: XElement, name: string): { kib: number; el: XElement } | undefined {
  const el = child(domain, name);
  if (!el) return undefined;
  const raw = textOf(el);
  if (raw === '') return undefined; // an empty <memory/> counts as no memory
  if (!/^\+?\d+$/.test(raw) || BigInt(raw) > 2n ** 64n - 1n) {
    throw xmlError(`Invalid value '${raw}' for element or attribute './${name}[1]'`);
  }
  const scale = unitScale(el.attrs.unit, 1024);
  const bytes = BigInt(raw) * BigInt(scale);
  if (bytes > 2n ** 64n - 1n) {
    throw new TranslationError('bare', `numerical overflow: value too large: ${raw}${el.attrs.unit ?? ''}`);
  }
  const kib = (bytes + 1023n) / 1024n;
  // Beyond what QEMU or libvirt accept on this platform (and beyond exact doubles).
  if (kib > BigInt(Number.MAX_SAFE_INTEGER)) throw notImplemented(`<${name}> larger than 2^53 KiB`);
  return { kib: Number(kib), el };
}

const LIFECYCLE: LifecycleAction[] = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart'];

function parseAction(domain: XElement, name: string, dflt: LifecycleAction): LifecycleAction {
  const el = child(domain, name);
  const v = el ? textOf(el) : '';
  if (v === '') return dflt;
  if (!LIFECYCLE.includes(v as LifecycleAction)) throw unsupportedConfig(`unknown ${name} action: ${v}`);
  // (coredump-* outside on_crash is refused in validation: domain/misc.ts)
  return v as LifecycleAction;
}

export function parsePm(domain: XElement): DomainDef['pm'] {
  const el = child(domain, 'pm');
  const pm: DomainDef['pm'] = {};
  if (!el) return pm;
  const mem = child(el, 'suspend-to-mem');
  const disk = child(el, 'suspend-to-disk');
  const m = mem && propYesNo(mem, 'enabled');
  const d = disk && propYesNo(disk, 'enabled');
  if (m) pm.suspendToMem = m;
  if (d) pm.suspendToDisk = d;
  return pm;
}

function parseVcpuEl(domain: XElement): DomainDef['vcpu'] {
  const el = child(domain, 'vcpu');
  if (!el) return { max: 1, placement: 'static' };
  const raw = textOf(el);
  const max = /^\d+$/.test(raw) && Number(raw) <= 4294967295 ? Number(raw) : undefined;
  if (max === undefined) throw xmlError('maximum vcpus count must be an integer');
  if (el.attrs.cpuset !== undefined) throw notImplemented('<vcpu cpuset>');
  const placement = el.attrs.placement ?? 'static';
  if (placement !== 'static' && placement !== 'auto') throw xmlError(`Unsupported CPU placement mode '${placement}'`);
  const out: DomainDef['vcpu'] = { max, placement };
  const cur = propUInt(el, 'current');
  if (cur !== undefined) {
    if (cur === 0) throw unsupportedConfig("vcpu 0 can't be offline");
    if (cur > max) throw unsupportedConfig('maximum vCPU count must not be less than current vCPU count');
    if (cur !== max) out.current = cur;
  }
  return out;
}

/** virDomainDefParseNode's root check, and the definition the sections fill in. */
export function newDomainDef(root: XElement): DomainDef {
  if (root.name !== 'domain') throw xmlError(`unexpected root element <${root.name}>, expecting <domain>`);
  // Elements virtgold does not implement at all, refused before anything is read.
  for (const c of elements(root)) {
    if (DOMAIN_CHILDREN_UNSUPPORTED.includes(c.name)) throw notImplemented(`<${c.name}>`);
  }
  return {
    virtType: 'qemu', name: '', uuid: '', misc: emptyMisc(), memory: { totalKiB: 0 }, vcpu: { max: 1, placement: 'static' },
    os: { type: 'hvm', bootDevs: [] }, features: {} as DomainDef['features'], clock: {} as DomainDef['clock'],
    onReboot: 'restart', onPoweroff: 'destroy', onCrash: 'destroy', pm: {}, devices: emptyDevices(),
  };
}

/** virDomainDefParseIDs: name and uuid (<genid> is misc.ts's). Returns whether libvirt
 *  would have generated the uuid (<sysinfo> may then supply it). */
export function parseIds(root: XElement, def: DomainDef): boolean {
  const nameEl = child(root, 'name');
  const name = nameEl ? textOf(nameEl) : '';
  if (!name) throw new TranslationError('bare', 'missing name information');
  def.name = name;
  // virXPathString: an empty <uuid/> is no uuid.
  const uuidEl = child(root, 'uuid');
  const raw = uuidEl ? textOf(uuidEl) : '';
  if (raw === '') {
    def.uuid = deterministicUuid(name);
    return true;
  }
  const u = parseUuid(raw);
  if (!u) throw internalError('malformed uuid element');
  def.uuid = u;
  return false;
}

/** virDomainDefParseCaps, its first part: the domain type (the os type is os.ts's). */
export function parseVirtType(root: XElement, def: DomainDef): void {
  const virtType = root.attrs.type;
  if (!virtType) throw internalError('missing domain type attribute');
  const VIRT_TYPES = ['none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz', 'hvf'];
  if (!VIRT_TYPES.includes(virtType)) throw unsupportedConfig(`invalid domain type ${virtType}`);
  if (virtType !== 'qemu' && virtType !== 'kvm') throw notImplemented(`<domain type='${virtType}'>`);
  def.virtType = virtType;
}

/** <title> and <description>, right after the os type. */
export function parseTitle(root: XElement, def: DomainDef): void {
  const titleEl = child(root, 'title');
  if (titleEl) {
    const t = textOf(titleEl);
    if (t.includes('\n')) throw xmlError("Domain title can't contain newlines");
    if (t) def.title = t;
  }
  const descEl = child(root, 'description');
  if (descEl && textOf(descEl)) def.description = textOf(descEl);
}

/** virDomainDefParseMemory: <memory> and <currentMemory>. A missing or zero size is
 *  refused in post-parse, as libvirt does. */
export function parseMemory(root: XElement, def: DomainDef): void {
  const mem = parseMemoryEl(root, 'memory');
  def.memory.totalKiB = mem?.kib ?? 0;
  const dumpCore = mem && propOnOff(mem.el, 'dumpCore');
  if (dumpCore) def.memory.dumpCore = dumpCore;
  const cur = parseMemoryEl(root, 'currentMemory');
  if (cur) def.memory.currentKiB = cur.kib;
}

/** virDomainDefTunablesParse: <vcpu> (via virDomainVcpuParse) and <numatune>. */
export function parseTunables(root: XElement, def: DomainDef): void {
  def.vcpu = parseVcpuEl(root);
}

/** virDomainNumatuneParseXML, after the guest NUMA cells: only in the form libvirt
 *  writes for <vcpu placement='auto'>. */
export function parseNumatune(root: XElement): void {
  const numatune = child(root, 'numatune');
  if (numatune) {
    const mem = elements(numatune);
    const implied = mem.length === 1 && mem[0]!.name === 'memory' && Object.keys(numatune.attrs).length === 0 &&
      (mem[0]!.attrs.mode ?? 'strict') === 'strict' && mem[0]!.attrs.placement === 'auto' &&
      Object.keys(mem[0]!.attrs).every((a) => a === 'mode' || a === 'placement') && child(root, 'vcpu')?.attrs.placement === 'auto';
    if (!implied) throw notImplemented('<numatune>');
  }
}

/** virDomainDefLifecycleParse: on_reboot, on_poweroff, on_crash (on_lockfailure is
 *  misc.ts's, <pm> follows it). */
export function parseLifecycle(root: XElement, def: DomainDef): void {
  def.onReboot = parseAction(root, 'on_reboot', 'restart');
  def.onPoweroff = parseAction(root, 'on_poweroff', 'destroy');
  def.onCrash = parseAction(root, 'on_crash', 'destroy');
}

/** <metadata>, read after <keywrap>, copied as it stands. */
export function parseMetadata(root: XElement, def: DomainDef): void {
  const metaEl = child(root, 'metadata');
  if (metaEl) {
    const decls = (e: XElement) => Object.entries(e.attrs).filter(([k]) => k === 'xmlns' || k.startsWith('xmlns:'));
    def.metadata = { elements: elements(metaEl), own: decls(metaEl), inherited: Object.fromEntries(decls(root)) };
    const hasPi = (e: XElement): boolean => e.children.some((c) => typeof c === 'object' && ('pi' in c || (isElement(c) && hasPi(c))));
    if (def.metadata.elements.some(hasPi)) throw notImplemented('processing instructions inside <metadata> elements');
  }
}

/** A name with '/' is refused at the very end of post-parse
 *  (virDomainDefPostParseCheckFeatures: the qemu driver lacks NAME_SLASH). */
export function postParseCheckName(def: DomainDef): void {
  if (def.name.includes('/')) throw xmlError(`name ${def.name} cannot contain '/'`);
}
