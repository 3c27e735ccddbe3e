// The host side of a character device (libvirt's virDomainChrSourceDef): what <serial>,
// <parallel>, <console>, <channel>, <smartcard mode='passthrough'>, <redirdev> and an
// egd <rng> connect to. Parsing (virDomainChrSourceDefParseXML), the XML
// (virDomainChrSourceDefFormat), libvirt's checks (virDomainChrSourceDefValidate,
// qemuValidateDomainChrSourceDef) and the -chardev option (qemuBuildChardevCommand).
import type { QemuCaps } from '../capabilities.js';
import { hasFlag } from '../capabilities.js';
import { escapeComma } from '../argv.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import '../domain/chardev-host.js';
import { propEnum, propOnOff, propUInt, propYesNo, required } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { type DeviceSecLabel, formatDeviceSecLabels, parseDeviceSecLabels, validateDeviceSecLabels } from './disk-seclabel.js';
import type { DomainDef } from '../model.js';

export const CHR_TYPES = ['null', 'vc', 'pty', 'dev', 'file', 'pipe', 'stdio', 'udp', 'tcp', 'unix', 'spicevmc', 'spiceport', 'nmdm', 'qemu-vdagent', 'dbus'] as const;
export type ChrType = (typeof CHR_TYPES)[number];
type OnOff = 'on' | 'off';
type YesNo = 'yes' | 'no';

export interface ChrSource {
  type: ChrType;
  /** dev, file, pipe, unix */
  path?: string;
  /** file */
  append?: OnOff;
  /** tcp, unix: mode='bind' */
  listen?: boolean;
  /** tcp */
  host?: string;
  service?: string;
  tls?: YesNo;
  protocol?: 'raw' | 'telnet' | 'telnets' | 'tls';
  /** tcp, unix */
  reconnect?: { enabled: YesNo; timeout?: number };
  /** udp */
  udp?: { bindHost?: string; bindService?: string; connectHost?: string; connectService?: string };
  /** spiceport, dbus */
  channel?: string;
  /** nmdm */
  master?: string;
  slave?: string;
  /** spicevmc: what the device using it makes of it */
  spicevmc?: 'vdagent' | 'smartcard' | 'usbredir';
  /** qemu-vdagent */
  clipboard?: YesNo;
  mouse?: 'server' | 'client';
  logfile?: string;
  logappend?: OnOff;
  /** <seclabel> overrides in the <source> of a chardev device */
  seclabels?: DeviceSecLabel[];
}

/** The type attribute (virDomainChrTypeFromString), pty when absent. */
export function parseChrType(e: XElement): ChrType {
  const t = e.attrs.type;
  if (t === undefined) return 'pty';
  if (!(CHR_TYPES as readonly string[]).includes(t)) throw unsupportedConfig(`unknown type presented to host for character device: ${t}`);
  return t as ChrType;
}

function parseMode(src: XElement): boolean {
  const m = propEnum(src, 'mode', ['connect', 'bind'] as const) ?? 'connect';
  return m === 'bind';
}

function parseReconnect(src: XElement, s: ChrSource): void {
  const r = child(src, 'reconnect');
  if (!r) return;
  const enabled = propYesNo(r, 'enabled');
  if (!enabled) return;
  s.reconnect = { enabled };
  if (enabled === 'yes') {
    required(r, 'timeout');
    s.reconnect.timeout = propUInt(r, 'timeout')!;
  }
}

/** virDomainChrSourceDefParseXML: the <source> (two for udp), <log> and <protocol>
 *  children of `e`. `forChr`: a chardev device (only its <source> may carry seclabels). */
