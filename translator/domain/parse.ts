// Domain-level elements of the domain XML (libvirt's virDomainDefParseXML outside
// <devices>): identity, metadata, memory, vCPUs, OS and boot, features, CPU, clock,
// lifecycle actions, power management. Where libvirt ignores an element, so do we;
// where it would act on one virtgold does not implement, it is refused as unsupported.
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef, LifecycleAction } from '../model.js';
import { emptyDevices } from '../devices/registry.js';
import { propOnOff, propUInt, propYesNo } from '../xml/props.js';
import { child, elements, isElement, textOf, type XElement } from '../xml/tree.js';
import { parseCpu } from './cpu.js';
import { parseNuma } from './numa.js';
import { parseClock } from './clock.js';
import { parseFeatures } from './features.js';
import { deterministicUuid, parseUuid } from './ids.js';
import { parseMiscEarly, parseMiscMiddle, parseMiscSeclabels } from './misc.js';
import { parseBootOptions, parseOsType } from './os.js';

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
function parseMemory(domain: XElement, name: string): { kib: number; el: XElement } | undefined {
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

function parseLifecycle(domain: XElement, name: string, dflt: LifecycleAction): LifecycleAction {
  const el = child(domain, name);
  const v = el ? textOf(el) : '';
  if (v === '') return dflt;
  if (!LIFECYCLE.includes(v as LifecycleAction)) throw unsupportedConfig(`unknown ${name} action: ${v}`);
  // (coredump-* outside on_crash is refused in validation: domain/misc.ts)
  return v as LifecycleAction;
}

function parsePm(domain: XElement): DomainDef['pm'] {
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

function parseVcpu(domain: XElement): DomainDef['vcpu'] {
  const el = child(domain, 'vcpu');
  if (!el) return { max: 1, placement: 'static' };
  const raw = textOf(el);
  const max = /^\d+$/.test(raw) && Number(raw) <= 4294967295 ? Number(raw) : undefined;
  if (max === undefined) throw xmlError('maximum vcpus count must be an integer');
  if (max === 0) throw internalError('CPU IDs in <numa> exceed the <vcpu> count');
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

/** Everything but the devices, read from the <domain> root. */
export function parseDomainLevel(root: XElement): DomainDef {
  if (root.name !== 'domain') throw xmlError(`unexpected root element <${root.name}>, expecting <domain>`);
  const virtType = root.attrs.type;
  if (virtType === undefined) throw xmlError('missing domain type attribute');
  const VIRT_TYPES = ['none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz', 'hvf'];
  if (!VIRT_TYPES.includes(virtType)) throw unsupportedConfig(`invalid domain type ${virtType}`);
  if (virtType !== 'qemu' && virtType !== 'kvm') throw notImplemented(`<domain type='${virtType}'>`);

  for (const c of elements(root)) {
    if (DOMAIN_CHILDREN_UNSUPPORTED.includes(c.name)) throw notImplemented(`<${c.name}>`);
  }

  // <numatune> only in the form libvirt writes for <vcpu placement='auto'>.
  const numatune = child(root, 'numatune');
  if (numatune) {
    const mem = elements(numatune);
    const implied = mem.length === 1 && mem[0]!.name === 'memory' && Object.keys(numatune.attrs).length === 0 &&
      (mem[0]!.attrs.mode ?? 'strict') === 'strict' && mem[0]!.attrs.placement === 'auto' &&
      Object.keys(mem[0]!.attrs).every((a) => a === 'mode' || a === 'placement') && child(root, 'vcpu')?.attrs.placement === 'auto';
    if (!implied) throw notImplemented('<numatune>');
  }

  const nameEl = child(root, 'name');
  const name = nameEl ? textOf(nameEl) : '';
  if (!name) throw new TranslationError('bare', 'missing name information');
  if (name.includes('/')) throw xmlError(`name ${name} cannot contain '/'`);

  const uuidEl = child(root, 'uuid');
  let uuid: string;
  if (uuidEl) {
    const u = parseUuid(textOf(uuidEl));
    if (!u) throw internalError('malformed uuid element');
    uuid = u;
  } else {
    uuid = deterministicUuid(name);
  }

  const misc = parseMiscEarly(root);
  const def: DomainDef = {
    virtType,
    name,
    uuid,
    misc,
    memory: { totalKiB: 0 },
    vcpu: parseVcpu(root),
    os: parseOsType(root),
    features: parseFeatures(root),
    clock: parseClock(root),
    // libvirt reads on_reboot before on_poweroff
    onReboot: parseLifecycle(root, 'on_reboot', 'restart'),
    onPoweroff: parseLifecycle(root, 'on_poweroff', 'destroy'),
    onCrash: parseLifecycle(root, 'on_crash', 'destroy'),
    pm: parsePm(root),
    devices: emptyDevices(),
  };
  parseBootOptions(root, def.os);

  const titleEl = child(root, 'title');
  if (titleEl) {
    const t = textOf(titleEl);
    if (t.includes('\n')) throw xmlError("Domain title can't contain newlines");
    if (t) def.title = t;
  }
  const descEl = child(root, 'description');
  if (descEl && textOf(descEl)) def.description = textOf(descEl);
  parseMiscSeclabels(root, def);
  const metaEl = child(root, 'metadata');
  if (metaEl) {
    const decls = (e: XElement) => Object.entries(e.attrs).filter(([k]) => k === 'xmlns' || k.startsWith('xmlns:'));
    def.metadata = { elements: elements(metaEl), own: decls(metaEl), inherited: Object.fromEntries(decls(root)) };
    const hasPi = (e: XElement): boolean => e.children.some((c) => typeof c === 'object' && ('pi' in c || (isElement(c) && hasPi(c))));
    if (def.metadata.elements.some(hasPi)) throw notImplemented('processing instructions inside <metadata> elements');
  }

  // A missing or zero size is refused in post-parse, as libvirt does.
  const mem = parseMemory(root, 'memory');
  def.memory.totalKiB = mem?.kib ?? 0;
  const dumpCore = mem && propOnOff(mem.el, 'dumpCore');
  if (dumpCore) def.memory.dumpCore = dumpCore;
  const cur = parseMemory(root, 'currentMemory');
  if (cur) def.memory.currentKiB = cur.kib;

  const cpu = parseCpu(root);
  if (cpu) def.cpu = cpu;
  const numa = parseNuma(root, def.vcpu.max, unitScale);
  if (numa) {
    def.numa = numa.cells;
    if (numa.interconnects.length) def.numaInterconnects = numa.interconnects;
  }
  parseMiscMiddle(root, def);

  return def;
}
