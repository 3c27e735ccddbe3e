// What is checked before the first entry runs, so that a setup problem is one message and
// exit 2 rather than the same failure once per entry: the translator program can be run,
// a command template names only known placeholders, every snapshot of the selection is a
// readable capabilities file.
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { CapsError } from '../translator/index.js';
import { SetupError, UsageError, UserError } from './errors.js';
import { readCaps } from './io.js';
import type { MatrixEntry } from './types.js';

export const PLACEHOLDERS = ['mode', 'caps', 'input', 'arch', 'version'] as const;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_-]*)\}/g;

/** Every {name} of a command template must be a known placeholder (`{bogus}` would reach
 *  the translator literally); a worker takes none (each request names its files). */
export function checkPlaceholders(words: string[], option: string, allowed: readonly string[] = PLACEHOLDERS): void {
  for (const w of words) {
    for (const [all, name] of w.matchAll(PLACEHOLDER)) {
      if (allowed.includes(name!)) continue;
      throw new UsageError(allowed.length
        ? `${option}: unknown placeholder ${all} (the placeholders are ${allowed.map((p) => `{${p}}`).join(' ')})`
        : `${option}: no placeholders here (${all}): each request names its mode, caps and input`);
    }
  }
}

const executable = (path: string) => {
  try {
    if (!statSync(path).isFile()) return 'not a file';
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not executable' : code ?? 'cannot be run';
  }
};

/** The interpreter a script's `#!` line names, when that is not there (the kernel then
 *  fails with ENOENT, which would otherwise read as if the script itself were missing). */
function missingInterpreter(path: string): string | undefined {
  const head = Buffer.alloc(256);
  let n = 0;
  try {
    const fd = openSync(path, 'r');
    try { n = readSync(fd, head, 0, head.length, 0); } finally { closeSync(fd); }
  } catch {
    return undefined; // unreadable but executable: the kernel decides
  }
  const m = /^#!\s*(\S+)/.exec(head.subarray(0, n).toString('latin1'));
  const why = m ? executable(m[1]!) : undefined;
  return why && `${m![1]} ${why === 'no such file' ? 'is not there' : `cannot be run (${why})`}`;
}

/** The program of a translator command exists and may be run: found through PATH when
 *  its name has no slash, as the kernel would (no shell runs it), and a script's `#!`
 *  interpreter exists too. */
export function checkProgram(program: string, option: string): void {
  if (/\{[A-Za-z_][A-Za-z0-9_-]*\}/.test(program)) return; // decided per entry
  let path = program;
  if (program.includes('/')) {
    const why = executable(program);
    if (why) throw new SetupError(`${option}: cannot run ${program}: ${why}`);
  } else {
    const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
    const dir = dirs.find((d) => executable(join(d, program)) === undefined);
    if (dir === undefined) throw new SetupError(`${option}: cannot run ${program}: not found in PATH`);
    path = join(dir, program);
  }
  const interpreter = missingInterpreter(path);
  if (interpreter) throw new SetupError(`${option}: cannot run ${program}: its #! interpreter ${interpreter}`);
}

/** Every snapshot the entries use can be read and is a capabilities file. */
export function checkSnapshots(root: string, entries: MatrixEntry[]): void {
  for (const path of new Set(entries.map((e) => e.snapshot.path))) {
    try {
      readCaps(path);
    } catch (e) {
      if (!(e instanceof UserError || e instanceof CapsError || e instanceof SetupError)) throw e;
      const rel = relative(root, path);
      const msg = e.message.replaceAll(path, rel);
      throw new SetupError(msg.includes(rel) ? msg : `${rel}: ${msg}`);
    }
  }
}