export function parseChrSource(e: XElement, type: ChrType, forChr = false): ChrSource {
  const s: ChrSource = { type };
  const sources = elements(e, 'source');
  if (sources.length > 1 && type !== 'udp') throw xmlError('only one source element is allowed for character device');
  if (sources.length > 2) throw xmlError('only two source elements are allowed for character device');
  const src = sources[0];
  if (src) {
    switch (type) {
      case 'file':
        if (src.attrs.path !== undefined) s.path = src.attrs.path;
        if (propOnOff(src, 'append')) s.append = propOnOff(src, 'append');
        break;
      case 'pty': // its path is only read from live XML
        break;
      case 'dev':
      case 'pipe':
        if (src.attrs.path !== undefined) s.path = src.attrs.path;
        break;
      case 'unix':
        s.listen = parseMode(src);
        if (src.attrs.path !== undefined) s.path = src.attrs.path;
        parseReconnect(src, s);
        break;
      case 'udp':
        s.udp = {};
        for (const u of sources) {
          const bind = parseMode(u);
          const d = s.udp;
          if (!bind && d.connectHost === undefined && d.connectService === undefined) {
            if (u.attrs.host !== undefined) d.connectHost = u.attrs.host;
            if (u.attrs.service !== undefined) d.connectService = u.attrs.service;
          } else if (bind && d.bindHost === undefined && d.bindService === undefined) {
            if (u.attrs.host !== undefined) d.bindHost = u.attrs.host;
            if (u.attrs.service !== undefined) d.bindService = u.attrs.service;
          }
        }
        break;
      case 'tcp':
        s.listen = parseMode(src);
        if (src.attrs.host !== undefined) s.host = src.attrs.host;
        if (src.attrs.service !== undefined) s.service = src.attrs.service;
        if (propYesNo(src, 'tls')) s.tls = propYesNo(src, 'tls');
        parseReconnect(src, s);
        break;
      case 'spiceport':
      case 'dbus':
        if (src.attrs.channel !== undefined) s.channel = src.attrs.channel;
        break;
      case 'nmdm':
        if (src.attrs.master !== undefined) s.master = src.attrs.master;
        if (src.attrs.slave !== undefined) s.slave = src.attrs.slave;
        break;
      case 'qemu-vdagent': {
        const cb = child(src, 'clipboard');
        if (cb) {
          required(cb, 'copypaste');
          s.clipboard = propYesNo(cb, 'copypaste');
        }
        const mo = child(src, 'mouse');
        if (mo) {
          required(mo, 'mode');
          s.mouse = propEnum(mo, 'mode', ['default', 'server', 'client'] as const, { nonZero: true }) as 'server' | 'client';
        }
        break;
      }
      default:
        break;
    }
    if (forChr) {
      const labels = parseDeviceSecLabels(src);
      if (labels.length) s.seclabels = labels;
    }
  }
  const logs = elements(e, 'log');
  if (logs.length > 1) throw xmlError('only one log element is allowed for character device');
  if (logs[0]) {
    if (logs[0].attrs.file !== undefined) s.logfile = logs[0].attrs.file;
    const a = propOnOff(logs[0], 'append');
    if (a) s.logappend = a;
  }
  const protocols = elements(e, 'protocol');
  if (protocols.length > 1) throw xmlError('only one protocol element is allowed for character device');
  if (protocols[0] && type === 'tcp') {
    const p = protocols[0].attrs.type;
    if (p !== undefined) {
      if (!['raw', 'telnet', 'telnets', 'tls'].includes(p)) throw unsupportedConfig(`Unknown protocol '${p}'`);
      s.protocol = p as ChrSource['protocol'];
    }
  }
  return s;
}

function formatReconnect(w: Writer, r: ChrSource['reconnect']): void {
  if (r) w.line(`<reconnect enabled='${r.enabled}'${r.enabled === 'yes' ? ` timeout='${r.timeout}'` : ''}/>`);
}

