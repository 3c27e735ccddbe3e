// <sysinfo type='smbios'> (SMBIOS tables for the guest, used with <smbios mode='sysinfo'>)
// and <sysinfo type='fwcfg'> (fw_cfg blobs): parsed after the devices, as libvirt's
// virSysinfoParseXML is; checked by qemuValidateDomainDefSysinfo; written before <os>;
// turned into -smbios and -fw_cfg by qemuBuild{Smbios,Sysinfo}CommandLine.
import { escapeComma } from '../argv.js';
import { notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
import { propEnum, required } from '../xml/props.js';
import { elements, escapeXml, textOf, child, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { parseUuid } from './ids.js';
import { sanitizePath } from './os.js';

/** One SMBIOS structure: its entries by name, in libvirt's field order. */
type Entries = Record<string, string>;

export interface SmbiosSysinfo {
  type: 'smbios';
  bios?: Entries;
  system?: Entries;
  baseBoard: Entries[];
  chassis?: Entries;
  oemStrings?: string[];
}

export interface FwCfgEntry {
  name: string;
  value?: string;
  file?: string;
}

export interface FwCfgSysinfo {
  type: 'fwcfg';
  entries: FwCfgEntry[];
}

export type SysinfoDef = SmbiosSysinfo | FwCfgSysinfo;

declare module '../model.js' {
  interface DomainDef {
    sysinfo?: SysinfoDef[];
  }
}

/** The entries libvirt knows per structure, in the order it formats them (and QEMU's
 *  -smbios keys, which are the same names). */
const FIELDS = {
  bios: ['vendor', 'version', 'date', 'release'],
  system: ['manufacturer', 'product', 'version', 'serial', 'uuid', 'sku', 'family'],
  baseBoard: ['manufacturer', 'product', 'version', 'serial', 'asset', 'location'],
  chassis: ['manufacturer', 'version', 'serial', 'asset', 'sku'],
} as const;

// VIR_ERR_XML_DETAIL: virsh prints the message alone.
const detail = (msg: string) => new TranslationError('bare', msg);

/** string(entry[@name='X']): the first such entry's text; empty counts as absent. */
function entries(e: XElement, fields: readonly string[]): Entries | undefined {
  const out: Entries = {};
  for (const f of fields) {
    const el = elements(e, 'entry').find((x) => x.attrs.name === f);
    const v = el ? textOf(el) : '';
    if (v !== '') out[f] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/** virStrToLong_i on the date fields: optional spaces and sign, decimal digits. */
function leadingInt(s: string): { n: number; rest: string } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n > 2147483647 || n < -2147483648) return undefined;
  return { n, rest: s.slice(m[0].length) };
}

function validBiosDate(date: string): boolean {
  const m = leadingInt(date);
  if (!m || !m.rest.startsWith('/')) return false;
  const d = leadingInt(m.rest.slice(1));
  if (!d || !d.rest.startsWith('/')) return false;
  const y = leadingInt(d.rest.slice(1));
  if (!y || y.rest !== '') return false;
  return m.n >= 1 && m.n <= 12 && d.n >= 1 && d.n <= 31 && !(y.n < 0 || (y.n >= 100 && y.n < 1900));
}

function parseSmbios(el: XElement, def: DomainDef, uuidGenerated: boolean): SmbiosSysinfo {
  const out: SmbiosSysinfo = { type: 'smbios', baseBoard: [] };
  const biosEl = child(el, 'bios');
  if (biosEl) {
    const b = entries(biosEl, FIELDS.bios);
    if (b?.date !== undefined && !validBiosDate(b.date)) throw detail("Invalid BIOS 'date' format");
    if (b) out.bios = b;
  }
  const sysEl = child(el, 'system');
  if (sysEl) {
    const s = entries(sysEl, FIELDS.system);
    if (s?.uuid !== undefined) {
      const u = parseUuid(s.uuid);
      if (!u) throw detail('malformed <sysinfo> uuid element');
      if (uuidGenerated) def.uuid = u;
      else if (u !== def.uuid) throw detail('UUID mismatch between <uuid> and <sysinfo>');
      s.uuid = u;
    }
    if (s) out.system = s;
  }
  for (const bb of elements(el, 'baseBoard')) {
    const b = entries(bb, FIELDS.baseBoard);
    if (b) out.baseBoard.push(b);
  }
  const chEl = child(el, 'chassis');
  if (chEl) {
    const c = entries(chEl, FIELDS.chassis);
    if (c) out.chassis = c;
  }
  const oemEl = child(el, 'oemStrings');
  if (oemEl) {
    const values = elements(oemEl, 'entry').map(textOf);
    if (values.length) out.oemStrings = values;
  }
  return out;
}

function parseFwCfg(el: XElement): FwCfgSysinfo {
  const out: FwCfgSysinfo = { type: 'fwcfg', entries: [] };
  for (const e of elements(el, 'entry')) {
    const name = e.attrs.name;
    if (name === undefined) throw xmlError("Firmware entry is missing 'name' attribute");
    const text = textOf(e);
    // virStringIsEmpty: whitespace only is no value.
    const value = /^[ \t\n\v\f\r]*$/.test(text) ? undefined : text;
    const file = e.attrs.file;
    if (value === undefined && file === undefined) throw xmlError("Firmware entry must have either value or 'file' attribute");
    // libvirt writes the name unescaped: only names that need no escaping come out as XML.
    if (/[&<>"']/.test(name)) throw notImplemented('a <sysinfo type=\'fwcfg\'> entry name with XML special characters');
    const entry: FwCfgEntry = { name };
    if (value !== undefined) entry.value = value;
    if (file !== undefined) entry.file = sanitizePath(file);
    out.entries.push(entry);
  }
  return out;
}

/** Every <sysinfo> of the domain, read after the devices. `uuidGenerated`: the domain
 *  had no <uuid>, so a system uuid entry becomes the domain's. */
export function parseSysinfo(root: XElement, def: DomainDef, uuidGenerated: boolean): void {
  const list: SysinfoDef[] = [];
  for (const el of elements(root, 'sysinfo')) {
    required(el, 'type');
    const type = propEnum(el, 'type', ['smbios', 'fwcfg'] as const)!;
    list.push(type === 'smbios' ? parseSmbios(el, def, uuidGenerated) : parseFwCfg(el));
  }
  if (list.length) def.sysinfo = list;
}

/** qemuValidateDomainDefSysinfo: fw_cfg names live under opt/, outside QEMU's own. */
export function validateSysinfo(def: DomainDef): void {
  for (const s of def.sysinfo ?? []) {
    if (s.type !== 'fwcfg') continue;
    for (const e of s.entries) {
      if (!e.name.startsWith('opt/')) throw unsupportedConfig('Invalid firmware name');
      if (e.name.startsWith('opt/ovmf/') || e.name.startsWith('opt/org.qemu/')) throw unsupportedConfig('That firmware name is reserved');
    }
  }
}

function formatEntries(w: Writer, tag: string, e: Entries | undefined, fields: readonly string[]): void {
  if (!e) return;
  w.open(`<${tag}>`);
  for (const f of fields) if (e[f] !== undefined) w.line(`<entry name='${f}'>${escapeXml(e[f]!)}</entry>`);
  w.close(`</${tag}>`);
}

/** virSysinfoFormat, for each <sysinfo> in order. */
export function formatSysinfo(w: Writer, def: DomainDef): void {
  for (const s of def.sysinfo ?? []) {
    if (s.type === 'smbios') {
      const empty = !s.bios && !s.system && !s.baseBoard.length && !s.chassis && !s.oemStrings;
      if (empty) {
        w.line("<sysinfo type='smbios'/>");
        continue;
      }
      w.open("<sysinfo type='smbios'>");
      formatEntries(w, 'bios', s.bios, FIELDS.bios);
      formatEntries(w, 'system', s.system, FIELDS.system);
      for (const b of s.baseBoard) formatEntries(w, 'baseBoard', b, FIELDS.baseBoard);
      formatEntries(w, 'chassis', s.chassis, FIELDS.chassis);
      if (s.oemStrings) {
        w.open('<oemStrings>');
        for (const v of s.oemStrings) w.line(`<entry>${escapeXml(v)}</entry>`);
        w.close('</oemStrings>');
      }
      w.close('</sysinfo>');
    } else {
      if (!s.entries.length) {
        w.line("<sysinfo type='fwcfg'/>");
        continue;
      }
      w.open("<sysinfo type='fwcfg'>");
      for (const e of s.entries) {
        if (e.file !== undefined) w.line(`<entry name='${e.name}' file='${escapeXml(e.file)}'/>`);
        else w.line(`<entry name='${e.name}'>${escapeXml(e.value!)}</entry>`);
      }
      w.close('</sysinfo>');
    }
  }
}

function smbiosOne(type: number, e: Entries, fields: readonly string[], always?: string): string {
  let s = `type=${type}`;
  for (const f of fields) {
    // Type 2 and 3 always carry a manufacturer (libvirt writes it even when empty).
    if (e[f] !== undefined || f === always) s += `,${f}=${escapeComma(e[f] ?? '')}`;
  }
  return s;
}

/** qemuBuildSmbiosCommandLine (mode 'sysinfo'; 'host' reads the host's tables, not
 *  implemented) then qemuBuildSysinfoCommandLine (fw_cfg). */
export function sysinfoArgs(def: DomainDef): string[][] {
  const out: string[][] = [];
  const mode = def.os.smbiosMode;
  if (mode === 'host') throw notImplemented("<smbios mode='host'> (the host's SMBIOS tables)");
  if (mode === 'sysinfo') {
    const src = def.sysinfo?.find((s): s is SmbiosSysinfo => s.type === 'smbios');
    if (!src) throw xmlError(`Domain '${def.name}' sysinfo are not available`);
    if (src.bios) out.push(['-smbios', smbiosOne(0, src.bios, FIELDS.bios)]);
    // (sic) libvirt skips type 1 when sku is the only entry (its test reads `sku` where
    // it means `!sku`); no other combination of entries is skipped.
    const sys = src.system;
    if (sys && !(Object.keys(sys).length === 1 && sys.sku !== undefined)) out.push(['-smbios', smbiosOne(1, sys, FIELDS.system)]);
    if (src.baseBoard.length > 1) throw unsupportedConfig('qemu does not support more than one entry to Type 2 in SMBIOS table');
    for (const b of src.baseBoard) out.push(['-smbios', smbiosOne(2, b, FIELDS.baseBoard, 'manufacturer')]);
    if (src.chassis) out.push(['-smbios', smbiosOne(3, src.chassis, FIELDS.chassis, 'manufacturer')]);
    if (src.oemStrings) out.push(['-smbios', `type=11${src.oemStrings.map((v) => `,value=${escapeComma(v)}`).join('')}`]);
  }
  for (const s of def.sysinfo ?? []) {
    if (s.type !== 'fwcfg') continue;
    // (sic) libvirt XML-escapes the value and the file here and does not double commas.
    for (const e of s.entries) {
      out.push(['-fw_cfg', `name=${e.name},${e.value !== undefined ? `string=${escapeXml(e.value)}` : `file=${escapeXml(e.file!)}`}`]);
    }
  }
  return out;
}
