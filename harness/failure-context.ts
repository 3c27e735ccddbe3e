// What a failure needs to be acted on: the case file, the snapshot, the golden, the
// translator, and the exact command that reproduces the result — for the reporters.
import { isAbsolute, relative } from 'node:path';
import { expandPlaceholders, splitCommand } from './adapters.js';
import type { EntryResult, SuiteResult } from './runner.js';
import type { MatrixEntry } from './types.js';

/** The --translator* option `run` was given (at most one). */
export interface TranslatorChoice { translator?: string; 'translator-cmd'?: string; 'translator-worker'?: string }

/** A word as sh needs it: bare when safe, else single-quoted ('\'' for a quote). */
export const shellQuote = (w: string) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** A path as a command typed in CWD should name it: relative when below CWD, else absolute. */
function shown(path: string, cwd: string): string {
  const r = relative(cwd, path);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : path;
}

/** How to reproduce an entry's result from the working directory:
 *  - the reference translator: `npx virtgold MODE --caps SNAPSHOT CASE`;
 *  - a --translator-cmd: the very command the harness ran, placeholders filled in;
 *  - anything else (a worker, libvirt): `npx virtgold run` with the same translator
 *    option and filters selecting that one entry. */
export function reproducer(choice: TranslatorChoice, root: string, cwd = process.cwd()): (entry: MatrixEntry) => string {
  const cmd = choice['translator-cmd'];
  const words = cmd === undefined ? undefined : splitCommand(cmd);
  const option = choice['translator-worker'] !== undefined ? ['--translator-worker', choice['translator-worker']]
    : choice.translator !== undefined && choice.translator !== 'builtin' ? ['--translator', choice.translator] : undefined;
  const rootShown = shown(root, cwd);
  return (entry) => {
    const caps = shown(entry.snapshot.path, cwd);
    const input = shown(entry.case.path, cwd);
    if (words) {
      // The placeholders as the harness filled them, with the paths shortened the same way.
      const short = { ...entry, snapshot: { ...entry.snapshot, path: caps }, case: { ...entry.case, path: input } };
      return expandPlaceholders(words, short).map(shellQuote).join(' ');
    }
    if (!option) return ['npx', 'virtgold', entry.mode, '--caps', caps, input].map(shellQuote).join(' ');
    const inRoot = relative(root, cwd);
    const needsRoot = inRoot.startsWith('..') || isAbsolute(inRoot);
    return ['npx', 'virtgold', 'run', ...option, ...(needsRoot ? ['--root', rootShown] : []), '--case', entry.case.name,
      '--mode', entry.mode, '--arch', entry.snapshot.arch, '--version', entry.snapshot.version].map(shellQuote).join(' ');
  };
}

export interface FailureContext {
  /** relative to the project root */
  input: string;
  snapshot: string;
  golden?: string;
  translator: string;
  reproduce: string;
}

/** The context of a result of `run`; undefined for suites that are not about a project's
 *  goldens (compare's, interop's: they set no reproduce). */
export function contextOf(r: EntryResult, s: SuiteResult): FailureContext | undefined {
  if (!s.reproduce) return undefined;
  const e = r.entry;
  return {
    input: `cases/${e.case.name}.xml`,
    snapshot: `capabilities/${e.snapshot.path.split('/').at(-1)}`,
    ...(r.goldenPath ? { golden: r.goldenPath } : {}),
    translator: s.adapter,
    reproduce: s.reproduce(e),
  };
}

/** The context as aligned lines, for the pretty reporter, JUnit and review. */
export function contextLines(c: FailureContext, indent = '  '): string[] {
  return [
    `${indent}case:       ${c.input}`,
    `${indent}snapshot:   ${c.snapshot}`,
    ...(c.golden ? [`${indent}golden:     ${c.golden}`] : []),
    `${indent}translator: ${c.translator}`,
    `${indent}reproduce:  ${c.reproduce}`,
  ];
}
