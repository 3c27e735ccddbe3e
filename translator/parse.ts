// Domain XML → DomainDef (libvirt's conf/ parsing, for the subset virtgold implements).
// Where libvirt ignores an element, so do we; where libvirt would act on an element that
// is not implemented here, we refuse it with an `unsupported` error naming it, never
// produce output that silently differs from libvirt's.
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from './errors.js';
import type {
  AudioDef, ControllerDef, CpuDef, DeviceAddress, DeviceInfo, DomainDef, HostdevDef, InputDef,
  LifecycleAction, MemballoonDef, PanicDef, PciHostAddress, TriState,
} from './model.js';
import { child, elements, isElement, parseXml, textOf, type XElement } from './xml.js';

// ---- small readers -------------------------------------------------------------

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const VF_TOKEN_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** libvirt's virUUIDParse: 32 hex digits, dashes allowed between groups, surrounding blanks ignored. */
function parseUuid(raw: string): string | undefined {
  const s = raw.trim().replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(s) || !UUID_RE.test(raw.trim())) return undefined;
  const h = s.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** strtoul with base 0, as virStrToLong_uip: decimal, 0x hex or 0 octal, whole string. */
function parseUintBase0(s: string): number | undefined {
  const t = s.trim();
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^0[0-7]*$/.test(t)) n = parseInt(t, 8);
  else if (/^[1-9][0-9]*$/.test(t)) n = parseInt(t, 10);
  else return undefined;
  return Number.isSafeInteger(n) && n <= 0xffffffff ? n : undefined;
}

function yesNo(e: XElement, attr: string): 'yes' | 'no' | undefined {
  const v = e.attrs[attr];
  if (v === undefined) return undefined;
  if (v !== 'yes' && v !== 'no') {
    throw xmlError(`Invalid value for attribute '${attr}' in element '${e.name}': '${v}'.`);
  }
  return v;
}

function onOff(e: XElement, attr: string): TriState | undefined {
  const v = e.attrs[attr];
  if (v === undefined) return undefined;
  if (v !== 'on' && v !== 'off') {
    throw xmlError(`Invalid value for attribute '${attr}' in element '${e.name}': '${v}'.`);
  }
  return v;
}

/** Elements libvirt's domain parser acts on, per level. Others it ignores, and so do we. */
const DOMAIN_CHILDREN_UNSUPPORTED = [
  'genid', 'maxMemory', 'blkiotune', 'memtune', 'memoryBacking', 'vcpus', 'iothreads', 'iothreadids',
  'cputune', 'resource', 'sysinfo', 'bootloader', 'bootloader_args', 'idmap', 'on_lockfailure',
  'perf', 'seclabel', 'keywrap', 'launchSecurity', 'throttlegroups', 'commandline', 'capabilities',
  'override', 'deprecation',
];
const DEVICE_CHILDREN_UNSUPPORTED = [
  'disk', 'lease', 'filesystem', 'sound', 'graphics', 'video', 'console', 'serial', 'parallel', 'channel',
  'smartcard', 'redirdev', 'redirfilter', 'hub', 'watchdog', 'rng', 'tpm', 'shmem', 'memory', 'iommu',
  'vsock', 'crypto', 'nvram', 'pstore',
];
const OS_CHILDREN_UNSUPPORTED = [
  'loader', 'nvram', 'kernel', 'initrd', 'cmdline', 'dtb', 'shim', 'init', 'initarg', 'initenv', 'initdir',
  'inituser', 'initgroup', 'bios', 'smbios', 'acpi', 'firmware', 'idmap',
];
const FEATURES = [
  'acpi', 'apic', 'pae', 'hap', 'viridian', 'privnet', 'hyperv', 'kvm', 'pvspinlock', 'capabilities', 'pmu',
  'vmport', 'gic', 'smm', 'ioapic', 'hpt', 'vmcoreinfo', 'htm', 'nested-hv', 'msrs', 'ccf-assist', 'xen',
  'cfpc', 'sbbc', 'ibs', 'tcg', 'async-teardown', 'ras', 'ps2',
];

// ---- memory -------------------------------------------------------------------

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

// ---- addresses ----------------------------------------------------------------

function pciField(addr: XElement, name: string): number {
  const raw = addr.attrs[name];
  if (raw === undefined) return 0;
  const v = parseUintBase0(raw);
  if (v === undefined) throw xmlError(`Invalid value for attribute '${name}' in element 'address': '${raw}'. Expected non-negative integer value`);
  return v;
}

