// Temporary folders of the harness's own (a domain handed to virsh, libvirt's test
// harness's inputs and answers): named after the process that owns them
// (PREFIX<pid>-XXXXXX), removed when the work is done and on SIGINT, SIGTERM or SIGHUP
// (harness/stop.ts). A process killed outright (SIGKILL, a crash) cannot remove its own:
// the next scratchDir of the same PREFIX sweeps the folders whose owner is gone, unless
// they were kept on purpose (keep(): their path was given to the user).
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onStop } from './stop.js';

/** The mark of a folder kept on purpose: never swept. */
export const KEPT_MARK = '.virtgold-kept';

export interface Scratch {
  path: string;
  /** Keep it (its path is shown to the user): no longer removed on a signal, never swept. */
  keep(): void;
  /** Remove it now (the work is done). */
  remove(): void;
}

const swept = new Set<string>();

const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Is process PID alive (or alive under another user)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove the PREFIX folders in DIR whose owning process is gone and that were not kept;
 *  the paths removed. */
export function sweepScratch(prefix: string, dir = tmpdir(), isAlive = alive): string[] {
  const own = new RegExp(`^${escaped(prefix)}(\\d+)-[A-Za-z0-9]{6}$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(own.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    const path = join(dir, name);
    if (existsSync(join(path, KEPT_MARK))) continue;
    try {
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch { /* another user's, or being removed by another sweep: not ours to insist */ }
  }
  return removed;
}

/** A new folder PREFIX<pid>-XXXXXX in the temporary folder (DIR), after a sweep of the
 *  folders of PREFIX that dead processes left (once per process and prefix). */
export function scratchDir(prefix: string, dir = tmpdir()): Scratch {
  if (!swept.has(`${dir}\0${prefix}`)) {
    swept.add(`${dir}\0${prefix}`);
    sweepScratch(prefix, dir);
  }
  const path = mkdtempSync(join(dir, `${prefix}${process.pid}-`));
  const off = onStop(() => rmSync(path, { recursive: true, force: true }));
  return {
    path,
    keep() {
      off();
      writeFileSync(join(path, KEPT_MARK), `kept by virtgold (pid ${process.pid}) for the user: remove it when done\n`);
    },
    remove() {
      off();
      rmSync(path, { recursive: true, force: true });
    },
  };
}
