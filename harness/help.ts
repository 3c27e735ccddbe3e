// `virtgold COMMAND --help` and `virtgold --version`: each command's part of the usage text
// (cut from the one text in harness/cli.ts, so a command added there has its --help at
// once), and the version of the package.
import { readFileSync } from 'node:fs';

/** The commands the usage text lists (`  virtgold NAME …` lines). */
export function commandsOf(usage: string): string[] {
  return [...usage.matchAll(/^ {2}virtgold (\S+)/gm)].map((m) => m[1]!);
}

/** Each command's own exit status (the general paragraph of the usage mixes them all). */
const EXIT: Record<string, string> = {
  xml2argv: '0 the command line on stdout, 1 a translation error (its .err text on stderr), 2 usage,\n  a file that cannot be read or a --caps that is not a capabilities file, 3 a bug in virtgold',
  xml2xml: '0 the XML on stdout, 1 a translation error (its .err text on stderr), 2 usage, a file\n  that cannot be read or a --caps that is not a capabilities file, 3 a bug in virtgold',
  run: '0 every entry passes, 1 a failing or broken entry or a stale golden, 2 usage or setup\n  error (nothing run), 3 a bug in virtgold; --watch: 130 on Ctrl-C',
  update: '0 written (or, with --check, nothing to write), 1 --check found changes or stale\n  goldens, or the translator broke on an entry, 2 usage or setup error, 3 a bug in virtgold',
  review: '0 done or quit, 130 Ctrl-C, 2 usage or setup error, 3 a bug in virtgold',
  accept: '0 accepted, 1 a pending result whose entry is gone (named; reject drops it), 2 usage\n  or setup error, 3 a bug in virtgold',
  reject: '0 rejected, 2 usage or setup error, 3 a bug in virtgold',
  compare: '0 nothing differs, 1 an entry differs or a translator broke, 2 usage or setup error,\n  3 a bug in virtgold',
  'merge-reports': '0 every entry passed, 1 something failed, 2 usage error, reports that are not\n  shards of one run, or a shard missing (the report of the others is still written),\n  3 a bug in virtgold',
  reduce: '0 reduced, 1 the two sides do not disagree on the domain (nothing to reduce), 2 usage\n  or setup error, 3 a bug in virtgold',
  coverage: '0 the table, 2 usage or setup error (no schema installed), 3 a bug in virtgold',
  worker: '0 when stdin ends, 2 usage error',
};

/** The usage of one command: its lines, the FILTERS paragraph when it takes filters, and
 *  its exit status. */
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
  const exit = EXIT[command] ? ['', `exit status: ${EXIT[command]}`] : paragraph(/^exit status/);
  return ['usage:', ...own, ...translator, ...filters, ...exit].join('\n');
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
