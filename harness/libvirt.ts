// Real libvirt 9.0.0 as a translator: `virsh domxml-to-native` for xml2argv and
// `define` + `dumpxml --inactive --security-info` for xml2xml. Its command line is
// compared word for word as libvirt wrote it (its own quoting), normalized only in what
// the contract lists as host-specific.
import { execa } from 'execa';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oneLine } from '../translator/index.js';
import { readCaseBytes } from './cases.js';
import { readCaps } from './io.js';
import { runBuiltin } from './judge.js';
import { DAEMON_GONE, hostReason } from './libvirt-host.js';
import { isVirtgoldRefusal, OWN_REFUSAL } from './refusals.js';
import { scratchDir } from './scratch.js';
import { shellTokens } from './shell-words.js';
import type { Adapter, Golden, MatrixEntry } from './types.js';
import { defineTemporary, domainExists, undefineLeftovers, undefineTemporary, virsh, VIRSH_URI, type VirshResult } from './virsh.js';

export { VIRSH_URI };

/** Why libvirt 9.0.0 cannot translate this entry at all, if it cannot. */
export function libvirtCannot(mode: 'xml2argv' | 'xml2xml', xml: string): string | undefined {
  if (mode === 'xml2argv' && /<interface\b[^>]*type\s*=\s*['"]hostdev['"]/.test(xml)) {
    return "libvirt 9.0.0's domxml-to-native cannot convert <interface type='hostdev'> (errors or crashes libvirtd)";
  }
  return undefined;
}

/** Remove every <vf-token …/> (the extension libvirt 9.0.0 does not know, and ignores). */
export const stripVfToken = (xml: string) => xml.replace(/<vf-token\b[^>]*\/>|<vf-token\b[^>]*>[\s\S]*?<\/vf-token>/g, '');

export { isVirtgoldRefusal };

/** timedOut: virsh did not answer (a hang, not an answer). */
export type LibvirtResult = { ok: true; output: string } | { ok: false; error: string; timedOut?: boolean };

/** Is a libvirt daemon reachable? Returns the reason when it is not. */
export async function libvirtUnavailable(): Promise<string | undefined> {
  const r = await virsh(['-q', 'version'], 15_000);
  const why = firstError(r.stderr);
  if (r.code === -1 && why.startsWith('cannot run virsh')) return `virsh is not installed (${why}); run scripts/setup-libvirt`;
  if (r.code !== 0) return `virsh cannot reach ${VIRSH_URI}: ${why}`;
  if (!/libvirt 9\.0\.0/.test(r.stdout)) return `libvirt 9.0.0 is required, found: ${r.stdout.split('\n').find((l) => /libvirt/.test(l)) ?? '?'}`;
  return undefined;
}

/** virsh prints "error: <message>" lines; the first carries libvirt's message, which is
 *  put in the one-line form the reference translator gives its own messages. */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/^error: /, '')).filter((l) => l && !/^Failed to define domain/.test(l));
  return oneLine(lines[0] ?? stderr.trim());
}

const failed = (r: VirshResult): LibvirtResult => ({ ok: false, error: firstError(r.stderr), ...(r.timedOut ? { timedOut: true } : {}) });

const ENV_WORD = /^[A-Za-z_][A-Za-z0-9_]*=/;
const MONITOR_PATH = /,path=(?:[^,]|,,)*monitor\.sock,/;
// What sh takes literally: such a word needs no quotes (libvirt's printer leaves it bare).
const BARE = /^[A-Za-z0-9_,=.:/@%+-]+$/;
const ORACLE_HOME = '/tmp/lib/domain--1-';
const LIBVIRT_HOME = '/var/lib/libvirt/qemu/domain--1-';

export interface NativeArgvOptions {
  /** output of libvirt's own test harness (the 8.x oracle): its home paths are /tmp/lib/… */
  oracle?: boolean;
}

/** libvirt's command line → the `.args` layout, with libvirt's own quoting kept word for
 *  word. Only what the contract calls host-specific changes: PATH, USER and LOGNAME, the
 *  monitor socket (→ fd=1729) and, for the oracle, the home path. -netdev values are
 *  excused separately, on both sides (see excuseNetdev). */
