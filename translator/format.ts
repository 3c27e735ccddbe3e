// DomainDef → domain XML, byte for byte as libvirt 9.0.0's `virsh dumpxml --inactive
// --security-info` prints it: element order, two-space indentation, single-quoted
// attributes, and libxml2's own serialization for <metadata>.
import type { DeviceAddress, DeviceInfo, DomainDef, HostdevDef } from './model.js';
import { escapeXml, isElement, type XElement, type XNode } from './xml.js';

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');

class Out {
  lines: string[] = [];
  private depth = 0;
  line(s: string): void {
    this.lines.push('  '.repeat(this.depth) + s);
  }
  open(s: string): void {
    this.line(s);
    this.depth++;
  }
  close(s: string): void {
    this.depth--;
    this.line(s);
  }
  raw(s: string): void {
    this.lines.push(s);
  }
}

const attr = (name: string, value: string | number | undefined) =>
  value === undefined ? '' : ` ${name}='${escapeXml(String(value))}'`;

function pciAttrs(a: { domain: number; bus: number; slot: number; function: number }): string {
  return `domain='0x${hex(a.domain, 4)}' bus='0x${hex(a.bus, 2)}' slot='0x${hex(a.slot, 2)}' function='0x${a.function.toString(16)}'`;
}

function formatAddress(o: Out, a: DeviceAddress): void {
  if (a.type === 'ccw') {
    o.line(`<address type='ccw' cssid='0x${a.cssid.toString(16)}' ssid='0x${a.ssid.toString(16)}' devno='0x${hex(a.devno, 4)}'/>`);
    return;
  }
  const head = `<address type='pci' ${pciAttrs(a)}${attr('multifunction', a.multifunction)}`;
  if (a.zpci && (a.zpci.uid !== undefined || a.zpci.fid !== undefined)) {
    o.open(`${head}>`);
    o.line(`<zpci${a.zpci.uid !== undefined ? ` uid='0x${hex(a.zpci.uid, 4)}'` : ''}${a.zpci.fid !== undefined ? ` fid='0x${hex(a.zpci.fid, 8)}'` : ''}/>`);
    o.close('</address>');
  } else {
    o.line(`${head}/>`);
  }
}

/** virDomainDeviceInfoFormat: boot order, rom, then the guest address. */
function formatInfo(o: Out, info: DeviceInfo): void {
  if (info.bootIndex !== undefined) o.line(`<boot order='${info.bootIndex}'/>`);
  if (info.rom) {
    const r = info.rom;
    o.line(`<rom${attr('enabled', r.enabled)}${attr('bar', r.bar)}${attr('file', r.file)}/>`);
  }
  if (info.address) formatAddress(o, info.address);
}

/** <driver> and <source> of a PCI hostdev; interfaces name the source address type. */
function formatHostdevBackend(o: Out, h: HostdevDef, typeInSource: boolean): void {
  if (h.driver) o.line(`<driver name='${h.driver}'/>`);
  o.open('<source>');
  const head = `<address${typeInSource ? " type='pci'" : ''} ${pciAttrs(h.source)}`;
  if (h.vfToken !== undefined) {
    // vf-token extension: the token lives inside the source address.
    o.open(`${head}>`);
    o.line(`<vf-token uuid='${h.vfToken}'/>`);
    o.close('</address>');
  } else {
    o.line(`${head}/>`);
  }
  o.close('</source>');
}

// ---- metadata: libxml2's xmlNodeDump(format=1) ---------------------------------

const escText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
// In attribute values libxml2 also writes non-ASCII characters as references.
const escAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;')
    .replace(/[^\x00-\x7f]/gu, (c) => `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`);

const prefixOf = (name: string) => (name.includes(':') ? name.slice(0, name.indexOf(':')) : undefined);
const declKey = (prefix: string | undefined) => (prefix ? `xmlns:${prefix}` : 'xmlns');

function nsOf(e: XElement, scope: Record<string, string>): string | undefined {
  const key = declKey(prefixOf(e.name));
  return e.attrs[key] ?? scope[key];
}

/** Prefixes the kept content uses (elements, then attributes, in document order)
 *  without declaring them itself: libxml2 declares those on the copied <metadata>. */
function undeclaredPrefixes(nodes: XNode[], declared: Set<string>, out: string[]): void {
  for (const n of nodes) {
    if (!isElement(n)) continue;
    const here = new Set(declared);
    for (const k of Object.keys(n.attrs)) if (k.startsWith('xmlns:')) here.add(k.slice(6));
    for (const name of [n.name, ...Object.keys(n.attrs).filter((k) => k !== 'xmlns' && !k.startsWith('xmlns:'))]) {
      const p = prefixOf(name);
      if (p && p !== 'xml' && !here.has(p) && !out.includes(p)) out.push(p);
    }
    undeclaredPrefixes(n.children, here, out);
  }
}

