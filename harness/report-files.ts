// Report files (`--reporter NAME:FILE`), checked before the run starts: a path that cannot
// be written (under a file, on a read-only disk, in /proc or /sys) is one line and exit 2
// at once, not an error after the whole run. Writing them: one line too when it fails.
import { accessSync, constants, mkdirSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SetupError } from './errors.js';

/** Kernel pseudo file systems: no report belongs there (creating folders in /proc loops). */
const PSEUDO_FS = new Map([[0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x64626720, 'debugfs'], [0x73636673, 'securityfs'], [0x63677270, 'cgroup']]);

const why = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = { EACCES: 'permission denied', EROFS: 'read-only file system', EPERM: 'operation not permitted' };
  return code ? words[code] ?? code : (e as Error).message;
};

/** Why FILE cannot be written as a report, or undefined when it can. */
export function reportFileProblem(file: string): string | undefined {
  const abs = resolve(file);
  let at = abs;
  let exists = false;
  for (;;) {
    try {
      const st = statSync(at);
      if (at === abs) {
        if (st.isDirectory()) return 'it is a folder';
        exists = true;
      } else if (!st.isDirectory()) return `${at} is not a folder`;
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') { at = dirname(at); continue; }
      if (code !== 'ENOENT') return why(e);
      if (dirname(at) === at) break;
      at = dirname(at);
    }
  }
  try {
    const fs = PSEUDO_FS.get(Number(statfsSync(at).type));
    if (fs && !(exists && !statSync(abs).isFile())) return `${at} is in a kernel file system (${fs})`;
  } catch { /* no statfs here: judged by writing */ }
  try {
    accessSync(at, constants.W_OK);
  } catch (e) {
    return `${at}: ${why(e)}`;
  }
  return undefined;
}

/** Every FILE of the reporters can be written, checked before anything runs. */
export function checkReportFiles(files: (string | undefined)[]): void {
  for (const f of files) {
    if (f === undefined) continue;
    if (f === '') throw new SetupError('--reporter NAME:FILE: the FILE is empty');
    const problem = reportFileProblem(f);
    if (problem) throw new SetupError(`cannot write the report ${f}: ${problem}`);
  }
}

/** Write a report (its folders created), one line when that fails. */
export function writeReportFile(file: string, text: string): void {
  try {
    mkdirSync(dirname(resolve(file)), { recursive: true });
    writeFileSync(file, text);
  } catch (e) {
    throw new SetupError(`cannot write the report ${file}: ${why(e)}`);
  }
}