/** virDomainChrSourceDefFormat (inactive XML). */
export function formatChrSource(w: Writer, s: ChrSource): void {
  switch (s.type) {
    case 'qemu-vdagent':
      if (s.clipboard || s.mouse) {
        w.open('<source>');
        if (s.clipboard) w.line(`<clipboard copypaste='${s.clipboard}'/>`);
        if (s.mouse) w.line(`<mouse mode='${s.mouse}'/>`);
        w.close('</source>');
      }
      break;
    case 'dev':
    case 'file':
    case 'pipe':
      w.element(`source${attr('path', s.path)}${s.type === 'file' ? attr('append', s.append) : ''}`, 'source', shownLabels(s) ? () => formatDeviceSecLabels(w, s.seclabels) : undefined);
      break;
    case 'pty':
      // (an inactive definition has no pty path, so no <source> for its labels)
      break;
    case 'nmdm':
      // (validation wants both paths or neither; libvirt writes nothing without them)
      if (s.master !== undefined && s.slave !== undefined) w.line(`<source${attr('master', s.master)}${attr('slave', s.slave)}/>`);
      break;
    case 'udp': {
      const u = s.udp ?? {};
      if (u.bindService !== undefined || u.bindHost !== undefined) w.line(`<source mode='bind'${attr('host', u.bindHost)}${attr('service', u.bindService)}/>`);
      if (u.connectService !== undefined || u.connectHost !== undefined) w.line(`<source mode='connect'${attr('host', u.connectHost)}${attr('service', u.connectService)}/>`);
      break;
    }
    case 'tcp': {
      // (sic) blanks stay where a missing host or service would have been
      const head = `source mode='${s.listen ? 'bind' : 'connect'}' ${s.host !== undefined ? `${attr('host', s.host).slice(1)} ` : ''}${s.service !== undefined ? attr('service', s.service).slice(1) : ''}${attr('tls', s.tls)}`;
      w.element(head, 'source', s.reconnect ? () => formatReconnect(w, s.reconnect) : undefined);
      w.line(`<protocol type='${s.protocol ?? 'raw'}'/>`);
      break;
    }
    case 'unix':
      if (s.path !== undefined) {
        w.element(`source mode='${s.listen ? 'bind' : 'connect'}'${attr('path', s.path)}`, 'source', s.reconnect || shownLabels(s) ? () => {
          formatDeviceSecLabels(w, s.seclabels);
          formatReconnect(w, s.reconnect);
        } : undefined);
      }
      break;
    case 'spiceport':
    case 'dbus':
      w.line(`<source${attr('channel', s.channel)}/>`);
      break;
    default:
      break;
  }
  if (s.logfile !== undefined) w.line(`<log${attr('file', s.logfile)}${attr('append', s.logappend)}/>`);
}

/** Whether formatDeviceSecLabels writes anything for the source's labels. */
const shownLabels = (s: ChrSource) => !!s.seclabels?.some((l) => l.label !== undefined || !l.relabel);

/** virDomainChrSourceDefIsEqual (the console-on-serial rule compares sources so). */
export function chrSourceEqual(a: ChrSource, b: ChrSource): boolean {
  if (a.type !== b.type) return false;
  const rec = (x: ChrSource) => `${x.reconnect?.enabled ?? ''}/${x.reconnect?.timeout ?? 0}`;
  switch (a.type) {
    case 'file':
      return a.append === b.append && a.path === b.path;
    case 'pty':
    case 'dev':
    case 'pipe':
      return a.path === b.path;
    case 'nmdm':
      return a.master === b.master && a.slave === b.slave;
    case 'udp':
      return JSON.stringify(a.udp ?? {}) === JSON.stringify(b.udp ?? {});
    case 'tcp':
      return !!a.listen === !!b.listen && (a.protocol ?? 'raw') === (b.protocol ?? 'raw') && a.host === b.host && a.service === b.service && rec(a) === rec(b);
    case 'unix':
      return !!a.listen === !!b.listen && a.path === b.path && rec(a) === rec(b);
    case 'spiceport':
    case 'dbus':
      return a.channel === b.channel;
    case 'spicevmc':
      return a.spicevmc === b.spicevmc;
    case 'qemu-vdagent':
      return a.clipboard === b.clipboard && a.mouse === b.mouse;
    default:
      return true;
  }
}

const CHANNEL_NAME = /^[A-Za-z0-9_.-]*$/;

