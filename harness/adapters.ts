// Translators under test. Each adapter turns one (mode, snapshot, case) into an Outcome:
// output, a translation error (compared with an .err golden), or "crash" — a broken
// translator (bad exit code, signal, timeout, output on both streams), reported for
// that entry only.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import type { Mode } from '../translator/index.js';
import { libvirtUnavailable, libvirtXml2Argv, libvirtXml2Xml } from './libvirt.js';
import type { MatrixEntry } from './matrix.js';
import { runBuiltin, type Outcome } from './suite.js';

export interface Adapter {
  name: string;
  /** undefined: run it; a string: skip this entry, with that reason */
  skip?(entry: MatrixEntry, xml: string): string | undefined;
  translate(entry: MatrixEntry, xml: string): Promise<Outcome>;
  close?(): Promise<void>;
}

export const builtinAdapter: Adapter = {
  name: 'builtin',
  translate: async (entry, xml) => runBuiltin(entry.mode, entry.snapshot.path, xml),
};

/** Split a command string into words: single and double quotes, backslash escapes; no shell. */
export function splitCommand(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (c === "'" || c === '"') {
      const end = cmd.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated ${c} in command`);
      cur += cmd.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  if (!words.length) throw new Error('empty command');
  return words;
}

export function expandPlaceholders(words: string[], entry: MatrixEntry): string[] {
  const values: Record<string, string> = {
    mode: entry.mode,
    caps: entry.snapshot.path,
    input: entry.case.path,
    arch: entry.snapshot.arch,
    version: entry.snapshot.version,
  };
  return words.map((w) => w.replace(/\{(mode|caps|input|arch|version)\}/g, (_, k: string) => values[k]!));
}

/** Any program obeying `virtgold xml2argv|xml2xml`'s contract, run once per entry, no shell. */
export function commandAdapter(cmd: string, timeoutMs: number): Adapter {
  const words = splitCommand(cmd);
  if (!words.some((w) => /\{(mode|input)\}/.test(w))) {
    throw new Error("--translator-cmd needs the {mode} and {input} placeholders (and usually {caps})");
  }
  return {
    name: `command: ${cmd}`,
    async translate(entry) {
      const [file, ...args] = expandPlaceholders(words, entry);
      // Its own process group, so a timeout also kills whatever it started (a shell's
      // children would otherwise keep the pipes, and us, waiting).
      const sub = execa(file!, args, { reject: false, stdin: 'ignore', stripFinalNewline: false, detached: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try { process.kill(-sub.pid!, 'SIGKILL'); } catch { /* already gone */ }
      }, timeoutMs);
      const r = await sub.finally(() => clearTimeout(timer));
      if (timedOut) return { kind: 'crash', message: `timed out after ${timeoutMs} ms` };
      if (r.signal) return { kind: 'crash', message: `killed by ${r.signal}` };
      if (r.failed && r.exitCode === undefined) return { kind: 'crash', message: `could not run: ${r.shortMessage}` };
      if (r.exitCode === 0) {
        if (r.stderr) return { kind: 'crash', message: `exit 0 with output on stderr: ${r.stderr.trim().split('\n')[0]}` };
        return { kind: 'output', text: r.stdout };
      }
      if (r.exitCode === 1) {
        if (r.stdout) return { kind: 'crash', message: 'exit 1 with output on stdout' };
        return { kind: 'error', text: r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n` };
      }
      return { kind: 'crash', message: `exit ${r.exitCode}${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}` };
    },
  };
}

/** Real libvirt 9.0.0 (virsh), only against the snapshots of the host's QEMU. */
export async function libvirtAdapter(hostVersion = '7.2.0'): Promise<Adapter> {
  const why = await libvirtUnavailable();
  if (why) throw new Error(`--translator libvirt: ${why}`);
  return {
    name: 'libvirt 9.0.0',
    skip(entry, xml) {
      if (entry.snapshot.version !== hostVersion) return `libvirt here drives QEMU ${hostVersion}, not ${entry.snapshot.version}`;
      if (/<vf-token\b/.test(xml)) return 'libvirt 9.0.0 has no vf-token support';
      const err = existsSync(`${entry.stem}.err`) ? readFileSync(`${entry.stem}.err`, 'utf8') : '';
      if (err.startsWith('unsupported: ')) return `the golden is virtgold's own refusal: ${err.trim()}`;
      if (entry.mode === 'xml2argv' && /<interface\b[^>]*type\s*=\s*['"]hostdev['"]/.test(xml)) {
        return "libvirt 9.0.0's domxml-to-native cannot convert <interface type='hostdev'>";
      }
      return undefined;
    },
    async translate(entry: MatrixEntry, xml: string) {
      const r = entry.mode === 'xml2argv' ? await libvirtXml2Argv(xml) : await libvirtXml2Xml(xml);
      return r.ok ? { kind: 'output', text: r.output } : { kind: 'error', text: `${r.error}\n` };
    },
  };
}

export type { Mode };
