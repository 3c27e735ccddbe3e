// The golden tree, owned here and nowhere else: where an entry's golden lives
// (golden/<mode>/<case path>.<arch>-<version>.<args|xml|err>), reading it, atomic
// writes and removals, goldens no entry produces (stale), leftovers of killed updates,
// and the lock that lets one update run at a time.
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants, fstatSync, linkSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { at, closeDir, inDirOf, openDir, readInside, writeAtomicIn, type Dir } from './confine.js';
import { SetupError, UserError } from './errors.js';
import { selected } from './filters.js';
import { missingGoldenHint } from './hints.js';
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

/** The project root of an entry (its stem is ROOT/relStem). */
export const rootOf = (entry: MatrixEntry) => entry.stem.slice(0, entry.stem.length - entry.relStem.length - 1);

/** The entry's golden, or why it has none usable (missing, or both kinds present).
 *  With `onDisk` (existingGoldens() of the run, as a set) only files listed there are
 *  opened: a matrix of thousands of entries then skips a failed open per entry. */
export function lookupGolden(entry: MatrixEntry, onDisk?: ReadonlySet<string>): Golden | string {
  const { output, error } = goldenPaths(entry);
  const root = rootOf(entry);
  const read = (p: string) => (onDisk && !onDisk.has(p) ? undefined : readInside(root, p));
  const out = read(output);
  const err = read(error);
  const ext = goldenExtension(entry.mode);
  if (out !== undefined && err !== undefined) return `both ${entry.relStem}${ext} and ${entry.relStem}.err exist; remove one`;
  if (out !== undefined) return { rel: entry.relStem + ext, kind: 'output', text: out };
  if (err !== undefined) return { rel: `${entry.relStem}.err`, kind: 'error', text: err };
  return `no golden: ${entry.relStem}${ext} or ${entry.relStem}.err is missing (${missingGoldenHint(root)})`;
}

/** The golden an entry has on disk, if exactly one. */
export function readGolden(entry: MatrixEntry): Golden | undefined {
  const g = lookupGolden(entry);
  return typeof g === 'string' ? undefined : g;
}

/** Visit every file under golden/REL (dot files too) with its open folder; a folder that
 *  is a link is refused rather than followed. */
function walkGolden(root: string, rel: string, fn: (d: Dir, name: string, rel: string) => void): void {
  const d = openDir(root, join('golden', rel), false);
  if (!d) return;
  const sub: string[] = [];
  try {
    for (const e of readdirSync(at(d, '.'), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) sub.push(r);
      else if (e.isSymbolicLink() && isFolder(at(d, e.name))) throw new SetupError(`golden/${r} is a link to a folder; the golden tree holds only real folders`);
      else fn(d, e.name, r);
    }
  } finally {
    closeDir(d);
  }
  for (const r of sub.sort()) walkGolden(root, r, fn);
}

const isFolder = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Every golden file on disk, as absolute paths. */
export function existingGoldens(root: string): string[] {
  const found: string[] = [];
  for (const [mode, ext] of [['xml2argv', '.args'], ['xml2xml', '.xml']] as const) {
    walkGolden(root, mode, (_d, name, rel) => {
      if (!rel.split('/').some((p) => p.startsWith('.')) && (name.endsWith(ext) || name.endsWith('.err'))) found.push(join(dirs(root).golden, rel));
    });
  }
  return found.sort();
}

const GOLDEN_NAME = /^(xml2argv|xml2xml)\/(.+)\.([A-Za-z0-9_]+)-(\d+\.\d+\.\d+)\.(args|xml|err)$/;

/** Goldens that no entry of the full matrix produces, limited to those the filters would
 *  select, so that `run` and `update` with the same filters name the same ones. */
export function staleGoldens(root: string, all: MatrixEntry[], filters: Filters = {}, onDisk = existingGoldens(root)): string[] {
  const wanted = new Set<string>();
  for (const e of all) for (const p of Object.values(goldenPaths(e))) wanted.add(p);
  return [...onDisk].filter((p) => {
    if (wanted.has(p)) return false;
    const m = GOLDEN_NAME.exec(relative(dirs(root).golden, p));
    // A name the layout cannot parse is stale under any filter.
    return !m || selected(filters, { mode: m[1] as Mode, case: m[2]!, arch: m[3]!, version: m[4]! });
  });
}

/** Write a temporary file beside the target, fsync, rename: a run killed at any moment
 *  leaves either the old file or the new one. (For files outside the golden tree, such as
 *  capture-caps' snapshots; goldens go through writeGolden.) */
export function writeFileAtomic(path: string, data: string): void {
  const fd = openSync(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    writeAtomicIn({ fd, real: dirname(path), rel: '' }, basename(path), data);
  } finally {
    closeSync(fd);
  }
}

/** Write a golden atomically, its folders created as needed, never through a link.
 *  `replaces` is the entry's golden of the other kind (.err for .args, …): it is removed
 *  only once the new file is complete, just before the rename, so that at no moment both
 *  kinds exist; a kill between the two leaves the entry with no golden, which `run`
 *  reports as missing and the next update writes. */