/** virDomainChrSourceDefValidate. `autoPath`: a UNIX socket whose path libvirt makes up
 *  (a virtio or xen channel). */
export function validateChrSourceConf(s: ChrSource, autoPath: boolean, def: DomainDef): void {
  switch (s.type) {
    case 'file':
    case 'dev':
    case 'pipe':
      if (s.path === undefined) throw internalError('Missing source path attribute for char device');
      break;
    case 'nmdm':
      if ((s.master === undefined) !== (s.slave === undefined)) throw internalError('Should define both master and slave path attributes for nmdm device');
      break;
    case 'tcp':
      if (s.host === undefined) throw internalError('Missing source host attribute for char device');
      if (s.service === undefined) throw internalError('Missing source service attribute for char device');
      if (s.listen && s.reconnect) throw internalError('chardev reconnect is possible only for connect mode');
      break;
    case 'udp':
      if (s.udp?.connectService === undefined) throw internalError('Missing source service attribute for char device');
      break;
    case 'unix':
      if (s.path === undefined && !autoPath) throw internalError('Missing source path attribute for char device');
      if (s.listen && s.reconnect) throw internalError('chardev reconnect is possible only for connect mode');
      break;
    case 'spiceport':
    case 'dbus':
      if (s.channel === undefined) throw unsupportedConfig('Missing source channel attribute for char device');
      if (!CHANNEL_NAME.test(s.channel)) throw new TranslationError('invalid argument', 'Invalid character in source channel for char device');
      break;
    default:
      break;
  }
  validateDeviceSecLabels(s.seclabels, def.misc.seclabels);
}

/** qemuValidateDomainChrSourceDef. `spice`: the domain has SPICE graphics. */
export function validateChrSourceQemu(s: ChrSource, caps: QemuCaps, spice: boolean): void {
  if ((s.type === 'tcp' || s.type === 'unix') && s.reconnect?.enabled === 'yes' && s.reconnect.timeout === 0) {
    throw new TranslationError('invalid argument', "chardev reconnect source timeout cannot be '0'");
  }
  if (s.type === 'qemu-vdagent' && !hasFlag(caps, 'chardev.qemu-vdagent')) throw unsupportedConfig(`chardev '${s.type}' not supported in this QEMU binary`);
  if ((s.type === 'spicevmc' || s.type === 'spiceport') && !spice) throw unsupportedConfig(`chardev '${s.type}' not supported without spice graphics`);
}

/** What a command line needs besides the source: the device's alias, the path libvirt
 *  makes up for an unnamed UNIX socket, and the fd sets the test harness hands out. */
export interface ChardevContext {
  caps: QemuCaps;
  /** the device alias (serial0); the chardev is char<alias> */
  alias: string;
  /** the chardev's id when it is not char<alias> (a TPM's chrtpm) */
  id?: string;
  /** the harness's mock leaves this device's files alone (a TPM's): paths, no fd sets */
  noFdPassing?: boolean;
  /** the UNIX socket path libvirt generated (virtio channels without one) */
  autoPath?: string;
  /** the next fd set number (qemuDomainFDSetIDNew), shared by the domain's chardevs */
  nextFdset: () => number;
}

