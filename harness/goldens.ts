// The golden tree, owned here and nowhere else: where an entry's golden lives
// (golden/<mode>/<case path>.<arch>-<version>.<args|xml|err>), reading it, atomic
// writes and removals, goldens no entry produces (stale), leftovers of killed updates,
// and the lock that lets one update run at a time.
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { globSync } from 'glob';
import { UserError } from './errors.js';
import { selected } from './filters.js';
import { dirs, insideProject } from './project.js';
import type { Filters, Golden, MatrixEntry, Mode, Outcome } from './types.js';

export const goldenExtension = (mode: Mode) => (mode === 'xml2argv' ? '.args' : '.xml');

/** The golden stem of (mode, case, snapshot), relative to the project root. */
export const relStemOf = (mode: Mode, caseName: string, arch: string, version: string) =>
  join('golden', mode, `${caseName}.${arch}-${version}`);

/** The golden file an outcome belongs in. */
export function goldenPathFor(entry: MatrixEntry, outcome: Outcome): string {
  return entry.stem + (outcome.kind === 'error' ? '.err' : goldenExtension(entry.mode));
}

/** Both files an entry may have; exactly one should exist. */
export const goldenPaths = (entry: MatrixEntry) => ({ output: entry.stem + goldenExtension(entry.mode), error: `${entry.stem}.err` });

const readIf = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

/** The entry's golden, or why it has none usable (missing, or both kinds present). */
export function lookupGolden(entry: MatrixEntry): Golden | string {
  const { output, error } = goldenPaths(entry);
  const out = readIf(output);
  const err = readIf(error);
  const ext = goldenExtension(entry.mode);
  if (out !== undefined && err !== undefined) return `both ${entry.relStem}${ext} and ${entry.relStem}.err exist; remove one`;
  if (out !== undefined) return { rel: entry.relStem + ext, kind: 'output', text: out };
  if (err !== undefined) return { rel: `${entry.relStem}.err`, kind: 'error', text: err };
  return `no golden: ${entry.relStem}${ext} or ${entry.relStem}.err is missing (run npm run update-golden)`;
}

/** The golden an entry has on disk, if exactly one. */
export function readGolden(entry: MatrixEntry): Golden | undefined {
  const g = lookupGolden(entry);
  return typeof g === 'string' ? undefined : g;
}

/** Every golden file on disk, as absolute paths. */
export function existingGoldens(root: string): string[] {
  const g = dirs(root).golden;
  return globSync(['xml2argv/**/*.{args,err}', 'xml2xml/**/*.{xml,err}'], { cwd: g }).sort().map((f) => join(g, f));
}

const GOLDEN_NAME = /^(xml2argv|xml2xml)\/(.+)\.([A-Za-z0-9_]+)-(\d+\.\d+\.\d+)\.(args|xml|err)$/;

/** Goldens that no entry of the full matrix produces, limited to those the filters would
 *  select, so that `run` and `update` with the same filters name the same ones. */
export function staleGoldens(root: string, all: MatrixEntry[], filters: Filters = {}): string[] {
  const wanted = new Set<string>();
  for (const e of all) for (const p of Object.values(goldenPaths(e))) wanted.add(p);
  return existingGoldens(root).filter((p) => {
    if (wanted.has(p)) return false;
    const m = GOLDEN_NAME.exec(relative(dirs(root).golden, p));
    // A name the layout cannot parse is stale under any filter.
    return !m || selected(filters, { mode: m[1] as Mode, case: m[2]!, arch: m[3]!, version: m[4]! });
  });
}

/** Write a temporary file beside the target, fsync, rename: a run killed at any moment
 *  leaves either the old file or the new one. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function writeGolden(root: string, path: string, text: string): void {
  mkdirSync(dirname(insideProject(root, path)), { recursive: true });
  writeFileAtomic(path, text);
}

export function removeGolden(root: string, path: string): void {
  unlinkSync(insideProject(root, path));
}

/** Temporary files of an update that was killed before it could rename them. */
export function removeLeftovers(root: string): void {
  const g = dirs(root).golden;
  if (!existsSync(g)) return;
  for (const f of globSync('**/.*.tmp', { cwd: g, dot: true })) {
    const m = /\.(\d+)\.tmp$/.exec(f);
    if (!m) continue;
    let alive = false;
    try { process.kill(Number(m[1]), 0); alive = Number(m[1]) !== process.pid; } catch { /* dead */ }
    if (!alive) unlinkSync(join(g, f));
  }
}

/** One update at a time: a lock file in golden/, taken over only from a dead process. */
export function takeLock(root: string): () => void {
  const path = join(dirs(root).golden, '.update.lock');
  mkdirSync(dirs(root).golden, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => { try { unlinkSync(path); } catch { /* gone already */ } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8').trim());
      let alive = false;
      try { process.kill(pid, 0); alive = pid > 0; } catch { alive = false; }
      if (alive) throw new UserError(`another update is running (pid ${pid}, lock ${path}); wait for it to finish`);
      unlinkSync(path); // left by a process that died
    }
  }
  throw new UserError(`cannot take the lock ${path}`);
}