export function normalizeNativeArgv(text: string, opts: NativeArgvOptions = {}): string {
  const tokens = shellTokens(text.trim()).map((t) => (opts.oracle ? { word: t.word.replaceAll(ORACLE_HOME, LIBVIRT_HOME), raw: t.raw.replaceAll(ORACLE_HOME, LIBVIRT_HOME) } : t));
  const lines: string[] = [];
  let i = 0;
  // Only an unquoted NAME= is an assignment to sh, so the written word decides.
  for (; i < tokens.length && ENV_WORD.test(tokens[i]!.raw); i++) {
    const raw = tokens[i]!.raw;
    const name = raw.slice(0, raw.indexOf('='));
    if (name === 'USER' || name === 'LOGNAME') continue;
    lines.push(name === 'PATH' ? 'PATH=/bin' : raw);
    if (name === 'HOME') lines.push('USER=test', 'LOGNAME=test');
  }
  if (i < tokens.length) lines.push(tokens[i++]!.raw); // the emulator
  // virCommandToStringBuf's line breaks: an argument that is not an option stays on the
  // line before it, once there has been an option and while one is still to come (so
  // `-unknown a b` of <qemu:commandline> is one line).
  const args = tokens.slice(i);
  const groups: (typeof args)[] = [];
  let hadOption = false;
  let lastOption = -1;
  args.forEach((a, k) => { if (a.word.startsWith('-')) lastOption = k; });
  args.forEach((t, k) => {
    const isOption = t.word.startsWith('-');
    const join = !isOption && hadOption && k - 1 <= lastOption;
    if (isOption) hadOption = true;
    if (join && groups.length) groups[groups.length - 1]!.push(t);
    else groups.push([t]);
  });
  for (const [opt, value, ...rest] of groups) {
    let raw = value?.raw;
    if (value && opt!.word === '-chardev' && MONITOR_PATH.test(value.word)) {
      // The socket path was the only part that could need quoting.
      const word = value.word.replace(MONITOR_PATH, ',fd=1729,');
      raw = BARE.test(word) ? word : value.raw.replace(MONITOR_PATH, ',fd=1729,');
    }
    lines.push([opt!.raw, ...(raw !== undefined ? [raw] : []), ...rest.map((t) => t.raw)].join(' '));
  }
  return lines.join(' \\\n') + '\n';
}

/** domxml-to-native turns every NIC into a tap with a placeholder fd, so -netdev values
 *  say nothing about the golden: both sides get the same stand-in. */
export const excuseNetdev = (args: string) =>
  args.replace(/^-netdev .*?(?= \\\n|\n|$)/gm, "-netdev '(value not compared: domxml-to-native uses a placeholder tap)'");

/** The domain handed to virsh as given: bytes stay bytes (libvirt judges their encoding).
 *  Its folder goes when the call is done, and on a signal (harness/scratch.ts). */
function withTempFile<T>(text: string | Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = scratchDir('virtgold-domain-');
  const path = join(dir.path, 'domain.xml');
  writeFileSync(path, text);
  return fn(path).finally(() => dir.remove());
}