const isBlank = (n: XNode | undefined): n is string => typeof n === 'string' && /^[ \t\r\n]*$/.test(n);

/** libxml2 drops "ignorable" whitespace-only text when libvirt parses. Its heuristic
 *  keeps a blank node that is the element's only content, that follows text, or whose
 *  element starts with text; and (observed with libvirt 9.0.0) a trailing blank after
 *  an element that itself follows text. */
function dropBlanks(nodes: XNode[]): XNode[] {
  const kept: XNode[] = [];
  nodes.forEach((n, i) => {
    if (isBlank(n)) {
      const last = kept[kept.length - 1];
      const atEnd = i === nodes.length - 1;
      const keep =
        (kept.length === 0 && atEnd) ||
        typeof last === 'string' ||
        typeof kept[0] === 'string' ||
        (atEnd && last !== undefined && isElement(last) && typeof kept[kept.length - 2] === 'string');
      if (!keep) return;
    }
    kept.push(isElement(n) ? { ...n, children: dropBlanks(n.children) } : n);
  });
  return kept;
}

function dumpNode(e: XElement, level: number, format: boolean): string {
  const entries = Object.entries(e.attrs);
  const ordered = [...entries.filter(([k]) => k === 'xmlns' || k.startsWith('xmlns:')),
    ...entries.filter(([k]) => k !== 'xmlns' && !k.startsWith('xmlns:'))];
  const attrs = ordered.map(([k, v]) => ` ${k}="${escAttr(v)}"`).join('');
  if (e.children.length === 0) return `<${e.name}${attrs}/>`;
  // libxml2 stops indenting inside an element that has any text (or CDATA) child.
  const fmt = format && e.children.every((c) => typeof c !== 'string' && !('cdata' in c));
  let s = `<${e.name}${attrs}>`;
  for (const c of e.children) {
    if (fmt) s += '\n' + '  '.repeat(level + 1);
    if (typeof c === 'string') s += escText(c);
    else if (isElement(c)) s += dumpNode(c, level + 1, fmt);
    else if ('cdata' in c) s += `<![CDATA[${c.cdata}]]>`;
    else if ('comment' in c) s += `<!--${c.comment}-->`;
  }
  if (fmt) s += '\n' + '  '.repeat(level);
  return s + `</${e.name}>`;
}

/** libvirt keeps only namespaced elements, the first one per namespace URI. */
export function sanitizeMetadata(elements: XElement[], scope: Record<string, string> = {}): XElement[] {
  const seen = new Set<string>();
  const out: XElement[] = [];
  for (const e of elements) {
    const ns = nsOf(e, scope);
    if (!ns || seen.has(ns)) continue;
    seen.add(ns);
    out.push({ ...e, children: dropBlanks(e.children) });
  }
  return out;
}

// ---- the domain -----------------------------------------------------------------

