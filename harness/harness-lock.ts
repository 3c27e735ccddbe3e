// libvirt's test programs live in one build tree, in a cache every worktree and process of
// the machine shares (scripts/libvirt-harness.sh). Runs of them share nothing else: each
// call gets its own folders (harness/libvirt-tests-run.ts), and the programs make theirs
// with mkdtemp. But a rebuild from another libvirt-harness.patch (another worktree's)
// replaces the programs in place. So each program runs holding a shared lock on the
// cache's .lock (`flock -s`), which a build takes exclusively (it waits for the runs in
// progress, and they for it, each saying so); and it checks first that the build is still
// the one this process was handed (the key in build/.virtgold-ready), else it refuses.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Guard {
  lock: string;
  ready: string;
  /** the build this process uses (its .virtgold-ready when first seen) */
  key: string;
}

/** flock's exit when it could not take the lock; the check's when the build changed. */
export const LOCK_TIMEOUT_EXIT = 98;
export const REBUILT_EXIT = 97;

/** How long a program waits for a rebuild before giving up. */
const WAIT_S = 3600;

const keys = new Map<string, string>();

/** The guard of the programs in DIR when DIR is the cache's build (DIR = build/tests, with
 *  build/.virtgold-ready and the cache's .lock); undefined for programs elsewhere (a
 *  VIRTGOLD_LIBVIRT_TESTS folder of one's own, a stand-in). */
export function guardOf(dir: string): Guard | undefined {
  const ready = join(dir, '..', '.virtgold-ready');
  const lock = join(dir, '..', '..', '.lock');
  if (!existsSync(ready) || !existsSync(lock)) return undefined;
  let key = keys.get(dir);
  if (key === undefined) {
    try {
      key = readFileSync(ready, 'utf8').trim();
    } catch {
      return undefined;
    }
    keys.set(dir, key);
  }
  return { lock, ready, key };
}

/** PROGRAM run under the guard (flock -F: the lock is held by the program itself, so a
 *  timeout's kill reaches it), as execa's file and arguments. */
export function guarded(g: Guard, program: string): { file: string; args: string[] } {
  const check = `[ "$(cat "$1" 2>/dev/null)" = "$2" ] || exit ${REBUILT_EXIT}; exec "$3"`;
  return { file: 'flock', args: ['-F', '-s', '-w', String(WAIT_S), '-E', String(LOCK_TIMEOUT_EXIT), g.lock, 'sh', '-c', check, 'sh', g.ready, g.key, program] };
}

/** Does a build hold the cache now (a run would wait for it)? */
export async function buildInProgress(g: Guard): Promise<boolean> {
  const r = await execa('flock', ['-s', '-n', '-E', String(LOCK_TIMEOUT_EXIT), g.lock, 'true'], { reject: false, stdin: 'ignore' });
  return r.exitCode === LOCK_TIMEOUT_EXIT;
}

/** Why a guarded run did not run the program, from its exit status; undefined if it did. */
export function guardProblem(g: Guard, exitCode: number | undefined, dir: string): string | undefined {
  if (exitCode === REBUILT_EXIT) {
    return `libvirt's test harness in ${dir} was rebuilt from another libvirt-harness.patch while this run used it (another worktree's run?); run again`;
  }
  if (exitCode === LOCK_TIMEOUT_EXIT) return `waited ${WAIT_S / 60} min for a build of libvirt's test harness to finish (${g.lock}); is one stuck?`;
  return undefined;
}
