// Real libvirt 9.0.0 as a translator: `virsh domxml-to-native` for xml2argv and
// `define` + `dumpxml --inactive --security-info` for xml2xml. Its command line is
// compared word for word as libvirt wrote it (its own quoting), normalized only in what
// the contract lists as host-specific.
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCaps } from '../translator/index.js';
import { runBuiltin } from './judge.js';
import { shellTokens } from './shell-words.js';
import type { Adapter, Golden, MatrixEntry } from './types.js';

export const VIRSH_URI = 'qemu:///system';

/** Why libvirt 9.0.0 cannot translate this entry at all, if it cannot. */
export function libvirtCannot(mode: 'xml2argv' | 'xml2xml', xml: string): string | undefined {
  if (mode === 'xml2argv' && /<interface\b[^>]*type\s*=\s*['"]hostdev['"]/.test(xml)) {
    return "libvirt 9.0.0's domxml-to-native cannot convert <interface type='hostdev'> (errors or crashes libvirtd)";
  }
  return undefined;
}

/** Remove every <vf-token …/> (the extension libvirt 9.0.0 does not know, and ignores). */
export const stripVfToken = (xml: string) => xml.replace(/<vf-token\b[^>]*\/>|<vf-token\b[^>]*>[\s\S]*?<\/vf-token>/g, '');

/** virtgold's own refusals: libvirt handles these, so they are no claim about libvirt. */
export const isVirtgoldRefusal = (errText: string) => errText.startsWith('unsupported: ');

export type LibvirtResult = { ok: true; output: string } | { ok: false; error: string };

async function virsh(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await execa('virsh', ['-q', '-c', VIRSH_URI, ...args], { reject: false, timeout: 60_000, stdin: 'ignore' });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Is a libvirt daemon reachable? Returns the reason when it is not. */
export async function libvirtUnavailable(): Promise<string | undefined> {
  try {
    const r = await virsh(['version']);
    if (r.code !== 0) return `virsh cannot reach ${VIRSH_URI}: ${r.stderr.trim().split('\n')[0]}`;
    if (!/libvirt 9\.0\.0/.test(r.stdout)) return `libvirt 9.0.0 is required, found: ${r.stdout.split('\n').find((l) => /libvirt/.test(l)) ?? '?'}`;
    return undefined;
  } catch (e) {
    return `virsh is not installed (${(e as Error).message.split('\n')[0]}); run scripts/setup-libvirt`;
  }
}

/** virsh prints "error: <message>" lines; the first carries libvirt's message. */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/^error: /, '')).filter((l) => l && !/^Failed to define domain/.test(l));
  return lines[0] ?? stderr.trim();
}

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
  for (; i < tokens.length; i++) {
    const opt = tokens[i]!;
    const value = tokens[i + 1];
    if (value === undefined || value.word.startsWith('-')) {
      lines.push(opt.raw);
      continue;
    }
    i++;
    let raw = value.raw;
    if (opt.word === '-chardev' && MONITOR_PATH.test(value.word)) {
      // The socket path was the only part that could need quoting.
      const word = value.word.replace(MONITOR_PATH, ',fd=1729,');
      raw = BARE.test(word) ? word : raw.replace(MONITOR_PATH, ',fd=1729,');
    }
    lines.push(`${opt.raw} ${raw}`);
  }
  return lines.join(' \\\n') + '\n';
}

/** domxml-to-native turns every NIC into a tap with a placeholder fd, so -netdev values
 *  say nothing about the golden: both sides get the same stand-in. */
export const excuseNetdev = (args: string) =>
  args.replace(/^-netdev .*?(?= \\\n|\n|$)/gm, "-netdev '(value not compared: domxml-to-native uses a placeholder tap)'");

function withTempFile<T>(text: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'virtgold-'));
  const path = join(dir, 'domain.xml');
  writeFileSync(path, text);
  return fn(path).finally(() => rmSync(dir, { recursive: true, force: true }));
}

