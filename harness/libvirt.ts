// Real libvirt 9.0.0 as a translator: `virsh domxml-to-native` for xml2argv and
// `define` + `dumpxml --inactive --security-info` for xml2xml, normalized only in
// what the contract lists as host-specific.
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderArgs, type QemuCommand } from '../translator/index.js';
import { shellWords } from './shell-words.js';

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

/** domxml-to-native's one-line output → the `.args` layout, host specifics normalized. */
export function normalizeNativeArgv(line: string): string {
  const words = shellWords(line.trim());
  const env: [string, string][] = [];
  let i = 0;
  for (; i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i]!); i++) {
    const w = words[i]!;
    const k = w.slice(0, w.indexOf('='));
    env.push([k, w.slice(k.length + 1)]);
  }
  const fixed: [string, string][] = [];
  for (const [k, v] of env) {
    if (k === 'USER' || k === 'LOGNAME') continue;
    fixed.push([k, k === 'PATH' ? '/bin' : v]);
    if (k === 'HOME') fixed.push(['USER', 'test'], ['LOGNAME', 'test']);
  }
  const emulator = words[i++]!;
  const args: string[][] = [];
  for (; i < words.length; i++) {
    const w = words[i]!;
    const next = words[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      let value = next;
      if (w === '-chardev') value = value.replace(/,path=(?:[^,]|,,)*monitor\.sock,/, ',fd=1729,');
      args.push([w, value]);
      i++;
    } else {
      args.push([w]);
    }
  }
  const cmd: QemuCommand = { env: fixed, emulator, args };
  return renderArgs(cmd);
}

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