export function writeGolden(root: string, path: string, text: string, replaces?: string): void {
  inDirOf(root, insideProject(root, path), true, (d, name) => {
    writeAtomicIn(d, name, text, replaces === undefined ? undefined : () => {
      if (dirname(replaces) !== dirname(path)) throw new Error(`${replaces} is not beside ${path}`);
      try { unlinkSync(at(d, basename(replaces))); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
    });
  });
}

/** Remove a golden (a link among goldens is removed itself, never what it points to). */
export function removeGolden(root: string, path: string): void {
  inDirOf(root, path, false, (d, name) => unlinkSync(at(d, name)));
}

/** Temporary files of an update that was killed before it could rename them. */
export function removeLeftovers(root: string): void {
  walkGolden(root, '', (d, name) => {
    const m = /^\..*\.(\d+)\.tmp$/.exec(name);
    if (!m) return;
    let alive = false;
    try { process.kill(Number(m[1]), 0); alive = Number(m[1]) !== process.pid; } catch (e) { alive = (e as NodeJS.ErrnoException).code === 'EPERM'; }
    if (!alive) unlinkSync(at(d, name));
  });
}

const LOCK = '.update.lock';
/** A claim older than this can no longer be raced for (see takeLock): removed. */
const CLAIM_TTL_MS = 3600_000;
/** A lock file that is not ours in form (empty, garbage) counts as being written this long. */
const GARBAGE_GRACE_MS = 2000;

interface Holder { text: string; pid?: number; key: string; alive: boolean }

/** Who the lock file (or a claim) NAME in D names, or undefined when it is gone. The key
 *  names it for a takeover: its nonce, or for a lock not written by this version, the file
 *  itself (inode and time). */
function holderOf(d: Dir, name: string): Holder | undefined {
  let text: string;
  let st: Stats;
  try {
    const fd = openSync(at(d, name), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      st = fstatSync(fd);
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const m = /^(\d+)(?: ([0-9a-f]{16}))?\n?$/.exec(text);
  const key = m?.[2] ?? `i${st.ino}-${Math.round(st.mtimeMs)}`;
  if (!m) return { text, key, alive: Date.now() - st.mtimeMs < GARBAGE_GRACE_MS };
  const pid = Number(m[1]);
  let alive = pid > 0;
  try { process.kill(pid, 0); } catch (e) { alive &&= (e as NodeJS.ErrnoException).code === 'EPERM'; }
  // Our own pid on a lock we do not hold: a dead process that had it (a container's
  // update often gets the same pid each time), not us.
  if (pid === process.pid) alive = ours.has(text);
  return { text, pid, key, alive };
}

/** The locks this process holds, by their text. */
const ours = new Set<string>();

const busy = (h: Holder, root: string) => new UserError(h.pid
  ? `another update is running (pid ${h.pid}, lock ${join(root, 'golden', LOCK)}); wait for it to finish`
  : `another update is taking the lock ${join(root, 'golden', LOCK)}; wait for it to finish`);

/** One update at a time: golden/.update.lock holds "PID NONCE", created complete (a
 *  written temporary file hard-linked into place, so it is never seen empty). A lock whose
 *  process is dead is taken over without a read-unlink-create race: the right to replace
 *  the dead holder with nonce N belongs to whoever creates golden/.update.lock.claim-N
 *  first (link is exclusive); a claimant that died is itself taken over through its own
 *  nonce the same way. Only the winner renames its lock over the dead one. */
export function takeLock(root: string): () => void {
  const d = openDir(root, 'golden', true)!;
  const nonce = randomBytes(8).toString('hex');
  const mine = `${process.pid} ${nonce}\n`;
  const tmp = `${LOCK}.${nonce}.${process.pid}.tmp`;
  const fd = openSync(at(d, tmp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try { writeSync(fd, mine); } finally { closeSync(fd); }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    ours.delete(mine);
    try { if (holderOf(d, LOCK)?.text === mine) unlinkSync(at(d, LOCK)); } catch { /* gone already */ }
    closeDir(d);
  };
  let ok = false;
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        linkSync(at(d, tmp), at(d, LOCK));
        ok = true;
        return held(d, mine, release);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let h = holderOf(d, LOCK);
      if (!h) continue; // released meanwhile: try again
      if (h.alive) throw busy(h, root);
      const dead = [h.text];
      let won = false;
      while (!won) {
        try {
          linkSync(at(d, tmp), at(d, `${LOCK}.claim-${h.key}`));
          won = true;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          const claimant = holderOf(d, `${LOCK}.claim-${h.key}`);
          if (!claimant) break;
          if (claimant.alive) throw busy(claimant, root);
          dead.push(claimant.text);
          h = claimant;
        }
      }
      if (!won) continue;
      // Nobody else can replace a lock held by one of `dead` now; a lock that moved on
      // meanwhile (our view was older than a finished takeover) is judged afresh.
      const now = holderOf(d, LOCK);
      if (!now || !dead.includes(now.text)) continue;
      renameSync(at(d, tmp), at(d, LOCK));
      ok = true;
      return held(d, mine, release);
    }
    throw new UserError(`cannot take the lock ${join(root, 'golden', LOCK)}`);
  } finally {
    try { unlinkSync(at(d, tmp)); } catch { /* gone */ }
    if (!ok) closeDir(d);
  }
}

/** Once the lock is ours: claims old enough that no one can still be racing for them go. */
function held(d: Dir, mine: string, release: () => void): () => void {
  ours.add(mine);
  for (const f of readdirSync(at(d, '.'))) {
    if (!f.startsWith(`${LOCK}.claim-`)) continue;
    try { if (Date.now() - lstatSync(at(d, f)).mtimeMs > CLAIM_TTL_MS) unlinkSync(at(d, f)); } catch { /* gone */ }
  }
  return release;
}