function checkPciRanges(a: { domain: number; bus: number; slot: number; function: number }): void {
  if (a.domain > 0xffff) throw xmlError(`Invalid PCI address domain='0x${hex(a.domain, 4)}', must be <= 0xFFFF`);
  if (a.bus > 0xff) throw xmlError(`Invalid PCI address bus='0x${hex(a.bus, 2)}', must be <= 0xFF`);
  if (a.slot > 0x1f) throw xmlError(`Invalid PCI address slot='0x${hex(a.slot, 2)}', must be <= 0x1F`);
  if (a.function > 7) throw xmlError(`Invalid PCI address function=0x${a.function.toString(16)}, must be <= 7`);
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** domain/bus/slot/function of an <address>, range-checked; used for host and guest addresses. */
function parsePciAddress(addr: XElement): PciHostAddress {
  const a = {
    domain: pciField(addr, 'domain'),
    bus: pciField(addr, 'bus'),
    slot: pciField(addr, 'slot'),
    function: pciField(addr, 'function'),
  };
  checkPciRanges(a);
  return a;
}

/** vf-token extension: <vf-token uuid='…'/> inside the PCI source address. */
function parseVfToken(addr: XElement): string | undefined {
  const tokens = elements(addr, 'vf-token');
  if (tokens.length === 0) return undefined;
  if (tokens.length > 1) throw xmlError('only one <vf-token> is allowed in a PCI source address');
  const uuid = tokens[0]!.attrs.uuid;
  if (uuid === undefined) throw xmlError("missing 'uuid' attribute in <vf-token>");
  if (!VF_TOKEN_RE.test(uuid)) throw xmlError(`malformed vf-token uuid '${uuid}'`);
  return uuid.toLowerCase();
}

function parseZpci(z: XElement): { uid?: number; fid?: number } {
  const out: { uid?: number; fid?: number } = {};
  for (const k of ['uid', 'fid'] as const) {
    const raw = z.attrs[k];
    if (raw === undefined) continue;
    const v = parseUintBase0(raw);
    if (v === undefined) throw xmlError(`Invalid value for attribute '${k}' in element 'zpci': '${raw}'. Expected non-negative integer value`);
    out[k] = v;
  }
  if (out.uid !== undefined && (out.uid < 1 || out.uid > 0xffff)) {
    throw xmlError(`Invalid PCI address uid='0x${hex(out.uid, 4)}', must be > 0x0000 and <= 0xffff`);
  }
  return out;
}

/** The device's guest address (<address type=…/> directly under the device). */
function parseDeviceAddress(dev: XElement, what: string): DeviceAddress | undefined {
  const addr = child(dev, 'address');
  if (!addr) return undefined;
  const type = addr.attrs.type;
  if (type === undefined) throw xmlError('No type specified for device address');
  if (type === 'pci') {
    const a = parsePciAddress(addr);
    const multifunction = onOff(addr, 'multifunction');
    const z = child(addr, 'zpci');
    return { type: 'pci', ...a, ...(multifunction ? { multifunction } : {}), ...(z ? { zpci: parseZpci(z) } : {}) };
  }
  if (type === 'ccw') {
    const f = (k: string) => {
      const raw = addr.attrs[k];
      const v = raw === undefined ? undefined : parseUintBase0(raw);
      if (v === undefined) throw xmlError(`Cannot parse <address> '${k}' attribute`);
      return v;
    };
    const hasAny = ['cssid', 'ssid', 'devno'].some((k) => addr.attrs[k] !== undefined);
    if (!hasAny) throw notImplemented(`<address type='ccw'/> without cssid/ssid/devno on ${what}`);
    const a = { type: 'ccw' as const, cssid: f('cssid'), ssid: f('ssid'), devno: f('devno') };
    if (a.cssid > 0xfe || a.ssid > 3 || a.devno > 0xffff) throw xmlError('Invalid specification for virtio ccw address');
    return a;
  }
  throw notImplemented(`<address type='${type}'> on ${what}`);
}

/** The parts of virDomainDeviceInfo that devices in scope carry: address, boot order, rom. */
function parseDeviceInfo(dev: XElement, what: string, allowBootRom: boolean): DeviceInfo {
  const info: DeviceInfo = {};
  // Only user aliases ('ua-…') survive in inactive XML and become QEMU ids.
  const alias = child(dev, 'alias')?.attrs.name;
  if (alias?.startsWith('ua-')) throw notImplemented(`user alias <alias name='${alias}'/> on ${what}`);
  const address = parseDeviceAddress(dev, what);
  if (address) info.address = address;
  const boot = child(dev, 'boot');
  const rom = child(dev, 'rom');
  if (!allowBootRom && (boot || rom)) throw notImplemented(`<${boot ? 'boot' : 'rom'}> in ${what}`);
  if (boot) {
    if (boot.attrs.loadparm !== undefined) throw notImplemented(`<boot loadparm> in ${what}`);
    const raw = boot.attrs.order;
    if (raw === undefined) throw xmlError('missing boot order attribute');
    const order = /^\d+$/.test(raw) ? Number(raw) : undefined;
    if (order === undefined || order > 4294967295) {
      throw xmlError(`Invalid value for attribute 'order' in element 'boot': '${raw}'. Expected non-negative integer value`);
    }
    if (order === 0) throw xmlError("Invalid value for attribute 'order' in element 'boot': Zero is not permitted");
    info.bootIndex = order;
  }
  if (rom) {
    const r: NonNullable<DeviceInfo['rom']> = {};
    const enabled = yesNo(rom, 'enabled');
    const bar = onOff(rom, 'bar');
    if (enabled) r.enabled = enabled;
    if (bar) r.bar = bar;
    if (rom.attrs.file !== undefined) r.file = rom.attrs.file;
    if (r.enabled === 'no' && (r.bar !== undefined || r.file !== undefined)) {
      throw unsupportedConfig('ROM tuning is not supported when ROM is disabled');
    }
    if (Object.keys(r).length) info.rom = r;
  }
  return info;
}

// ---- devices ------------------------------------------------------------------

const USB_MODELS = [
  'piix3-uhci', 'piix4-uhci', 'ehci', 'ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3', 'vt82c686b-uhci',
  'pci-ohci', 'nec-xhci', 'qusb1', 'qusb2', 'qemu-xhci', 'none',
];
export const USB_MODELS_IMPLEMENTED = ['piix3-uhci', 'piix4-uhci', 'ehci', 'ich9-ehci1', 'nec-xhci', 'qemu-xhci', 'none'];
const CONTROLLER_TYPES = ['ide', 'fdc', 'scsi', 'sata', 'virtio-serial', 'ccid', 'usb', 'pci', 'xenbus', 'isa'];

function parseController(e: XElement): ControllerDef {
  const type = e.attrs.type ?? 'ide';
  if (!CONTROLLER_TYPES.includes(type)) throw xmlError(`Invalid value for attribute 'type' in element 'controller': '${type}'.`);
  if (type !== 'usb' && type !== 'pci') throw notImplemented(`<controller type='${type}'>`);
  let index = -1; // libvirt gives unindexed controllers the lowest free index after parsing
  if (e.attrs.index !== undefined) {
    const raw = e.attrs.index;
    if (!/^[+-]?\d+$/.test(raw) || Math.abs(Number(raw)) > 2147483647) {
      throw xmlError(`Invalid value for attribute 'index' in element 'controller': '${raw}'. Expected integer value`);
    }
    if (Number(raw) < 0) throw xmlError(`Invalid value for attribute 'index' in element 'controller': '${raw}'. Expected non-negative value`);
    index = Number(raw);
  }
  for (const c of elements(e)) {
    if (['driver', 'target', 'master', 'model', 'pcihole64'].includes(c.name)) {
      throw notImplemented(`<${c.name}> in <controller type='${type}'>`);
    }
  }
  const model = e.attrs.model;
  const def: ControllerDef = { type, index, info: parseDeviceInfo(e, `<controller type='${type}'>`, false) };
  if (type === 'usb') {
    if (model !== undefined) {
      if (!USB_MODELS.includes(model)) throw unsupportedConfig(`Unknown model type '${model}'`);
      if (!USB_MODELS_IMPLEMENTED.includes(model)) throw notImplemented(`USB controller model '${model}'`);
      def.model = model;
    }
    if (e.attrs.ports !== undefined) {
      const raw = e.attrs.ports;
      if (!/^[+-]?\d+$/.test(raw)) throw xmlError(`Invalid value for attribute 'ports' in element 'controller': '${raw}'. Expected integer value`);
      def.ports = Number(raw);
    }
  } else {
    if (model !== undefined && model !== 'pci-root') throw notImplemented(`<controller type='pci' model='${model}'>`);
    if (model === 'pci-root' && index > 0) throw xmlError('pci-root and pcie-root controllers should have index 0');
    if (index > 0) throw notImplemented(`<controller type='pci' index='${index}'>`);
    if (model === undefined) {
      throw xmlError("The PCI controller with index='0' must be model='pci-root' for this machine type, but model='(null)' was found instead");
    }
    def.model = 'pci-root';
    if (def.info.address) throw unsupportedConfig('pci-root and pcie-root controllers should not have an address');
  }
  return def;
}

/** virDomainControllerInsertPreAlloced: among controllers of its type, a new one goes
 *  before those with a higher index; one without an index goes after the last of its
 *  type; a type not seen yet goes at the end. Types are not sorted against each other. */
function insertController(list: ControllerDef[], c: ControllerDef): void {
  let at = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    const cur = list[i]!;
    if (cur.type !== c.type) continue;
    if (c.index === -1) {
      at = i + 1;
      break;
    }
    if (cur.index > c.index) at = i;
    else if (at === -1) {
      at = i + 1;
      break;
    }
  }
  if (at === -1) list.push(c);
  else list.splice(at, 0, c);
}

