// Sections of the domain level (libvirt's virDomainDefParseXML outside <devices>) that
// have no module of their own: the root, identity, domain type, title, numatune's
// consequence, lifecycle actions, power management and metadata. stages/parse.ts calls them,
// and the other modules' sections, in libvirt's order. Where libvirt ignores an element,
// so do we; where it would act on one virtgold does not implement, it is refused.
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef, LifecycleAction } from '../model.js';
import { emptyDevices } from '../devices/registry.js';
import { propYesNo } from '../xml/props.js';
import { child, elements, isElement, textOf, type XElement } from '../xml/tree.js';
import { deterministicUuid, parseUuid } from './ids.js';
import { emptyMisc } from './misc.js';
import { guestNumaCells, parseNumatune } from './numatune.js';

/** Elements libvirt's domain parser acts on, per level. Others it ignores, and so do we. */
const DOMAIN_CHILDREN_UNSUPPORTED = ['throttlegroups'];
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

/** virDomainDefParseNode's root check, and the definition the sections fill in. */
export function newDomainDef(root: XElement): DomainDef {
  if (root.name !== 'domain') throw xmlError(`unexpected root element <${root.name}>, expecting <domain>`);
  // Elements virtgold does not implement at all, refused before anything is read.
  for (const c of elements(root)) {
    if (DOMAIN_CHILDREN_UNSUPPORTED.includes(c.name)) throw notImplemented(`<${c.name}>`);
  }
  // The rest (features, clock, memory backing, tuning, …) every run of the sections sets.
  const def: Partial<DomainDef> = {
    virtType: 'qemu', name: '', uuid: '', misc: emptyMisc(), memory: { totalKiB: 0 }, vcpu: { max: 1, placement: 'static' },
    os: { type: 'hvm', bootDevs: [] }, onReboot: 'restart', onPoweroff: 'destroy', onCrash: 'destroy', pm: {}, devices: emptyDevices(),
  };
  return def as DomainDef;
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
  if (virtType !== 'qemu' && virtType !== 'kvm' && virtType !== 'hvf') throw notImplemented(`<domain type='${virtType}'>`);
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

/** virDomainNumatuneParseXML, after the guest NUMA cells; automatic memory placement
 *  without any pinning makes the vCPUs' placement automatic too. */
export function parseNumatuneSection(root: XElement, def: DomainDef): void {
  parseNumatune(root, def, guestNumaCells(def));
  const t = def.tuning;
  if (def.numatune?.placement === 'auto' && !def.vcpu.cpuset && !t.cputune.vcpupin.size && !t.cputune.emulatorpin && !t.iothreads.some((x) => x.pin)) {
    def.vcpu.placement = 'auto';
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