export function libvirtXml2Argv(xml: string | Uint8Array): Promise<LibvirtResult> {
  return withTempFile(xml, async (path) => {
    const r = await virsh(['-q', 'domxml-to-native', 'qemu-argv', path]);
    if (r.code !== 0) return failed(r);
    return { ok: true, output: normalizeNativeArgv(r.stdout) };
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The domain's name as libvirt reads it (entities decoded, nothing trimmed). */
export function domainName(xml: string): string | undefined {
  const raw = /<name>([^<]*)<\/name>/.exec(xml.replace(/<!--[\s\S]*?-->/g, ''))?.[1];
  return raw?.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) =>
    e[0] === '#' ? String.fromCodePoint(Number(e[1] === 'x' || e[1] === 'X' ? `0${e.slice(1)}` : e.slice(1))) : ENTITIES[e] ?? m);
}

/** Said instead of touching a domain the host already has (it may be someone's real one). */
export const EXISTING_DOMAIN = 'a domain of that name is already defined on this host';

/** define, dumpxml, undefine: the domain exists only for the duration of the call (and is
 *  undefined even when we are interrupted: see virsh.ts). A domain of the same name that
 *  already exists is never touched. */
export function libvirtXml2Xml(xml: string | Uint8Array): Promise<LibvirtResult> {
  return withTempFile(xml, async (path) => {
    const name = domainName(typeof xml === 'string' ? xml : Buffer.from(xml).toString('utf8'));
    if (name !== undefined && (await domainExists(name))) return { ok: false, error: `virtgold: ${EXISTING_DOMAIN}: '${name}'` };
    const r = await defineTemporary(path, name ?? '');
    if (r.code !== 0) return failed(r);
    const defined = r.name;
    try {
      const d = await virsh(['-q', 'dumpxml', '--inactive', '--security-info', defined]);
      if (d.code !== 0) return failed(d);
      return { ok: true, output: d.stdout.endsWith('\n') ? d.stdout : `${d.stdout}\n` };
    } finally {
      await undefineTemporary(defined);
    }
  });
}

export const PROBE_CACHE = '/var/cache/libvirt/qemu/capabilities';

/** One QEMU libvirt has probed on this host: its cache file is the snapshot libvirt uses. */
export interface HostProbe {
  path: string;
  emulator: string;
  arch: string;
  /** "major.minor.0", as the snapshots are named */
  version: string;
}

/** The probe files libvirt keeps, each read once (readCaps caches them for the builtin too). */
export function hostProbes(cacheDir = PROBE_CACHE): HostProbe[] {
  let files: string[] = [];
  try {
    files = readdirSync(cacheDir).filter((f) => f.endsWith('.xml')).sort();
  } catch {
    return [];
  }
  return files.flatMap((f) => {
    const path = join(cacheDir, f);
    try {
      const emulator = /<emulator>([^<]+)<\/emulator>/.exec(readFileSync(path, 'utf8'))?.[1];
      const caps = readCaps(path);
      return emulator ? [{ path, emulator, arch: caps.arch, version: `${caps.version.major}.${caps.version.minor}.0` }] : [];
    } catch {
      return []; // not a caps file: ignore
    }
  });
}

/** The <hostCPU> blocks of a capabilities file, as written (none: ''). */
const hostCpuBlocks = new Map<string, string>();
function hostCpuOf(path: string): string {
  let b = hostCpuBlocks.get(path);
  if (b === undefined) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch { /* unreadable: no host CPU data */ }
    hostCpuBlocks.set(path, (b = (text.match(/<hostCPU\b[\s\S]*?<\/hostCPU>/g) ?? []).join('\n')));
  }
  return b;
}

/** Why libvirt here cannot speak for an entry whose command line follows the host's CPU
 *  (host-model is expanded from the host CPU data of libvirt's own probe): that data
 *  differs from the snapshot's. */
