// Firmware descriptors and qemuFirmwareFillDomain. When a domain is started (and for
// domxml-to-native) libvirt picks the firmware for <os firmware='efi|bios'>, and looks up
// the NVRAM template of a read-only pflash loader, in the QEMU firmware descriptors
// (docs/interop/firmware.json) installed on the host. A snapshot carries the descriptors
// of the host it stands for (firmware/<snapshot>/*.json beside capabilities/, read by the
// harness); a snapshot without them cannot answer, and the translator says so.
import type { QemuCaps } from '../capabilities.js';
import { notImplemented, TranslationError } from '../errors.js';
import type { DomainDef } from '../model.js';

const FEATURES = [
  'acpi-s3', 'acpi-s4', 'amd-sev', 'amd-sev-es', 'enrolled-keys', 'requires-smm', 'secure-boot',
  'verbose-dynamic', 'verbose-static',
] as const;
type Feature = (typeof FEATURES)[number];

export type FirmwareMapping =
  | { device: 'flash'; mode: 'split' | 'combined' | 'stateless'; executable: string; nvramTemplate?: string }
  | { device: 'memory'; filename: string }
  | { device: 'kernel'; filename: string };

/** One descriptor, as much of it as libvirt's matching reads. */
export interface FirmwareDescriptor {
  /** the file name (descriptors are tried in file-name order) */
  name: string;
  interfaces: string[];
  mapping: FirmwareMapping;
  /** [libvirt arch, machine type patterns] */
  targets: [string, string[]][];
  features: Feature[];
}

declare module '../capabilities.js' {
  interface QemuCaps {
    /** the firmware descriptors of the snapshot's host; undefined when it carries none */
    firmware?: FirmwareDescriptor[];
  }
}

export class FirmwareError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FirmwareError';
  }
}

/** QEMU's architecture names where libvirt's differ. */
const ARCH = { i386: 'i686', arm: 'armv7l' } as Record<string, string>;

function str(v: unknown, what: string, file: string): string {
  if (typeof v !== 'string' || v === '') throw new FirmwareError(`${file}: missing or invalid ${what}`);
  return v;
}

function rawFile(v: unknown, what: string, file: string): string {
  const o = (v ?? {}) as { filename?: unknown; format?: unknown };
  // libvirt takes only raw images (anything else fails once chosen): not modelled.
  if (o.format !== 'raw') throw new FirmwareError(`${file}: ${what} format other than raw is not supported`);
  return str(o.filename, `${what} filename`, file);
}

/** qemuFirmwareParse, for one descriptor file's text. */
export function parseDescriptor(name: string, text: string): FirmwareDescriptor {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new FirmwareError(`${name}: not JSON (${(e as Error).message})`);
  }
  const list = (v: unknown, what: string): unknown[] => {
    if (!Array.isArray(v)) throw new FirmwareError(`${name}: missing or invalid ${what}`);
    return v;
  };
  const m = (j.mapping ?? {}) as Record<string, unknown>;
  let mapping: FirmwareMapping;
  if (m.device === 'flash') {
    const mode = m.mode ?? 'split';
    if (mode !== 'split' && mode !== 'combined' && mode !== 'stateless') throw new FirmwareError(`${name}: unknown flash mode`);
    mapping = { device: 'flash', mode, executable: rawFile(m.executable, 'executable', name) };
    if (mode === 'split') mapping.nvramTemplate = rawFile(m['nvram-template'], 'nvram-template', name);
  } else if (m.device === 'memory' || m.device === 'kernel') {
    mapping = { device: m.device, filename: str(m.filename, 'filename', name) };
  } else {
    throw new FirmwareError(`${name}: unknown mapping device`);
  }
  const features = list(j.features, 'features').map((f) => {
    if (!FEATURES.includes(f as Feature)) throw new FirmwareError(`${name}: unknown feature ${String(f)}`);
    return f as Feature;
  });
  const targets = list(j.targets, 'targets').map((t): [string, string[]] => {
    const o = t as { architecture?: unknown; machines?: unknown };
    const arch = str(o.architecture, 'architecture', name);
    return [ARCH[arch] ?? arch, list(o.machines, 'machines').map((x) => str(x, 'machine', name))];
  });
  const interfaces = list(j['interface-types'], 'interface-types').map((x) => str(x, 'interface type', name));
  return { name, interfaces, mapping, targets, features };
}