function parseInput(e: XElement): InputDef {
  const type = e.attrs.type;
  const bus = e.attrs.bus ?? 'ps2';
  if (type !== undefined && !['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'].includes(type)) {
    throw unsupportedConfig(`unknown input device type '${type}'`);
  }
  if (!['ps2', 'usb', 'xen', 'parallels', 'virtio', 'none'].includes(bus)) {
    throw unsupportedConfig(`unknown input bus type '${bus}'`);
  }
  if ((type === 'mouse' || type === 'keyboard') && bus === 'ps2' && elements(e).every((c) => c.name === 'alias')) {
    return { type, bus };
  }
  throw notImplemented(`<input type='${type ?? ''}' bus='${bus}'>`);
}

function parseAudio(e: XElement): AudioDef {
  const type = e.attrs.type;
  const AUDIO_TYPES = ['none', 'alsa', 'coreaudio', 'jack', 'oss', 'pulseaudio', 'sdl', 'spice', 'file', 'dbus', 'pipewire'];
  if (type !== undefined && !AUDIO_TYPES.includes(type)) throw xmlError(`Invalid value for attribute 'type' in element 'audio': '${type}'.`);
  if (type !== 'none') throw notImplemented(`<audio type='${type ?? ''}'>`);
  if (elements(e).length) throw notImplemented(`children of <audio type='none'>`);
  const raw = e.attrs.id;
  if (raw === undefined) throw xmlError("Missing required attribute 'id' in element 'audio'");
  const id = /^\d+$/.test(raw) ? Number(raw) : undefined;
  if (id === undefined) throw xmlError(`Invalid value for attribute 'id' in element 'audio': '${raw}'. Expected non-negative integer value`);
  if (id === 0) throw xmlError("Invalid value for attribute 'id' in element 'audio': Zero is not permitted");
  return { id, type };
}

