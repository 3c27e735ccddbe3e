// <os> of an hvm guest: type, boot devices and menu, firmware autoselection, loader and
// NVRAM, direct kernel boot, the SLIC table, <bios>, <smbios mode>; and <bootloader>,
// which the qemu driver refuses. Each stage's part is one function here, called from
// the stage drivers in libvirt's order (virDomainDefParseBootOptions, the qemu and
// common post-parse, virDomainDefOSValidate / qemuValidateDomainDefBoot, the formatter
// and qemuBuild{Machine,DomainLoader,Boot}CommandLine).
import { escapeComma } from '../argv.js';
import { isQ35Machine, isX86 } from '../arch.js';
import { notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef, OsDef, OsType, YesNo } from '../model.js';
import { propEnum, propInt, propUInt, propYesNo, required } from '../xml/props.js';
import { child, elements, escapeXml, textOf, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { formatSourceElement, parseRemote, type StorageSource } from '../devices/disk-source.js';

export interface LoaderDef {
  readonly?: YesNo;
  secure?: YesNo;
  type?: 'rom' | 'pflash';
  stateless?: YesNo;
  path?: string;
  nvramTemplate?: string;
  /** the NVRAM image: its path (file), device (block) or directory (dir) */
  nvram?: string;
  /** <nvram type='…'><source …/></nvram> (else the plain path form) */
  nvramType?: 'file' | 'block' | 'dir';
  /** <nvram type='network'>: a network storage source (nvram-network.ts) */
  nvramNet?: StorageSource;
}

/** the loader has an NVRAM image, local or not */
export const hasNvram = (l: LoaderDef): boolean => l.nvram !== undefined || l.nvramNet !== undefined;

/** The <source> attribute that holds the path, per new-style NVRAM type. */
const NVRAM_SOURCE = { file: 'file', block: 'dev', dir: 'dir' } as const;
const STORAGE_TYPES = ['none', 'file', 'block', 'dir', 'network', 'volume', 'nvme', 'vhostuser'] as const;

export const FIRMWARE_FEATURES = ['enrolled-keys', 'secure-boot'] as const;
export type FirmwareFeature = (typeof FIRMWARE_FEATURES)[number];

declare module '../model.js' {
  interface OsDef {
    firmware?: 'bios' | 'efi';
    /** <firmware><feature>, kept in libvirt's enum order when formatted */
    firmwareFeatures?: Partial<Record<FirmwareFeature, YesNo>>;
    loader?: LoaderDef;
    kernel?: string;
    initrd?: string;
    cmdline?: string;
    dtb?: string;
    root?: string;
    slicTable?: string;
    bios?: { useserial?: YesNo; rebootTimeout?: number };
    smbiosMode?: 'emulate' | 'host' | 'sysinfo';
    /** <bootloader> (refused by the qemu driver in post-parse) */
    bootloader?: boolean;
  }
}

// VIR_ERR_XML_DETAIL: virsh prints the message alone.
const detail = (msg: string) => new TranslationError('bare', msg);

const BOOT_DEVS = ['fd', 'cdrom', 'hd', 'network'] as const;
const OS_TYPES: readonly OsType[] = ['hvm', 'xen', 'linux', 'exe', 'uml', 'xenpvh'];
/** Architectures libvirt knows (virArch); anything else is "Unknown architecture". */
const KNOWN_ARCHES = [
  'i686', 'x86_64', 's390', 's390x', 'aarch64', 'armv6l', 'armv7l', 'armv7b', 'alpha', 'cris', 'lm32', 'm68k',
  'microblaze', 'microblazeel', 'mips', 'mipsel', 'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc',
  'ppcle', 'ppc64', 'ppc64le', 'ppcemb', 'riscv32', 'riscv64', 'sh4', 'sh4eb', 'sparc', 'sparc64', 'unicore32',
  'xtensa', 'xtensaeb', 'loongarch64',
];
/** libvirt's VIR_DOMAIN_BOOT_LAST: later <boot> elements are ignored. */
const MAX_BOOT_DEVS = 4;

/** virXPathString: the string value of the first such element, undefined when empty. */
function stringOf(parent: XElement, name: string): string | undefined {
  const e = child(parent, name);
  const s = e ? textOf(e) : '';
  return s === '' ? undefined : s;
}

/** virFileSanitizePath: extra and trailing slashes dropped (a leading '//' kept);
 *  URIs are left alone. */
export function sanitizePath(path: string): string {
  const uri = path.indexOf('://');
  if (uri >= 0 && path.indexOf('/') > uri) return path;
  let out = '';
  let i = 0;
  if (path.startsWith('//') && path[2] !== '/') {
    out = '//';
    i = 2;
  }
  while (i < path.length) {
    if (path[i] !== '/') {
      out += path[i++];
      continue;
    }
    while (path[++i] === '/');
    if (out.length !== 0 && i >= path.length) break;
    out += '/';
  }
  return out;
}

/** The os type, arch and machine (virDomainDefParseCaps, after the domain type). Strings
 *  are read as virXPathString reads them: empty text counts as absent. A type other than
 *  hvm is refused only in validation (qemuValidateDomainDef). */
export function parseOsType(domain: XElement): OsDef {
  const os = child(domain, 'os');
  const typeEl = os && child(os, 'type');
  const type = typeEl ? textOf(typeEl) : '';
  if (type === '') throw xmlError('an os <type> must be specified');
  if (!(OS_TYPES as readonly string[]).includes(type)) throw unsupportedConfig(`unknown OS type '${type}'`);
  const arch = typeEl!.attrs.arch || undefined;
  if (arch !== undefined && !KNOWN_ARCHES.includes(arch)) throw unsupportedConfig(`Unknown architecture ${arch}`);
  const out: OsDef = { type: type as OsType, bootDevs: [] };
  if (arch !== undefined) out.arch = arch;
  if (typeEl!.attrs.machine) out.machine = typeEl!.attrs.machine;
  // virXPathString: an empty <bootloader/> is no bootloader.
  if (stringOf(domain, 'bootloader') !== undefined || stringOf(domain, 'bootloader_args') !== undefined) out.bootloader = true;
  return out;
}

/** qemuValidateDomainDef's first check. */
export function validateOsType(def: DomainDef): void {
  if (def.os.type !== 'hvm') throw unsupportedConfig(`Emulator '${def.emulator}' does not support os type '${def.os.type}'`);
}

function parseFirmware(os: XElement, out: OsDef): void {
  const fw = os.attrs.firmware;
  const features = elements(os, 'firmware').flatMap((f) => elements(f, 'feature'));
  // (libvirt ignores <feature> without firmware= only on incoming migrations; a define
  // reads them and validation refuses them.)
  if (features.length) {
    out.firmwareFeatures = {};
    for (const f of features) {
      required(f, 'name');
      const name = propEnum(f, 'name', FIRMWARE_FEATURES)!;
      required(f, 'enabled');
      out.firmwareFeatures[name] = propYesNo(f, 'enabled')!;
    }
  }
  if (fw === undefined) return;
  if (fw !== 'bios' && fw !== 'efi') throw xmlError(`unknown firmware value ${fw}`);
  out.firmware = fw;
}

function parseLoader(os: XElement, out: OsDef): void {
  const loaderEl = child(os, 'loader');
  const nvramEl = child(os, 'nvram');
  if (!loaderEl && !nvramEl) return;
  const loader: LoaderDef = {};
  if (nvramEl) {
    if (nvramEl.attrs.template !== undefined) loader.nvramTemplate = nvramEl.attrs.template;
    const type = propEnum(nvramEl, 'type', STORAGE_TYPES);
    if (type === undefined) {
      const path = textOf(nvramEl);
      if (path !== '') loader.nvram = path;
    } else {
      if (type !== 'file' && type !== 'block' && type !== 'dir' && type !== 'network') throw notImplemented(`<nvram type='${type}'>`);
      const src = child(nvramEl, 'source');
      // (sic) libvirt fails here without saying why.
      if (!src) throw new TranslationError('bare', 'An error occurred, but the cause is unknown');
      if (type === 'network') loader.nvramNet = parseNvramNetwork(src);
      else {
        const key = NVRAM_SOURCE[type];
        const path = src.attrs[key];
        if (path === undefined || Object.keys(src.attrs).length !== 1 || elements(src).length) {
          throw notImplemented(`<nvram type='${type}'><source> other than a plain ${key}='…'`);
        }
        loader.nvram = path;
        loader.nvramType = type;
      }
    }
  }
  if (loaderEl) {
    const ro = propYesNo(loaderEl, 'readonly');
    if (ro) loader.readonly = ro;
    const type = propEnum(loaderEl, 'type', ['none', 'rom', 'pflash'] as const, { nonZero: true });
    if (type) loader.type = type as 'rom' | 'pflash';
    const path = textOf(loaderEl);
    if (path !== '') loader.path = path;
    const secure = propYesNo(loaderEl, 'secure');
    if (secure) loader.secure = secure;
    const stateless = propYesNo(loaderEl, 'stateless');
    if (stateless) loader.stateless = stateless;
  }
  out.loader = loader;
}

/** virDomainLoaderDefParseXMLNvram for type='network': the <source>, always raw */
function parseNvramNetwork(source: XElement): StorageSource {
  const src: StorageSource = { type: 'network', format: 'raw', readonly: false, shared: false };
  parseRemote(source, 'network', src);
  // A disk's encryption secret is named after its image's number; NVRAM has none.
  if (src.encryption) throw notImplemented("<encryption> in <nvram type='network'><source>");
  return src;
}

/** virDomainLoaderDefFormatNvram's new-style form */
function formatNvramNetwork(w: Writer, src: StorageSource, template: string): void {
  w.open(`<nvram${template} type='network'>`);
  formatSourceElement(w, src, undefined, false);
  w.close('</nvram>');
}

function parseAcpi(os: XElement, out: OsDef): void {
  const tables = elements(os, 'acpi').flatMap((a) => elements(a, 'table'));
  if (tables.length > 1) throw xmlError('Only one acpi table is supported');
  const t = tables[0];
  if (!t) return;
  const type = t.attrs.type;
  if (type === undefined) throw xmlError('Missing acpi table type');
  if (type !== 'slic') throw xmlError(`Unknown acpi table type: ${type}`);
  out.slicTable = sanitizePath(textOf(t));
}

function parseBoot(os: XElement, out: OsDef): void {
  for (const b of elements(os, 'boot').slice(0, MAX_BOOT_DEVS)) {
    required(b, 'dev');
    out.bootDevs.push(propEnum(b, 'dev', BOOT_DEVS)!);
  }
  const menu = child(os, 'bootmenu');
  // Without enable=, libvirt keeps nothing of <bootmenu> (a timeout alone is dropped).
  if (menu) {
    const enable = propYesNo(menu, 'enable');
    if (enable) {
      out.bootMenu = { enable };
      const timeout = enable === 'yes' ? propUInt(menu, 'timeout') : undefined;
      if (timeout !== undefined) out.bootMenu.timeout = timeout;
    }
  }
  const bios = child(os, 'bios');
  if (bios) {
    const b: NonNullable<OsDef['bios']> = {};
    // (sic) libvirt takes any other useserial value as 'no' (it logs an error and goes on).
    const us = bios.attrs.useserial;
    if (us !== undefined) b.useserial = us === 'yes' ? 'yes' : 'no';
    const rt = propInt(bios, 'rebootTimeout');
    if (rt !== undefined) b.rebootTimeout = rt;
    if (b.useserial || b.rebootTimeout !== undefined) out.bios = b;
  }
}

/** virDomainDefParseBootOptions for hvm: kernel, firmware, loader, ACPI, boot order. */
export function parseBootOptions(domain: XElement, out: OsDef): void {
  const os = child(domain, 'os')!;
  // Other os types read other parts of <os>: 'linux' none, the Xen ones the kernel
  // (plain strings) and the loader, 'exe' its init. Those that could fail are refused
  // (such a domain never runs: validation refuses its os type).
  if (out.type !== 'hvm') {
    const read = out.type === 'exe' ? /^init/ : out.type === 'linux' ? /^$/ : /^(loader|nvram)$/;
    const el = elements(os).find((e) => read.test(e.name));
    if (el) throw notImplemented(`<os><${el.name}> with os type '${out.type}'`);
    return;
  }
  const set = (k: 'kernel' | 'initrd' | 'cmdline' | 'dtb' | 'root') => {
    const v = stringOf(os, k);
    if (v !== undefined) out[k] = v;
  };
  set('kernel');
  set('initrd');
  set('cmdline');
  set('dtb');
  set('root');
  parseFirmware(os, out);
  parseLoader(os, out);
  parseAcpi(os, out);
  parseBoot(os, out);
}

/** <smbios mode>, read after the devices and <sysinfo>. */
export function parseSmbiosMode(domain: XElement, out: OsDef): void {
  const os = child(domain, 'os');
  const el = os && child(os, 'smbios');
  const mode = el?.attrs.mode;
  // virXPathString: an empty mode counts as none.
  if (mode === undefined || mode === '') return;
  if (!['none', 'emulate', 'host', 'sysinfo'].includes(mode)) throw unsupportedConfig(`unknown smbios mode '${mode}'`);
  if (mode !== 'none') out.smbiosMode = mode as OsDef['smbiosMode'];
}

/** The qemu driver's post-parse (qemuDomainDefPostParse), before the machine is chosen. */
export function postParseOsQemu(def: DomainDef): void {
  if (def.os.bootloader) throw unsupportedConfig('bootloader is not supported by QEMU');
}

/** qemuDomainDefPostParse's NVRAM default, once the machine is known. */
export function postParseNvram(def: DomainDef): void {
  const l = def.os.loader;
  if (l && l.type === 'pflash' && l.readonly === 'yes' && !hasNvram(l) && l.stateless !== 'yes') {
    l.nvram = `/var/lib/libvirt/qemu/nvram/${def.name}_VARS.fd`;
  }
}

/** virDomainDefPostParseOs: enrolled keys imply secure boot; a loader is a ROM by default. */
export function postParseOsCommon(def: DomainDef): void {
  const f = def.os.firmwareFeatures;
  if (f?.['enrolled-keys'] === 'yes') {
    if (f['secure-boot'] === 'no') {
      throw detail("firmware feature 'enrolled-keys' cannot be enabled when firmware feature 'secure-boot' is disabled");
    }
    f['secure-boot'] = 'yes';
  }
  const l = def.os.loader;
  if (l?.path !== undefined && l.type === undefined) l.type = 'rom';
}

/** virDomainDefOSValidate. */
export function validateOs(def: DomainDef): void {
  const { os } = def;
  const l = os.loader;
  if (os.firmware) {
    if (l) {
      if (l.readonly) throw detail("loader attribute 'readonly' cannot be specified when firmware autoselection is enabled");
      if (l.type) throw detail("loader attribute 'type' cannot be specified when firmware autoselection is enabled");
      if (l.path !== undefined) throw detail('loader path cannot be specified when firmware autoselection is enabled');
      if (l.nvramTemplate !== undefined) throw detail("nvram attribute 'template' cannot be specified when firmware autoselection is enabled");
      if (l.secure === 'no') throw detail("loader attribute 'secure' cannot be specified when firmware autoselection is enabled");
      if (hasNvram(l) && os.firmware !== 'efi') throw detail(`firmware type '${os.firmware}' does not support nvram`);
    }
  } else {
    if (os.firmwareFeatures) throw detail('cannot use feature-based firmware autoselection when firmware autoselection is disabled');
    if (l && l.path === undefined) throw detail('no loader path specified and firmware auto selection disabled');
  }
  if (!l) return;
  if (l.stateless === 'yes') {
    if (l.nvramTemplate !== undefined) throw detail('NVRAM template is not permitted when loader is stateless');
    if (hasNvram(l)) throw detail('NVRAM is not permitted when loader is stateless');
  } else if (l.stateless === 'no') {
    if (!os.firmware) {
      if (l.type !== 'pflash') throw detail('Only pflash loader type permits NVRAM');
    } else if (os.firmware !== 'efi') {
      throw detail('Only EFI firmware permits NVRAM');
    }
  }
}

/** virDomainDefBootValidate. */
export function validateBoot(def: DomainDef): void {
  const { bootMenu, bios } = def.os;
  if (bootMenu?.timeout !== undefined && bootMenu.timeout > 65535) {
    throw unsupportedConfig('invalid value for boot menu timeout, must be in range [0,65535]');
  }
  if (bios?.rebootTimeout !== undefined && (bios.rebootTimeout < -1 || bios.rebootTimeout > 65535)) {
    throw unsupportedConfig('invalid value for rebootTimeout, must be in range [-1,65535]');
  }
}


/** The <os> checks of qemuValidateDomainDef, made after the machine type check:
 *  UEFI needs ACPI on x86, the BIOS serial console. */
export function validateOsQemuEarly(def: DomainDef, acpi: boolean, serials: number): void {
  const { os } = def;
  const uefi = os.firmware === 'efi' || os.loader?.type === 'pflash';
  if (uefi && isX86(os.arch) && !acpi) throw unsupportedConfig('UEFI requires ACPI on this architecture');
  if (os.bios?.useserial === 'yes') {
    if (!isX86(os.arch)) throw unsupportedConfig('BIOS serial console only supported on x86 architectures');
    if (!serials) throw xmlError('need at least one serial port to use BIOS serial output');
  }
}

/** Serial ports of the domain (none until a module implements them). */
export function serialCount(def: DomainDef): number {
  const serial = (def.devices as { serial?: unknown[] }).serial;
  return serial?.length ?? 0;
}

/** qemuValidateDomainDefBoot (after the PM checks). */
export function validateOsQemuBoot(def: DomainDef): void {
  const l = def.os.loader;
  if (l?.secure === 'yes') {
    const smm = def.features.smm?.state === 'on';
    if (!isQ35Machine(def.os.machine)) throw unsupportedConfig('Secure boot is supported with q35 machine types only');
    if (def.os.arch !== 'x86_64') throw unsupportedConfig('Secure boot is supported for x86_64 architecture only');
    if (!def.os.firmware && !smm) throw unsupportedConfig('Secure boot requires SMM feature enabled');
  }
  // qemuValidateDomainDefNvram
  if (l?.nvramType === 'dir') throw unsupportedConfig("unsupported nvram disk type 'dir'");
}

/** <os> as virDomainDefFormatInternal writes it. */
export function formatOs(w: Writer, os: OsDef): void {
  w.open(`<os${attr('firmware', os.firmware)}>`);
  w.line(`<type${attr('arch', os.arch)}${attr('machine', os.machine)}>${os.type}</type>`);
  if (os.firmwareFeatures) {
    const f = os.firmwareFeatures;
    const present = FIRMWARE_FEATURES.filter((n) => f[n] !== undefined);
    // An empty <firmware> element is still written when features were given.
    w.open('<firmware>');
    for (const n of present) w.line(`<feature enabled='${f[n]}' name='${n}'/>`);
    w.close('</firmware>');
  }
  const l = os.loader;
  if (l) {
    const a = attr('readonly', l.readonly) + attr('secure', l.secure) + attr('type', l.type) + attr('stateless', l.stateless);
    if (l.path !== undefined) w.line(`<loader${a}>${escapeXml(l.path)}</loader>`);
    else if (a) w.line(`<loader${a}/>`);
    const t = attr('template', l.nvramTemplate);
    if (l.nvramNet) formatNvramNetwork(w, l.nvramNet, t);
    else if (l.nvramType) {
      w.open(`<nvram${t} type='${l.nvramType}'>`);
      w.line(`<source${attr(NVRAM_SOURCE[l.nvramType], l.nvram)}/>`);
      w.close('</nvram>');
    } else if (l.nvram !== undefined) w.line(`<nvram${t}>${escapeXml(l.nvram)}</nvram>`);
    else if (t) w.line(`<nvram${t}/>`);
  }
  for (const k of ['kernel', 'initrd', 'cmdline', 'dtb', 'root'] as const) {
    const v = os[k];
    if (v !== undefined) w.line(`<${k}>${escapeXml(v)}</${k}>`);
  }
  if (os.slicTable !== undefined) {
    w.open('<acpi>');
    w.line(`<table type='slic'>${escapeXml(os.slicTable)}</table>`);
    w.close('</acpi>');
  }
  for (const dev of os.bootDevs) w.line(`<boot dev='${dev}'/>`);
  if (os.bootMenu) w.line(`<bootmenu${attr('enable', os.bootMenu.enable)}${attr('timeout', os.bootMenu.timeout)}/>`);
  if (os.bios) w.line(`<bios${attr('useserial', os.bios.useserial)}${attr('rebootTimeout', os.bios.rebootTimeout)}/>`);
  if (os.smbiosMode) w.line(`<smbios mode='${os.smbiosMode}'/>`);
  w.close('</os>');
}

/** The old-style UEFI pflash drives, as -blockdev pairs (qemuBuildPflashBlockdevCommandLine). */
export function pflashBlockdevs(os: OsDef): string[][] {
  const l = os.loader;
  if (l?.type !== 'pflash') return [];
  const pair = (n: number, path: string, ro: boolean, driver = 'file') => [
    ['-blockdev', JSON.stringify({ driver, filename: path, 'node-name': `libvirt-pflash${n}-storage`, 'auto-read-only': true, discard: 'unmap' })],
    ['-blockdev', JSON.stringify({ 'node-name': `libvirt-pflash${n}-format`, 'read-only': ro, driver: 'raw', file: `libvirt-pflash${n}-storage` })],
  ];
  const out = pair(0, l.path!, l.readonly === 'yes');
  if (l.nvram !== undefined) out.push(...pair(1, l.nvram, false, l.nvramType === 'block' ? 'host_device' : 'file'));
  return out;
}

/** What <os> adds to -machine: the pflash drives, then graphics=off for the BIOS serial console. */
export function machineParams(os: OsDef): string {
  let s = '';
  if (os.loader?.type === 'pflash') {
    s += ',pflash0=libvirt-pflash0-format';
    if (hasNvram(os.loader)) s += ',pflash1=libvirt-pflash1-format';
  }
  if (os.bios?.useserial === 'yes') s += ',graphics=off';
  return s;
}

/** qemuBuildDomainLoaderCommandLine: a ROM is -bios; a secure pflash restricts writes to SMM. */
export function loaderArgs(os: OsDef): string[][] {
  const l = os.loader;
  if (l?.type === 'rom') return [['-bios', l.path!]];
  if (l?.type === 'pflash' && l.secure === 'yes') return [['-global', 'driver=cfi.pflash01,property=secure,value=on']];
  return [];
}

/** qemuBuildBootCommandLine: -boot, then the kernel, initrd, command line, DTB, SLIC table. */
export function bootArgs(os: OsDef): string[][] {
  const menu = os.bootMenu;
  let boot = menu?.enable ? `menu=${menu.enable === 'yes' ? 'on' : 'off'},` : '';
  if (os.bios?.rebootTimeout !== undefined) boot += `reboot-timeout=${os.bios.rebootTimeout},`;
  if (menu?.enable === 'yes' && menu.timeout !== undefined) boot += `splash-time=${menu.timeout},`;
  const out = [['-boot', `${boot}strict=on`]];
  if (os.kernel !== undefined) out.push(['-kernel', os.kernel]);
  if (os.initrd !== undefined) out.push(['-initrd', os.initrd]);
  if (os.cmdline !== undefined) out.push(['-append', os.cmdline]);
  if (os.dtb !== undefined) out.push(['-dtb', os.dtb]);
  if (os.slicTable !== undefined) out.push(['-acpitable', `sig=SLIC,file=${escapeComma(os.slicTable)}`]);
  return out;
}
