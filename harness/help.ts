// `virtgold COMMAND --help` and `virtgold --version`: each command's part of the usage text
// (cut from the one text in harness/cli.ts, so a command added there has its --help at
// once), and the version of the package.
import { readFileSync } from 'node:fs';

/** The commands the usage text lists (`  virtgold NAME …` lines). */
export function commandsOf(usage: string): string[] {
  return [...usage.matchAll(/^ {2}virtgold (\S+)/gm)].map((m) => m[1]!);
}

/** The usage of one command: its lines, the FILTERS paragraph when it takes filters, and
 *  the exit status. */
export function commandUsage(usage: string, command: string): string {
  const lines = usage.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^ {2}virtgold ${command}(\\s|$)`).test(l));
  if (start < 0) return usage;
  let end = start + 1;
  while (end < lines.length && lines[end]!.trim() && !/^ {2}virtgold /.test(lines[end]!)) end++;
  const own = lines.slice(start, end);
  const paragraph = (head: RegExp) => {
    const i = lines.findIndex((l) => head.test(l));
    if (i < 0) return [];
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim()) j++;
    return ['', ...lines.slice(i, j)];
  };
  const filters = own.some((l) => l.includes('FILTERS')) ? paragraph(/^FILTERS/) : [];
  const translator = own.some((l) => l.includes('[TRANSLATOR]')) ? paragraph(/^TRANSLATOR/) : [];
  return ['usage:', ...own, ...translator, ...filters, ...paragraph(/^exit status/)].join('\n');
}

/** Does ARGS ask for help (before a `--`, which ends the options)? */
export function wantsHelp(args: string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