const BALLOON_MODELS = ['virtio', 'xen', 'none', 'virtio-transitional', 'virtio-non-transitional'];

function parseMemballoon(e: XElement): MemballoonDef {
  const model = e.attrs.model;
  if (model === undefined) throw xmlError("Missing required attribute 'model' in element 'memballoon'");
  if (!BALLOON_MODELS.includes(model)) throw xmlError(`Invalid value for attribute 'model' in element 'memballoon': '${model}'.`);
  if (model === 'xen') throw notImplemented("<memballoon model='xen'>");
  for (const attr of ['autodeflate', 'freePageReporting']) {
    if (e.attrs[attr] !== undefined) throw notImplemented(`<memballoon ${attr}>`);
  }
  if (child(e, 'driver')) throw notImplemented('<driver> in <memballoon>');
  const def: MemballoonDef = { model: model as MemballoonDef['model'], info: parseDeviceInfo(e, '<memballoon>', false) };
  const stats = child(e, 'stats');
  if (stats) {
    const raw = stats.attrs.period;
    // libvirt reads an int; anything not positive means "not set" and is dropped.
    if (raw !== undefined && raw !== '') {
      if (!/^[+-]?\d+$/.test(raw) || Number(raw) > 2147483647 || Number(raw) < -2147483648) {
        throw xmlError(`Invalid value for attribute 'period' in element 'stats': '${raw}'. Expected integer value`);
      }
      if (Number(raw) > 0) def.statsPeriod = Number(raw);
    }
  }
  return def;
}

function parsePanic(e: XElement, arch: string | undefined): PanicDef {
  const model = e.attrs.model ?? (arch === 's390x' ? 's390' : undefined);
  if (model !== 's390') throw notImplemented(`<panic model='${model ?? ''}'>`);
  if (child(e, 'address')) throw unsupportedConfig("setting the panic device address is not supported for model 's390'");
  return { model: 's390' };
}

const HOSTDEV_DRIVERS = ['default', 'kvm', 'vfio', 'xen'];

