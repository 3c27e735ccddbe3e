// Domain-level elements of the domain XML (libvirt's virDomainDefParseXML outside
// <devices>): identity, metadata, memory, vCPUs, OS and boot, features, CPU, clock,
// lifecycle actions, power management. Where libvirt ignores an element, so do we;
// where it would act on one virtgold does not implement, it is refused as unsupported.
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef, LifecycleAction } from '../model.js';
import { emptyDevices } from '../devices/registry.js';
import { propYesNo } from '../xml/props.js';
import { child, elements, isElement, textOf, type XElement } from '../xml/tree.js';
import { parseCpu } from './cpu.js';
import { parseNuma } from './numa.js';
import { parseClock } from './clock.js';
import { parseFeatures } from './features.js';
import { deterministicUuid, parseUuid } from './ids.js';
import { parseMemoryLevel } from './memory.js';
import { guestNumaCells, parseNumatune } from './numatune.js';
import { parseMiscEarly, parseMiscMiddle, parseMiscSeclabels } from './misc.js';
import { parseBootOptions, parseOsType } from './os.js';
import { parseTunables } from './tuning.js';
import { unitScale } from './units.js';

/** Elements libvirt's domain parser acts on, per level. Others it ignores, and so do we. */
const DOMAIN_CHILDREN_UNSUPPORTED = [
  'throttlegroups',
];

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

/** virDomainDefParseMemory then virDomainDefTunablesParse (which reads <vcpu> too). */
function parseSizesAndTunables(root: XElement): Pick<DomainDef, 'memory' | 'vcpu' | 'memoryBacking' | 'tuning' | 'maxMemory'> {
  const part = { memory: { totalKiB: 0 } } as DomainDef;
  parseMemoryLevel(root, part);
  parseTunables(root, part);
  const { memory, vcpu, memoryBacking, tuning, maxMemory } = part;
  return { memory, vcpu, memoryBacking, tuning, ...(maxMemory ? { maxMemory } : {}) };
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
    // virDomainDefParseCaps reads the OS type before the sizes and tunables.
    os: parseOsType(root),
    ...parseSizesAndTunables(root),
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

  const cpu = parseCpu(root);
  if (cpu) def.cpu = cpu;
  const numa = parseNuma(root, def.vcpu.max, unitScale);
  if (numa) {
    def.numa = numa.cells;
    if (numa.interconnects.length) def.numaInterconnects = numa.interconnects;
  }
  parseNumatune(root, def, guestNumaCells(def));
  // Automatic memory placement without any pinning makes the vCPUs' placement automatic too.
  const t = def.tuning;
  if (def.numatune?.placement === 'auto' && !def.vcpu.cpuset && !t.cputune.vcpupin.size && !t.cputune.emulatorpin && !t.iothreads.some((x) => x.pin)) {
    def.vcpu.placement = 'auto';
  }
  parseMiscMiddle(root, def);

  return def;
}