/** A snapshot's descriptor set: files in name order, as libvirt merges its directories. */
export function loadFirmwareDescriptors(files: { name: string; text: string }[]): FirmwareDescriptor[] {
  return [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((f) => parseDescriptor(f.name, f.text));
}

/** g_pattern_match_simple: '*' any run, '?' one character. */
function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${[...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`, 's');
  return re.test(s);
}

/** qemuFirmwareMatchDomain. */
function matches(def: DomainDef, fw: FirmwareDescriptor): boolean {
  const { os } = def;
  let want = os.firmware === 'efi' ? 'uefi' : os.firmware === 'bios' ? 'bios' : undefined;
  if (!want && os.loader) {
    want = os.loader.type === 'rom' ? 'bios' : os.loader.type === 'pflash' ? 'uefi' : undefined;
    if (fw.mapping.device !== 'flash' || os.loader.path !== fw.mapping.executable) return false;
  }
  if (!want || !fw.interfaces.includes(want)) return false;
  if (!fw.targets.some(([arch, machines]) => arch === os.arch && machines.some((p) => globMatch(p, os.machine!)))) return false;
  const has = (f: Feature) => fw.features.includes(f);
  if (def.pm.suspendToMem === 'yes' && !has('acpi-s3')) return false;
  if (def.pm.suspendToDisk === 'yes' && !has('acpi-s4')) return false;
  const ff = os.firmwareFeatures;
  if (ff) {
    if (ff['secure-boot'] === 'yes' && !has('secure-boot')) return false;
    if (ff['secure-boot'] === 'no' && has('secure-boot')) return false;
    if (ff['enrolled-keys'] === 'yes' && !has('enrolled-keys')) return false;
    if (ff['enrolled-keys'] === 'no' && has('enrolled-keys')) return false;
  }
  if (os.loader?.secure === 'yes' && !has('requires-smm')) return false;
  if (fw.mapping.device === 'flash') {
    const mode = os.loader?.stateless === 'yes' ? 'stateless' : 'split';
    if (fw.mapping.mode !== mode) return false;
  }
  return true;
}

/** qemuFirmwareEnableFeatures: the chosen firmware written into the definition. */
function enable(def: DomainDef, fw: FirmwareDescriptor): void {
  const m = fw.mapping;
  if (m.device === 'kernel') throw notImplemented('a firmware descriptor of a kernel');
  const loader = (def.os.loader ??= {});
  if (m.device === 'memory') {
    loader.type = 'rom';
    loader.path = m.filename;
  } else {
    loader.type = 'pflash';
    loader.readonly = 'yes';
    loader.path = m.executable;
    if (m.mode === 'split') {
      loader.nvramTemplate = m.nvramTemplate;
      if (loader.nvram === undefined && !loader.nvramNet) loader.nvram = `/var/lib/libvirt/qemu/nvram/${def.name}_VARS.fd`;
    }
  }
  // A firmware that needs SMM turns it on (unless the domain turned it off) and
  // restricts pflash writes to SMM.
  if (fw.features.includes('requires-smm')) {
    const smm = def.features.smm;
    if (smm?.state === 'off') throw new TranslationError('Requested operation is not valid', 'domain has SMM turned off but chosen firmware requires it');
    if (!smm) def.features.smm = { state: 'on' };
    loader.secure = 'yes';
  }
}

/** qemuFirmwareFillDomain for a new start: firmware autoselection, or the NVRAM template
 *  of a read-only pflash loader given without one. libvirt skips the latter when the
 *  NVRAM file already exists on the host; virtgold answers for a host where it does not. */
export function fillFirmware(def: DomainDef, caps: QemuCaps): void {
  const { os } = def;
  if (!os.firmware) {
    const l = os.loader;
    if (!(l?.type === 'pflash' && l.readonly === 'yes') || l.nvramTemplate !== undefined) return;
    // libvirt does not look whether a network NVRAM image exists
    if (l.nvramNet) return;
  }
  if (!caps.firmware) {
    throw notImplemented(`${os.firmware ? `<os firmware='${os.firmware}'>` : 'a read-only pflash <loader> without an NVRAM template'} with a snapshot that carries no firmware descriptors (firmware/<snapshot>/)`);
  }
  const chosen = caps.firmware.find((fw) => matches(def, fw));
  if (!chosen) {
    if (os.firmware) throw new TranslationError('operation failed', `Unable to find any firmware to satisfy '${os.firmware}'`);
    return;
  }
  enable(def, chosen);
  delete os.firmware;
}