/** <driver name=…/> and <source><address …><vf-token/></address></source>, shared by
 *  <hostdev type='pci'> and <interface type='hostdev'>. */
function parseHostdevBackend(e: XElement, what: string, isNet: boolean): Pick<HostdevDef, 'driver' | 'source' | 'vfToken'> {
  const out: Partial<HostdevDef> = {};
  const drv = child(e, 'driver');
  if (drv) {
    for (const a of Object.keys(drv.attrs)) if (a !== 'name') throw notImplemented(`<driver ${a}> in ${what}`);
    const name = drv.attrs.name;
    if (name !== undefined) {
      if (!HOSTDEV_DRIVERS.includes(name)) throw xmlError(`Unknown PCI device <driver name='${name}'/> has been specified`);
      if (name !== 'default') out.driver = name;
    }
  }
  const src = child(e, 'source');
  if (!src) throw xmlError(isNet ? 'missing source address type' : 'Missing <source> element in hostdev device');
  const addr = child(src, 'address');
  if (!addr) {
    if (isNet) throw xmlError('missing source address type');
    out.source = { domain: 0, bus: 0, slot: 0, function: 0 }; // libvirt takes an absent address as 0000:00:00.0
    return out as Pick<HostdevDef, 'driver' | 'source' | 'vfToken'>;
  }
  if (isNet && addr.attrs.type === undefined) throw xmlError('missing source address type');
  if (addr.attrs.type !== undefined && addr.attrs.type !== 'pci') {
    throw notImplemented(`<source><address type='${addr.attrs.type}'> in ${what}`);
  }
  out.source = parsePciAddress(addr);
  const token = parseVfToken(addr);
  if (token !== undefined) {
    if (out.driver !== 'vfio') throw xmlError(`vf-token requires <driver name='vfio'/> in ${what}`);
    out.vfToken = token;
  }
  return out as Pick<HostdevDef, 'driver' | 'source' | 'vfToken'>;
}

function parseManaged(e: XElement): boolean {
  // libvirt only looks for 'yes'; any other value means unmanaged.
  return e.attrs.managed === 'yes';
}

function parseHostdev(e: XElement): HostdevDef {
  const mode = e.attrs.mode ?? 'subsystem';
  const type = e.attrs.type;
  if (mode !== 'subsystem' && mode !== 'capabilities') throw unsupportedConfig(`unknown hostdev mode '${mode}'`);
  if (mode === 'subsystem' && type !== undefined && !['usb', 'pci', 'scsi', 'scsi_host', 'mdev'].includes(type)) {
    throw unsupportedConfig(`unknown host device source address type '${type}'`);
  }
  if (mode !== 'subsystem' || type !== 'pci') throw notImplemented(`<hostdev mode='${mode}' type='${type ?? ''}'>`);
  for (const c of elements(e)) {
    if (['teaming', 'origstates', 'acpi'].includes(c.name)) throw notImplemented(`<${c.name}> in <hostdev>`);
  }
  if (e.attrs.model !== undefined) throw notImplemented("<hostdev model=…>");
  const src = child(e, 'source');
  for (const a of Object.keys(src?.attrs ?? {})) throw notImplemented(`<source ${a}> in <hostdev>`);
  return { managed: parseManaged(e), ...parseHostdevBackend(e, '<hostdev>', false), info: parseDeviceInfo(e, '<hostdev>', true) };
}

const MAC_RE = /^([0-9a-fA-F]{1,2}[:-]){5}[0-9a-fA-F]{1,2}$/;

function parseNetHostdev(e: XElement, index: number, domainName: string): HostdevDef {
  const type = e.attrs.type;
  if (type !== 'hostdev') throw notImplemented(`<interface type='${type ?? ''}'>`);
  for (const c of elements(e)) {
    if (!['mac', 'driver', 'source', 'address', 'boot', 'rom', 'alias'].includes(c.name)) {
      if (['target', 'model', 'vlan', 'virtualport', 'link', 'mtu', 'coalesce', 'teaming', 'bandwidth', 'filterref',
        'ip', 'route', 'script', 'backenddomain', 'guest', 'tune', 'backend', 'port', 'acpi', 'downscript', 'portOptions']
        .includes(c.name)) throw notImplemented(`<${c.name}> in <interface type='hostdev'>`);
    }
  }
  const macEl = child(e, 'mac');
  let mac: string;
  const net: HostdevDef['net'] = { mac: '' };
  if (macEl?.attrs.address !== undefined) {
    const raw = macEl.attrs.address;
    if (!MAC_RE.test(raw)) throw xmlError(`unable to parse mac address '${raw}'`);
    const bytes = raw.split(/[:-]/).map((b) => parseInt(b, 16));
    if (bytes[0]! & 1) throw xmlError(`expected unicast mac address, found multicast '${raw}'`);
    mac = bytes.map((b) => hex(b, 2)).join(':');
    if (macEl.attrs.type !== undefined) net.macType = macEl.attrs.type;
    if (macEl.attrs.check !== undefined) net.macCheck = macEl.attrs.check;
  } else {
    // libvirt picks a random 52:54:00 address; nothing can agree with that, so virtgold
    // derives one from the domain name and the interface's position (documented).
    mac = deterministicMac(`${domainName}/${index}`);
  }
  net.mac = mac;
  return {
    managed: parseManaged(e),
    ...parseHostdevBackend(e, "<interface type='hostdev'>", true),
    info: parseDeviceInfo(e, "<interface type='hostdev'>", true),
    net,
  };
}