export function hostCpuDiffers(mode: 'xml2argv' | 'xml2xml', xml: string, snapshotPath: string, probePath: string | undefined): string | undefined {
  if (mode !== 'xml2argv' || !/<cpu\b[^>]*\bmode\s*=\s*['"]host-model['"]/.test(xml)) return undefined;
  if (probePath && hostCpuOf(probePath) === hostCpuOf(snapshotPath)) return undefined;
  return "host-model follows the host's CPU, and libvirt's probe of this host has other <hostCPU> data than the snapshot";
}

/** arch → "major.minor.0" of each QEMU libvirt has probed on this host. */
export function hostQemuVersions(cacheDir = PROBE_CACHE): Map<string, string> {
  return new Map(hostProbes(cacheDir).map((p) => [p.arch, p.version]));
}

const setupScript = fileURLToPath(new URL('../scripts/setup-libvirt', import.meta.url));

/** Bring back a libvirt daemon that died (domxml-to-native can kill libvirt 9.0.0's), then
 *  undefine what its death left defined. Its progress goes to stderr: stdout is reports'. */
export async function reviveLibvirt(): Promise<void> {
  if (!(await libvirtUnavailable())) return;
  const r = await execa(setupScript, { reject: false, stdin: 'ignore', stderr: 'inherit' });
  if (r.stdout) process.stderr.write(`${r.stdout}\n`);
  if (r.exitCode === 0) await undefineLeftovers();
}

let lane: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = lane.then(fn, fn);
  lane = run.catch(() => undefined);
  return run;
}

const hasVfToken = (xml: string) => /<vf-token\b/.test(xml);

export interface LibvirtAdapterOptions {
  /** arch → QEMU version libvirt drives here (default: read from libvirt's probe cache) */
  host?: Map<string, string>;
  /** vf-token entries: 'skip' them (libvirt 9.0.0 ignores the element, so its answer says
   *  nothing about the golden), or 'strip' the token from the input and hold libvirt to the
   *  reference translator's answer on that same input (interop) */
  vfToken?: 'skip' | 'strip';
  /** called after a translation that failed because the daemon went away (default
   *  reviveLibvirt: restart a daemon domxml-to-native killed) */
  revive?: () => Promise<void>;
}

/** Real libvirt 9.0.0 (virsh), only against the snapshots of the host's QEMU. */
export async function libvirtAdapter(o: LibvirtAdapterOptions = {}): Promise<Adapter> {
  const why = await libvirtUnavailable();
  if (why) throw new Error(`--translator libvirt: ${why}`);
  const probes = hostProbes();
  const host = o.host ?? new Map(probes.map((p) => [p.arch, p.version]));
  if (!host.size) throw new Error('--translator libvirt: libvirt has not probed any QEMU here (run scripts/setup-libvirt)');
  const strip = o.vfToken === 'strip';
  return {
    name: strip ? 'libvirt 9.0.0 (vf-token stripped)' : 'libvirt 9.0.0',
    drivesHost: true,
    expected(entry: MatrixEntry, xml: string): Golden | string | undefined {
      if (!strip || !hasVfToken(xml)) return undefined; // the golden
      const o = runBuiltin(entry.mode, entry.snapshot.path, stripVfToken(xml));
      if (o.kind === 'crash') return `the reference translator crashed on the input without <vf-token>: ${o.message}`;
      return { rel: `virtgold on ${entry.case.name}.xml without <vf-token>`, kind: o.kind, text: o.text };
    },
    skip(entry, xml, expected) {
      const hostVersion = host.get(entry.snapshot.arch);
      if (!hostVersion) return `no ${entry.snapshot.arch} QEMU on this host`;
      if (entry.snapshot.version !== hostVersion) return `libvirt here drives QEMU ${hostVersion}, not ${entry.snapshot.version}`;
      if (!strip && hasVfToken(xml)) return 'libvirt 9.0.0 has no vf-token support';
      if (expected?.kind === 'error' && isVirtgoldRefusal(expected.text)) return OWN_REFUSAL;
      const probe = probes.find((p) => p.arch === entry.snapshot.arch)?.path;
      return libvirtCannot(entry.mode, xml) ?? hostCpuDiffers(entry.mode, xml, entry.snapshot.path, probe);
    },
    translate(entry, xml) {
      // One call at a time, whatever --jobs says: parallel domains would share names and
      // uuids, and a daemon that dies takes every call in flight with it.
      return oneAtATime(async () => {
        // The case's own bytes unless the token must go: libvirt judges their encoding.
        const input = strip && hasVfToken(xml) ? stripVfToken(xml) : readCaseBytes(entry);
        const r = entry.mode === 'xml2argv' ? await libvirtXml2Argv(input) : await libvirtXml2Xml(input);
        if (r.ok) return { kind: 'output', text: r.output };
        if (r.timedOut) return { kind: 'crash', message: r.error };
        if (DAEMON_GONE.test(r.error)) await (o.revive ?? reviveLibvirt)();
        return { kind: 'error', text: `${r.error}\n` };
      });
    },
    normalize: (entry, text) => (entry.mode === 'xml2argv' ? excuseNetdev(text) : text),
    hostSpecific: hostReason,
  };
}
