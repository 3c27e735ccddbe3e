// The rest of the domain level, each where libvirt reads, checks and writes it: <genid>,
// <seclabel> (seclabel.ts), <resource>, <on_lockfailure>, <perf>, <launchSecurity>,
// <idmap>, <keywrap>, and the QEMU namespace (qemu-ns.ts).
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
import { propEnum, propYesNo, required } from '../xml/props.js';
import { child, elements, escapeXml, textOf, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';
import { parseUuid } from './ids.js';
import { formatQemuNs, parseQemuNs, QEMU_NS_URI, qemuNsCommand, type QemuNsDef } from './qemu-ns.js';
import { formatSecLabel, parseSecLabels, type SecLabelDef } from './seclabel.js';

type OnOff = 'on' | 'off';

export interface MiscDef {
  genid?: string;
  seclabels: SecLabelDef[];
  resource?: { partition?: string; appid?: string };
  onLockFailure?: 'poweroff' | 'restart' | 'pause' | 'ignore';
  /** enabled perf events, in libvirt's order of events */
  perf: [string, 'yes' | 'no'][];
  launchSecurity?: 'sev' | 's390-pv';
  idmap?: { uid: IdMapEntry[]; gid: IdMapEntry[] };
  keywrap?: { aes?: OnOff; dea?: OnOff };
  qemuNs?: QemuNsDef;
}

interface IdMapEntry { start: number; target: number; count: number }

declare module '../model.js' {
  interface DomainDef {
    misc: MiscDef;
  }
}

/** virXPathString: the text of the first such child, where empty text means absent. */
function firstText(e: XElement, name: string): string | undefined {
  const c = child(e, name);
  const t = c ? textOf(c) : '';
  return t === '' ? undefined : t;
}

/** strtoul over the whole string with the given base, as virStrToLong_uip (no sign '-'). */
function strToUInt(s: string, base: 10 | 16): number | undefined {
  const re = base === 16 ? /^[ \t\n\v\f\r]*\+?(?:0[xX])?([0-9a-fA-F]+)$/ : /^[ \t\n\v\f\r]*\+?(\d+)$/;
  const m = re.exec(s);
  if (!m) return undefined;
  const n = parseInt(m[1]!, base);
  return n <= 0xffffffff ? n : undefined;
}

export function emptyMisc(): MiscDef {
  return { seclabels: [], perf: [] };
}

/** <genid>, read with the identity (virDomainDefParseIDs). */
export function parseGenid(root: XElement, def: DomainDef): void {
  const misc = def.misc;
  const genids = elements(root, 'genid');
  if (genids.length > 1) throw xmlError("element 'genid' can only appear once");
  if (genids.length) {
    const raw = textOf(genids[0]!);
    // libvirt would generate a random one: nothing could agree with it.
    if (raw === '') throw notImplemented('<genid> without a value (libvirt picks a random one)');
    const g = parseUuid(raw);
    if (!g) throw internalError('malformed genid element');
    misc.genid = g;
  }
}

/** With the os type (virDomainDefParseCaps). */
export function parseBootloaderCaps(root: XElement): void {
  // Without <os><type>, a bootloader makes libvirt assume a Xen guest (domain/os.ts refuses
  // a bootloader otherwise).
  const os = child(root, 'os');
  if (firstText(root, 'bootloader') !== undefined && (!os || !child(os, 'type'))) throw notImplemented('<bootloader> without an os <type>');
}

/** <seclabel>, read right after <title> and <description>. */
export function parseMiscSeclabels(root: XElement, def: DomainDef): void {
  def.misc.seclabels = parseSecLabels(root);
}

const LOCK_FAILURE = ['default', 'poweroff', 'restart', 'pause', 'ignore'] as const;
const PERF_EVENTS = [
  'cmt', 'mbmt', 'mbml', 'cpu_cycles', 'instructions', 'cache_references', 'cache_misses', 'branch_instructions',
  'branch_misses', 'bus_cycles', 'stalled_cycles_frontend', 'stalled_cycles_backend', 'ref_cpu_cycles', 'cpu_clock',
  'task_clock', 'page_faults', 'context_switches', 'cpu_migrations', 'page_faults_min', 'page_faults_maj',
  'alignment_faults', 'emulation_faults',
] as const;

/** <resource>, read after <numatune>. */
export function parseResource(root: XElement, def: DomainDef): void {
  const misc = def.misc;
  const res = elements(root, 'resource');
  if (res.length > 1) throw xmlError('only one resource element is supported');
  if (res.length) {
    const partition = firstText(res[0]!, 'partition');
    const appid = child(res[0]!, 'fibrechannel')?.attrs.appid;
    // (sic) libvirt fails here without saying why
    if (partition === undefined && !appid) throw new TranslationError('bare', 'An error occurred, but the cause is unknown');
    misc.resource = { ...(partition !== undefined ? { partition } : {}), ...(appid ? { appid } : {}) };
  }

}

/** <on_lockfailure>, read after <on_crash> (virDomainDefLifecycleParse). */
export function parseLockFailure(root: XElement, def: DomainDef): void {
  const misc = def.misc;
  const lock = firstText(root, 'on_lockfailure');
  if (lock !== undefined) {
    if (!(LOCK_FAILURE as readonly string[]).includes(lock)) throw unsupportedConfig(`unknown on_lockfailure action: ${lock}`);
    if (lock !== 'default') misc.onLockFailure = lock as MiscDef['onLockFailure'];
  }

}

/** <perf>, read after the lifecycle actions. */
export function parsePerf(root: XElement, def: DomainDef): void {
  const misc = def.misc;
  const perf = new Map<string, 'yes' | 'no'>();
  for (const p of elements(root, 'perf').flatMap((e) => elements(e, 'event'))) {
    required(p, 'name');
    const name = propEnum(p, 'name', PERF_EVENTS)!;
    required(p, 'enabled');
    const enabled = propYesNo(p, 'enabled')!;
    if (perf.has(name)) throw xmlError(`perf event '${name}' was already specified`);
    perf.set(name, enabled);
  }
  misc.perf = PERF_EVENTS.filter((n) => perf.has(n)).map((n) => [n, perf.get(n)!]);
}

function parseLaunchSecurity(e: XElement): MiscDef['launchSecurity'] {
  required(e, 'type');
  const type = propEnum(e, 'type', ['none', 'sev', 's390-pv'] as const, { nonZero: true })!;
  if (type === 'sev') {
    propYesNo(e, 'kernelHashes');
    const policy = firstText(e, 'policy');
    if (policy === undefined || strToUInt(policy, 16) === undefined) throw xmlError('failed to get launch security policy');
    const cbit = firstText(e, 'cbitpos');
    if (cbit !== undefined && strToUInt(cbit, 10) === undefined) throw xmlError('Invalid format for launch security cbitpos');
    const bits = firstText(e, 'reducedPhysBits');
    if (bits !== undefined && strToUInt(bits, 10) === undefined) throw xmlError('Invalid format for launch security reduced-phys-bits');
  }
  return type as MiscDef['launchSecurity'];
}

function parseIdmap(nodes: XElement[]): IdMapEntry[] {
  const list = nodes.map((n) => {
    const [start, target, count] = ['start', 'target', 'count'].map((a) => (n.attrs[a] === undefined || n.attrs[a] === '' ? undefined : strToUInt(n.attrs[a]!, 10)));
    if (start === undefined || target === undefined || count === undefined) throw xmlError('invalid idmap start/target/count settings');
    return { start, target, count };
  });
  // By start; glibc's qsort (a merge sort) keeps entries with equal starts in order.
  return list.sort((a, b) => a.start - b.start);
}

/** <launchSecurity>, read among the devices (after <shmem>). */
export function parseLaunchSecurityOf(root: XElement, def: DomainDef): void {
  const ls = child(root, 'launchSecurity');
  if (ls) def.misc.launchSecurity = parseLaunchSecurity(ls);
}

/** <idmap>, read after the devices. */
export function parseIdmaps(root: XElement, def: DomainDef): void {
  const misc = def.misc;
  const idmaps = elements(root, 'idmap');
  const uid = parseIdmap(idmaps.flatMap((e) => elements(e, 'uid')));
  const gid = parseIdmap(idmaps.flatMap((e) => elements(e, 'gid')));
  if (uid.length || gid.length) misc.idmap = { uid, gid };
}

/** <keywrap>, read after <sysinfo> and <os><smbios>. */
export function parseKeywrap(root: XElement, def: DomainDef): void {
  const misc = def.misc;

  const kw: NonNullable<MiscDef['keywrap']> = {};
  for (const c of elements(root, 'keywrap').flatMap((e) => elements(e, 'cipher'))) {
    required(c, 'name');
    const name = propEnum(c, 'name', ['aes', 'dea'] as const)!;
    required(c, 'state');
    const state = propEnum(c, 'state', ['absent', 'on', 'off'] as const, { nonZero: true }) as OnOff;
    if (kw[name]) throw internalError(`A domain definition can have no more than one cipher node with name ${name}`);
    kw[name] = state;
  }
  if (kw.aes || kw.dea) misc.keywrap = kw;
}

/** The QEMU namespace, read last of all. */
export function parseQemuNamespace(root: XElement, def: DomainDef): void {
  const ns = parseQemuNs(root);
  if (ns) def.misc.qemuNs = ns;
}

/** qemuValidateDomainDef's check of <genid>, made after the machine's. */
export function validateGenid(def: DomainDef, caps: QemuCaps): void {
  if (def.misc.genid !== undefined && !hasFlag(caps, 'vmgenid')) throw unsupportedConfig("this QEMU does not support the 'genid' capability");
}

/** qemuValidateDomainDef's last check: launch security, which needs what no snapshot has. */
export function validateLaunchSecurity(def: DomainDef, caps: QemuCaps): void {
  const ls = def.misc.launchSecurity;
  if (ls === 'sev') {
    // (no shipped snapshot has QEMU's sev-guest, hence not a typed flag)
    if (!caps.flags.has('sev-guest')) throw unsupportedConfig('SEV launch security is not supported with this QEMU binary');
    throw notImplemented("<launchSecurity type='sev'>");
  }
  if (ls === 's390-pv') {
    if (!hasFlag(caps, 'confidential-guest-support') || !hasFlag(caps, 's390-pv-guest')) {
      throw unsupportedConfig('S390 PV launch security is not supported with this QEMU binary');
    }
    // Whether the host can run PV guests is a fact of the host (libvirt caches it as
    // <kvmSupportsSecureGuest/>; its test harness assumes yes): not implemented.
    throw notImplemented("<launchSecurity type='s390-pv'> where QEMU supports it (the answer depends on the host)");
  }
}

/** virDomainDefResourceValidate: the first of the generic domain checks. */
export function validateResource(def: DomainDef): void {
  const appid = def.misc.resource?.appid;
  if (appid === undefined) return;
  if (!/^[\x20-\x7e]*$/.test(appid)) throw xmlError("Fibre Channel 'appid' is not a printable string");
  // (appid is never empty here: libvirt keeps only a non-empty one)
  if (Buffer.byteLength(appid) > 128) throw new TranslationError('invalid argument', "Fibre Channel 'appid' string length must be between [1, 128]");
}

/** virDomainDefLifecycleActionValidate, among the generic checks: coredump-* only on crash. */
export function validateLifecycleActions(def: DomainDef): void {
  for (const [event, action] of [['poweroff', def.onPoweroff], ['reboot', def.onReboot]] as const) {
    if (action.startsWith('coredump')) throw unsupportedConfig(`Lifecycle event '${event}' doesn't support '${action}' action`);
  }
}

/** virDomainDefIdMapValidate, later among the generic checks. */
export function validateIdmap(def: DomainDef): void {
  const m = def.misc.idmap;
  if (!m) return;
  if (!m.uid.length || !m.gid.length) throw unsupportedConfig('uid and gid should be mapped both');
  if (m.uid[0]!.start !== 0 || m.gid[0]!.start !== 0) throw unsupportedConfig('You must map the root user of container');
}

// --- command line -----------------------------------------------------------------

/** aes-key-wrap=… and dea-key-wrap=… for -machine, or libvirt's error without the flag. */
export function keywrapMachineParams(def: DomainDef, caps: QemuCaps): string[] {
  const kw = def.misc.keywrap;
  if (!kw) return [];
  const out: string[] = [];
  for (const [name, state] of [['aes-key-wrap', kw.aes], ['dea-key-wrap', kw.dea]] as const) {
    if (!state) continue;
    if (!hasFlag(caps, name)) throw unsupportedConfig(`${name} is not available with this QEMU binary`);
    out.push(`${name}=${state}`);
  }
  return out;
}

/** -device vmgenid, after -uuid. */
export function genidCommand(def: DomainDef): string[][] {
  const g = def.misc.genid;
  return g === undefined ? [] : [['-device', JSON.stringify({ driver: 'vmgenid', guid: g, id: 'vmgenid0' })]];
}

export function qemuNsCommandOf(def: DomainDef, caps: QemuCaps) {
  return qemuNsCommand(def.misc.qemuNs, hasFlag(caps, 'compat-deprecated'));
}

/** The passthrough arguments, written as libvirt's test layout groups them: an argument
 *  that is not an option stays on the line before it. */
export function appendPassthrough(args: string[][], extra: string[]): void {
  for (const a of extra) {
    if (a.startsWith('-') || !args.length) args.push([a]);
    else args[args.length - 1]!.push(a);
  }
}

// --- XML --------------------------------------------------------------------------

/** ` xmlns:qemu='…'` on <domain> when the namespace has content. */
export const rootNamespaceAttr = (def: DomainDef) => (def.misc.qemuNs ? ` xmlns:qemu='${QEMU_NS_URI}'` : '');

export function formatGenid(w: Writer, def: DomainDef): void {
  if (def.misc.genid !== undefined) w.line(`<genid>${def.misc.genid}</genid>`);
}

/** <resource>, after <numatune>. */
export function formatResource(w: Writer, def: DomainDef): void {
  const r = def.misc.resource;
  if (!r) return;
  w.open('<resource>');
  if (r.partition !== undefined) w.line(`<partition>${escapeXml(r.partition)}</partition>`);
  if (r.appid !== undefined) w.line(`<fibrechannel appid='${escapeXml(r.appid)}'/>`);
  w.close('</resource>');
}

/** <idmap>, after </os>. */
export function formatIdmap(w: Writer, def: DomainDef): void {
  const m = def.misc.idmap;
  if (!m?.uid.length) return;
  w.open('<idmap>');
  for (const [tag, list] of [['uid', m.uid], ['gid', m.gid]] as const) {
    for (const e of list) w.line(`<${tag} start='${e.start}' target='${e.target}' count='${e.count}'/>`);
  }
  w.close('</idmap>');
}

export function formatLockFailure(w: Writer, def: DomainDef): void {
  if (def.misc.onLockFailure) w.line(`<on_lockfailure>${def.misc.onLockFailure}</on_lockfailure>`);
}

/** <perf>, after <pm>. */
export function formatPerf(w: Writer, def: DomainDef): void {
  if (!def.misc.perf.length) return;
  w.open('<perf>');
  for (const [name, enabled] of def.misc.perf) w.line(`<event name='${name}' enabled='${enabled}'/>`);
  w.close('</perf>');
}

/** After </devices>: security labels, key wrapping, the QEMU namespace. */
export function formatMiscTail(w: Writer, def: DomainDef): void {
  for (const l of def.misc.seclabels) formatSecLabel(w, l);
  const kw = def.misc.keywrap;
  if (kw) {
    w.open('<keywrap>');
    if (kw.aes) w.line(`<cipher name='aes' state='${kw.aes}'/>`);
    if (kw.dea) w.line(`<cipher name='dea' state='${kw.dea}'/>`);
    w.close('</keywrap>');
  }
  if (def.misc.qemuNs) formatQemuNs(w, def.misc.qemuNs);
}