function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export function deterministicMac(key: string): string {
  const h = fnv1a(key, 0x811c9dc5);
  return ['52', '54', '00', hex((h >>> 16) & 0xff, 2), hex((h >>> 8) & 0xff, 2), hex(h & 0xff, 2)].join(':');
}

/** Stand-in for libvirt's random UUID: a name-derived version-4-shaped UUID (documented). */
export function deterministicUuid(name: string): string {
  const words = [0x811c9dc5, 0x01234567, 0x89abcdef, 0x0badf00d].map((seed) => hex(fnv1a(name, seed), 8));
  const h = words.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16]!, 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ---- top level ----------------------------------------------------------------

const LIFECYCLE: LifecycleAction[] = ['destroy', 'restart', 'rename-restart', 'preserve', 'coredump-destroy', 'coredump-restart'];

function parseLifecycle(domain: XElement, name: string, dflt: LifecycleAction): LifecycleAction {
  const el = child(domain, name);
  const v = el ? textOf(el) : '';
  if (v === '') return dflt;
  if (!LIFECYCLE.includes(v as LifecycleAction)) throw unsupportedConfig(`unknown ${name} action: ${v}`);
  if (name === 'on_crash' || !v.startsWith('coredump')) return v as LifecycleAction;
  // coredump-* is only valid for on_crash.
  throw unsupportedConfig(`Lifecycle event '${name.slice(3)}' doesn't support '${v}' action`);
}

function parseOs(domain: XElement): DomainDef['os'] {
  const os = child(domain, 'os');
  const typeEl = os && child(os, 'type');
  if (!os || !typeEl) throw xmlError('an os <type> must be specified');
  for (const c of elements(os)) if (OS_CHILDREN_UNSUPPORTED.includes(c.name)) throw notImplemented(`<os><${c.name}>`);
  for (const a of Object.keys(os.attrs)) throw notImplemented(`<os ${a}=…>`);
  const type = textOf(typeEl);
  if (!['hvm', 'xen', 'linux', 'xenpvh', 'exe'].includes(type)) throw unsupportedConfig(`unknown OS type '${type}'`);
  if (type !== 'hvm') {
    throw unsupportedConfig(`Emulator '/usr/bin/qemu-system-${typeEl.attrs.arch ?? 'x86_64'}' does not support os type '${type}'`);
  }
  const out: DomainDef['os'] = { type: 'hvm', bootDevs: [] };
  if (typeEl.attrs.arch !== undefined) out.arch = typeEl.attrs.arch;
  if (typeEl.attrs.machine !== undefined) out.machine = typeEl.attrs.machine;
  for (const b of elements(os, 'boot').slice(0, 4)) {
    const dev = b.attrs.dev;
    if (dev === undefined) throw xmlError("Missing required attribute 'dev' in element 'boot'");
    if (!['fd', 'cdrom', 'hd', 'network'].includes(dev)) {
      throw xmlError(`Invalid value for attribute 'dev' in element 'boot': '${dev}'.`);
    }
    out.bootDevs.push(dev);
  }
  const menu = child(os, 'bootmenu');
  // Without enable=, libvirt keeps nothing of <bootmenu> (a timeout alone is dropped).
  if (menu && menu.attrs.enable !== undefined) {
    const m: NonNullable<DomainDef['os']['bootMenu']> = {};
    const enable = yesNo(menu, 'enable');
    if (enable) m.enable = enable;
    if (menu.attrs.timeout !== undefined && enable === 'yes') {
      const raw = menu.attrs.timeout;
      if (!/^\d+$/.test(raw) || Number(raw) > 4294967295) {
        throw xmlError(`Invalid value for attribute 'timeout' in element 'bootmenu': '${raw}'. Expected non-negative integer value`);
      }
      if (Number(raw) > 65535) throw unsupportedConfig('invalid value for boot menu timeout, must be in range [0,65535]');
      m.timeout = Number(raw);
    }
    out.bootMenu = m;
  }
  return out;
}