export function libvirtXml2Argv(xml: string): Promise<LibvirtResult> {
  return withTempFile(xml, async (path) => {
    const r = await virsh(['domxml-to-native', 'qemu-argv', path]);
    if (r.code !== 0) return { ok: false, error: firstError(r.stderr) };
    return { ok: true, output: normalizeNativeArgv(r.stdout) };
  });
}

const nameOf = (xml: string) => /<name>([^<]*)<\/name>/.exec(xml)?.[1]?.trim();

/** define, dumpxml, undefine: the domain exists only for the duration of the call. */
export function libvirtXml2Xml(xml: string): Promise<LibvirtResult> {
  return withTempFile(xml, async (path) => {
    const r = await virsh(['define', path]);
    if (r.code !== 0) return { ok: false, error: firstError(r.stderr) };
    const m = /Domain '(.*)' defined from/.exec(r.stdout);
    const name = m?.[1] ?? nameOf(xml) ?? '';
    try {
      const d = await virsh(['dumpxml', '--inactive', '--security-info', name]);
      if (d.code !== 0) return { ok: false, error: firstError(d.stderr) };
      return { ok: true, output: d.stdout.endsWith('\n') ? d.stdout : `${d.stdout}\n` };
    } finally {
      await virsh(['undefine', name]);
    }
  });
}

/** arch → "major.minor.0" of each QEMU libvirt has probed on this host. */
export function hostQemuVersions(cacheDir = '/var/cache/libvirt/qemu/capabilities'): Map<string, string> {
  const out = new Map<string, string>();
  let files: string[] = [];
  try {
    files = readdirSync(cacheDir).filter((f) => f.endsWith('.xml'));
  } catch {
    return out;
  }
  for (const f of files) {
    try {
      const caps = loadCaps(readFileSync(join(cacheDir, f), 'utf8'), f);
      out.set(caps.arch, `${caps.version.major}.${caps.version.minor}.0`);
    } catch { /* not a caps file: ignore */ }
  }
  return out;
}

const hasVfToken = (xml: string) => /<vf-token\b/.test(xml);

export interface LibvirtAdapterOptions {
  /** arch → QEMU version libvirt drives here (default: read from libvirt's probe cache) */
  host?: Map<string, string>;
  /** vf-token entries: 'skip' them (libvirt 9.0.0 ignores the element, so its answer says
   *  nothing about the golden), or 'strip' the token from the input and hold libvirt to the
   *  reference translator's answer on that same input (interop) */
  vfToken?: 'skip' | 'strip';
  /** called before each translation (interop restarts a daemon domxml-to-native killed) */
  revive?: () => Promise<void>;
}

/** Real libvirt 9.0.0 (virsh), only against the snapshots of the host's QEMU. */
export async function libvirtAdapter(o: LibvirtAdapterOptions = {}): Promise<Adapter> {
  const why = await libvirtUnavailable();
  if (why) throw new Error(`--translator libvirt: ${why}`);
  const host = o.host ?? hostQemuVersions();
  if (!host.size) throw new Error('--translator libvirt: libvirt has not probed any QEMU here (run scripts/setup-libvirt)');
  const strip = o.vfToken === 'strip';
  return {
    name: strip ? 'libvirt 9.0.0 (vf-token stripped)' : 'libvirt 9.0.0',
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
      if (expected?.kind === 'error' && isVirtgoldRefusal(expected.text)) return `virtgold refuses it on purpose: ${expected.text.trim()}`;
      return libvirtCannot(entry.mode, xml);
    },
    async translate(entry, xml) {
      await o.revive?.();
      const input = strip ? stripVfToken(xml) : xml;
      const r = entry.mode === 'xml2argv' ? await libvirtXml2Argv(input) : await libvirtXml2Xml(input);
      return r.ok ? { kind: 'output', text: r.output } : { kind: 'error', text: `${r.error}\n` };
    },
    normalize: (entry, text) => (entry.mode === 'xml2argv' ? excuseNetdev(text) : text),
  };
}