export function formatDomain(def: DomainDef): string {
  const o = new Out();
  o.open(`<domain type='${def.virtType}'>`);
  o.line(`<name>${escapeXml(def.name)}</name>`);
  o.line(`<uuid>${def.uuid}</uuid>`);
  if (def.title !== undefined) o.line(`<title>${escapeXml(def.title)}</title>`);
  if (def.description !== undefined) o.line(`<description>${escapeXml(def.description)}</description>`);
  if (def.metadata) {
    const { own, inherited } = def.metadata;
    const scope = { ...inherited, ...Object.fromEntries(own) };
    const meta = sanitizeMetadata(def.metadata.elements, scope);
    const used: string[] = [];
    undeclaredPrefixes(meta, new Set(own.map(([k]) => k.slice(6))), used);
    const decls: [string, string][] = [...own];
    for (const p of used) {
      const uri = inherited[`xmlns:${p}`];
      if (uri !== undefined) decls.push([`xmlns:${p}`, uri]);
    }
    const head = `<metadata${decls.map(([k, v]) => ` ${k}="${escAttr(v)}"`).join('')}`;
    if (meta.length) {
      o.open(`${head}>`);
      for (const m of meta) o.line(dumpNode(m, 2, true));
      o.close('</metadata>');
    } else {
      o.line(`${head}/>`);
    }
  }
  o.line(`<memory${attr('dumpCore', def.memory.dumpCore)} unit='KiB'>${def.memory.totalKiB}</memory>`);
  o.line(`<currentMemory unit='KiB'>${def.memory.currentKiB}</currentMemory>`);
  o.line(`<vcpu placement='${def.vcpu.placement}'${attr('current', def.vcpu.current)}>${def.vcpu.max}</vcpu>`);
  if (def.vcpu.placement === 'auto') {
    // Automatic vCPU placement implies automatic memory placement.
    o.open('<numatune>');
    o.line("<memory mode='strict' placement='auto'/>");
    o.close('</numatune>');
  }

  o.open('<os>');
  o.line(`<type${attr('arch', def.os.arch)}${attr('machine', def.os.machine)}>${def.os.type}</type>`);
  for (const dev of def.os.bootDevs) o.line(`<boot dev='${dev}'/>`);
  if (def.os.bootMenu) o.line(`<bootmenu${attr('enable', def.os.bootMenu.enable)}${attr('timeout', def.os.bootMenu.timeout)}/>`);
  o.close('</os>');

  const f = def.features;
  if (f.acpi || f.apic || f.pae) {
    o.open('<features>');
    if (f.acpi) o.line('<acpi/>');
    if (f.apic) o.line('<apic/>');
    if (f.pae) o.line('<pae/>');
    o.close('</features>');
  }
  if (def.cpu) {
    o.open(`<cpu mode='${def.cpu.mode}' match='${def.cpu.match}' check='${def.cpu.check}'>`);
    o.line(`<model fallback='${def.cpu.fallback}'>${escapeXml(def.cpu.model)}</model>`);
    o.close('</cpu>');
  }
  o.line(`<clock offset='${def.clock.offset}'/>`);
  o.line(`<on_poweroff>${def.onPoweroff}</on_poweroff>`);
  o.line(`<on_reboot>${def.onReboot}</on_reboot>`);
  o.line(`<on_crash>${def.onCrash}</on_crash>`);
  if (def.pm.suspendToMem || def.pm.suspendToDisk) {
    o.open('<pm>');
    if (def.pm.suspendToMem) o.line(`<suspend-to-mem enabled='${def.pm.suspendToMem}'/>`);
    if (def.pm.suspendToDisk) o.line(`<suspend-to-disk enabled='${def.pm.suspendToDisk}'/>`);
    o.close('</pm>');
  }

  const d = def.devices;
  o.open('<devices>');
  if (d.emulator) o.line(`<emulator>${escapeXml(d.emulator)}</emulator>`);
  for (const c of d.controllers) {
    const head = `<controller type='${c.type}' index='${c.index}'${attr('model', c.model)}${attr('ports', c.ports)}`;
    if (c.info.address) {
      o.open(`${head}>`);
      formatInfo(o, c.info);
      o.close('</controller>');
    } else {
      o.line(`${head}/>`);
    }
  }
  for (const h of d.hostdevs.filter((x) => x.net)) {
    // Unlike <hostdev>, an interface names managed only when it is 'yes'.
    o.open(`<interface type='hostdev'${h.managed ? " managed='yes'" : ''}>`);
    o.line(`<mac address='${h.net!.mac}'${attr('type', h.net!.macType)}${attr('check', h.net!.macCheck)}/>`);
    formatHostdevBackend(o, h, true);
    formatInfo(o, h.info);
    o.close('</interface>');
  }
  for (const i of d.inputs) o.line(`<input type='${i.type}' bus='${i.bus}'/>`);
  for (const a of d.audios) o.line(`<audio id='${a.id}' type='${a.type}'/>`);
  for (const h of d.hostdevs.filter((x) => !x.net)) {
    o.open(`<hostdev mode='subsystem' type='pci' managed='${h.managed ? 'yes' : 'no'}'>`);
    formatHostdevBackend(o, h, false);
    formatInfo(o, h.info);
    o.close('</hostdev>');
  }
  const mb = d.memballoon;
  if (mb) {
    const head = `<memballoon model='${mb.model}'`;
    if (mb.statsPeriod !== undefined || mb.info.address) {
      o.open(`${head}>`);
      if (mb.statsPeriod !== undefined) o.line(`<stats period='${mb.statsPeriod}'/>`);
      formatInfo(o, mb.info);
      o.close('</memballoon>');
    } else {
      o.line(`${head}/>`);
    }
  }
  for (const p of d.panics) o.line(`<panic model='${p.model}'/>`);
  o.close('</devices>');
  o.close('</domain>');
  return o.lines.join('\n') + '\n';
}