function parseFeatures(domain: XElement): DomainDef['features'] {
  const f = { acpi: false, apic: false, pae: false };
  const el = child(domain, 'features');
  if (!el) return f;
  for (const c of elements(el)) {
    if (!FEATURES.includes(c.name)) throw internalError(`unexpected feature '${c.name}'`);
    if (c.name !== 'acpi' && c.name !== 'apic' && c.name !== 'pae') throw notImplemented(`<features><${c.name}>`);
    if (Object.keys(c.attrs).length || elements(c).length) throw notImplemented(`attributes of <features><${c.name}>`);
    f[c.name] = true;
  }
  return f;
}

function parseCpu(domain: XElement): CpuDef | undefined {
  const el = child(domain, 'cpu');
  if (!el) return undefined;
  const model = child(el, 'model');
  const extra = elements(el).filter((c) => c.name !== 'model');
  // Only the plain custom model form (libvirt fills in match='exact', check='none' and
  // fallback='allow'); the model itself must be the machine's default (validate.ts).
  const fallback = model?.attrs.fallback ?? 'allow';
  const ok =
    (el.attrs.mode ?? 'custom') === 'custom' && (el.attrs.match ?? 'exact') === 'exact' && (el.attrs.check ?? 'none') === 'none' &&
    Object.keys(el.attrs).every((a) => ['mode', 'match', 'check'].includes(a)) && extra.length === 0 &&
    model !== undefined && Object.keys(model.attrs).every((a) => a === 'fallback') &&
    (fallback === 'allow' || fallback === 'forbid') && textOf(model).trim() !== '';
  if (!ok) throw notImplemented("<cpu> other than a plain custom model (mode='custom' match='exact' check='none')");
  return { mode: 'custom', match: 'exact', check: 'none', model: textOf(model!).trim(), fallback };
}

function parseClock(domain: XElement): DomainDef['clock'] {
  const el = child(domain, 'clock');
  if (!el) return { offset: 'utc' };
  const offset = el.attrs.offset || 'utc';
  if (!['utc', 'localtime', 'timezone', 'variable', 'absolute'].includes(offset)) {
    throw unsupportedConfig(`unknown clock offset '${offset}'`);
  }
  if (offset !== 'utc' && offset !== 'localtime') throw notImplemented(`<clock offset='${offset}'>`);
  for (const a of Object.keys(el.attrs)) if (a !== 'offset') throw notImplemented(`<clock ${a}=…>`);
  if (elements(el).length) throw notImplemented(`<clock><${elements(el)[0]!.name}>`);
  return { offset };
}

function parsePm(domain: XElement): DomainDef['pm'] {
  const el = child(domain, 'pm');
  const pm: DomainDef['pm'] = {};
  if (!el) return pm;
  const mem = child(el, 'suspend-to-mem');
  const disk = child(el, 'suspend-to-disk');
  const m = mem && yesNo(mem, 'enabled');
  const d = disk && yesNo(disk, 'enabled');
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
  if (el.attrs.current !== undefined) {
    const rawCur = el.attrs.current;
    const cur = /^\d+$/.test(rawCur) && Number(rawCur) <= 4294967295 ? Number(rawCur) : undefined;
    if (cur === undefined) {
      throw xmlError(`Invalid value for attribute 'current' in element 'vcpu': '${rawCur}'. Expected non-negative integer value`);
    }
    if (cur === 0) throw unsupportedConfig("vcpu 0 can't be offline");
    if (cur > max) throw unsupportedConfig('maximum vCPU count must not be less than current vCPU count');
    if (cur !== max) out.current = cur;
  }
  return out;
}