/** qemuBuildChardevCommand: [-add-fd …] -chardev …, in libvirt's order. */
export function chardevArgs(s: ChrSource, c: ChardevContext): string[][] {
  const id = c.id ?? `char${c.alias}`;
  const facts = c.caps.chardevHost;
  const mock = facts?.sourceFds === 'libvirt-test-mock' && !c.noFdPassing;
  const needFacts = (what: string) => {
    if (!facts?.sourceFds) throw notImplemented(`${what} on a command line with a snapshot that carries no chardev host facts (host/<snapshot>.json)`);
  };
  const out: string[][] = [];
  let str: string;
  switch (s.type) {
    case 'null':
    case 'vc':
    case 'pty':
    case 'stdio':
      str = `${s.type},id=${id}`;
      break;
    case 'dev':
      str = `${id.startsWith('charparallel') ? 'parallel' : 'serial'},id=${id},path=${escapeComma(s.path!)}`;
      break;
    case 'file': {
      needFacts("<serial type='file'>");
      let path = s.path!;
      let append = s.append;
      if (mock) {
        const set = c.nextFdset();
        out.push(['-add-fd', `set=${set},fd=1750,opaque=${c.alias}-source`]);
        path = `/dev/fdset/${set}`;
        append = 'on';
      }
      str = `file,id=${id},path=${escapeComma(path)}${append ? `,append=${append}` : ''}`;
      break;
    }
    case 'pipe':
      str = `pipe,id=${id},path=${escapeComma(s.path!)}`;
      break;
    case 'udp': {
      const u = s.udp ?? {};
      str = `udp,id=${id},host=${u.connectHost ?? ''},port=${u.connectService},localaddr=${u.bindHost ?? ''},localport=${u.bindService ?? '0'}`;
      break;
    }
    case 'tcp': {
      let tlsAlias: string | undefined;
      if (s.tls === 'yes') {
        // qemuBuildTLSx509CommandLine, with qemu.conf's chardev TLS settings
        const dir = facts?.tlsX509CertDir;
        if (dir === undefined || facts?.tlsX509Verify === undefined) throw notImplemented("a TCP chardev with tls='yes' on a snapshot that carries no chardev TLS host facts (host/<snapshot>.json)");
        tlsAlias = `obj${id}_tls0`;
        out.push(['-object', JSON.stringify({ 'qom-type': 'tls-creds-x509', id: tlsAlias, dir, endpoint: s.listen ? 'server' : 'client', 'verify-peer': s.listen ? facts.tlsX509Verify : true })]);
      }
      str = `socket,id=${id},host=${s.host},port=${s.service}`;
      if (s.protocol === 'telnet') str += ',telnet=on';
      if (s.listen) str += ',server=on,wait=off';
      str += reconnectOpt(s);
      if (tlsAlias) str += `,tls-creds=${tlsAlias}`;
      break;
    }
    case 'unix': {
      const path = s.path ?? c.autoPath;
      if (path === undefined) throw internalError('Missing source path attribute for char device');
      if (s.listen) needFacts('a listening UNIX socket');
      str = `socket,id=${id}${mock && s.listen ? ',fd=1729' : `,path=${escapeComma(path)}`}`;
      if (s.listen) str += ',server=on,wait=off';
      str += reconnectOpt(s);
      break;
    }
    case 'spicevmc':
      str = `spicevmc,id=${id},name=${s.spicevmc}`;
      break;
    case 'spiceport':
      str = `spiceport,id=${id},name=${s.channel}`;
      break;
    case 'qemu-vdagent':
      str = `qemu-vdagent,id=${id},name=vdagent${s.clipboard ? `,clipboard=${s.clipboard === 'yes' ? 'on' : 'off'}` : ''}${s.mouse ? `,mouse=${s.mouse === 'client' ? 'on' : 'off'}` : ''}`;
      break;
    case 'dbus':
      str = `dbus,id=${id},name=${s.channel}`;
      break;
    case 'nmdm':
      throw unsupportedConfig("unsupported chardev 'nmdm'");
  }
  if (s.logfile !== undefined) {
    needFacts('<log> of a character device');
    let path = s.logfile;
    let append = s.logappend;
    if (mock) {
      const set = c.nextFdset();
      out.push(['-add-fd', `set=${set},fd=1751,opaque=${c.alias}-log`]);
      path = `/dev/fdset/${set}`;
      append = 'on';
    }
    str += `,logfile=${escapeComma(path)}${append ? `,logappend=${append}` : ''}`;
  }
  out.push(['-chardev', str]);
  return out;
}

function reconnectOpt(s: ChrSource): string {
  if (s.reconnect?.enabled === 'yes') return `,reconnect=${s.reconnect.timeout}`;
  if (s.reconnect?.enabled === 'no') return ',reconnect=0';
  return '';
}