export function parseDomain(text: string): DomainDef {
  const root = parseXml(text, 'domain XML');
  if (root.name !== 'domain') throw xmlError(`unexpected root element <${root.name}>, expecting <domain>`);
  const virtType = root.attrs.type;
  if (virtType === undefined) throw xmlError('missing domain type attribute');
  const VIRT_TYPES = ['none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz'];
  if (!VIRT_TYPES.includes(virtType)) throw unsupportedConfig(`invalid domain type ${virtType}`);
  if (virtType !== 'qemu') throw notImplemented(`<domain type='${virtType}'>`);

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

  const def: DomainDef = {
    virtType: 'qemu',
    name,
    uuid,
    memory: { totalKiB: 0 },
    vcpu: parseVcpu(root),
    os: parseOs(root),
    features: parseFeatures(root),
    clock: parseClock(root),
    onPoweroff: parseLifecycle(root, 'on_poweroff', 'destroy'),
    onReboot: parseLifecycle(root, 'on_reboot', 'restart'),
    onCrash: parseLifecycle(root, 'on_crash', 'destroy'),
    pm: parsePm(root),
    devices: { controllers: [], inputs: [], audios: [], hostdevs: [], panics: [] },
  };

  const titleEl = child(root, 'title');
  if (titleEl) {
    const t = textOf(titleEl);
    if (t.includes('\n')) throw xmlError("Domain title can't contain newlines");
    if (t) def.title = t;
  }
  const descEl = child(root, 'description');
  if (descEl && textOf(descEl)) def.description = textOf(descEl);
  const metaEl = child(root, 'metadata');
  if (metaEl) {
    const decls = (e: XElement) => Object.entries(e.attrs).filter(([k]) => k === 'xmlns' || k.startsWith('xmlns:'));
    def.metadata = { elements: elements(metaEl), own: decls(metaEl), inherited: Object.fromEntries(decls(root)) };
    const hasPi = (e: XElement): boolean => e.children.some((c) => typeof c === 'object' && ('pi' in c || (isElement(c) && hasPi(c))));
    if (def.metadata.elements.some(hasPi)) throw notImplemented('processing instructions inside <metadata> elements');
  }

  const mem = parseMemory(root, 'memory');
  if (!mem || mem.kib === 0) throw xmlError('Memory size must be specified via <memory> or in the <numa> configuration');
  def.memory.totalKiB = mem.kib;
  const dumpCore = mem.el.attrs.dumpCore;
  if (dumpCore !== undefined) {
    if (dumpCore !== 'on' && dumpCore !== 'off') throw xmlError(`Invalid value for attribute 'dumpCore' in element 'memory': '${dumpCore}'.`);
    def.memory.dumpCore = dumpCore;
  }
  const cur = parseMemory(root, 'currentMemory');
  if (cur) def.memory.currentKiB = cur.kib;

  const cpu = parseCpu(root);
  if (cpu) def.cpu = cpu;

  // libvirt reads ./devices/* : several <devices> blocks act as one.
  const blocks = elements(root, 'devices');
  if (blocks.length) parseDevices({ name: 'devices', attrs: {}, children: blocks.flatMap((b) => b.children) }, def);
  return def;
}

function parseDevices(devicesEl: XElement, def: DomainDef): void {
  const d = def.devices;
  for (const c of elements(devicesEl)) {
    if (DEVICE_CHILDREN_UNSUPPORTED.includes(c.name)) throw notImplemented(`<devices><${c.name}>`);
  }
  const emu = child(devicesEl, 'emulator');
  if (emu && textOf(emu).trim()) d.emulator = textOf(emu).trim();
  // libvirt parses device classes in a fixed order; interfaces come before hostdevs,
  // which is why interface-backed hostdevs take the first hostdevN aliases.
  const nets = elements(devicesEl, 'interface').map((e, i) => parseNetHostdev(e, i, def.name));
  const hostdevs = elements(devicesEl, 'hostdev').map(parseHostdev);
  for (const h of [...nets, ...hostdevs]) {
    const dup = d.hostdevs.find((o) =>
      o.source.domain === h.source.domain && o.source.bus === h.source.bus &&
      o.source.slot === h.source.slot && o.source.function === h.source.function);
    if (dup) throw xmlError('Hostdev already exists in the domain configuration');
    d.hostdevs.push(h);
  }
  for (const c of elements(devicesEl, 'controller').map(parseController)) insertController(d.controllers, c);
  const usb = d.controllers.filter((c) => c.type === 'usb');
  if (usb.some((c) => c.model === 'none') && usb.length > 1) {
    throw new TranslationError('bare', "Can't add another USB controller: USB is disabled for this domain");
  }
  d.inputs = elements(devicesEl, 'input').map(parseInput);
  d.audios = elements(devicesEl, 'audio').map(parseAudio);
  const balloons = elements(devicesEl, 'memballoon');
  if (balloons.length > 1) throw internalError('only a single memory balloon device is supported');
  if (balloons[0]) d.memballoon = parseMemballoon(balloons[0]);
  d.panics = elements(devicesEl, 'panic').map((p) => parsePanic(p, def.os.arch));
}
