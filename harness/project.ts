// What a virtgold project is and where it is: a directory holding cases/ and
// capabilities/ (golden/ is created by update). Found like npm finds package.json,
// from the working directory upwards, or exactly at --root. The harness reads and
// writes only inside it.
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { SetupError } from './errors.js';

export const dirs = (root: string) => ({
  cases: join(root, 'cases'),
  capabilities: join(root, 'capabilities'),
  golden: join(root, 'golden'),
});

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const missing = (dir: string) => (['cases', 'capabilities'] as const).filter((d) => !isDir(join(dir, d)));

/** The project root: exactly `explicit` (--root) when given, else the nearest directory
 *  at or above `cwd` with both cases/ and capabilities/. */
export function findProject(explicit: string | undefined, cwd = process.cwd()): string {
  if (explicit !== undefined) {
    const root = resolve(cwd, explicit);
    const lacks = missing(root);
    if (lacks.length) throw new SetupError(`--root ${explicit}: not a virtgold project (no ${lacks.map((d) => `${d}/`).join(' and no ')} in ${root})`);
    return root;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (!missing(dir).length) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new SetupError(`not inside a virtgold project: no directory from ${resolve(cwd)} upwards holds cases/ and capabilities/ (or use --root DIR)`);
}

const realRoots = new Map<string, string>();

/** The project root's real path, asked of the kernel once per process (every read and
 *  write of a run is judged against it). */
export function realRoot(root: string): string {
  let real = realRoots.get(root);
  if (real === undefined) realRoots.set(root, (real = realpathSync.native(root)));
  return real;
}

/** A file that is (or sits behind) a link leading out of the project is refused. A file
 *  that does not exist yet is judged by its nearest existing folder, so a link among the
 *  folders above it is caught before anything is created behind it. */
export function insideProject(root: string, path: string): string {
  const top = realRoot(root);
  let real: string | undefined;
  for (let p = path; real === undefined; p = dirname(p)) {
    try {
      real = realpathSync.native(p);
    } catch {
      let link = false;
      try { link = lstatSync(p).isSymbolicLink(); } catch { /* not there (yet) */ }
      if (link) throw new SetupError(`${p} is a link that leads nowhere; refusing to use it`);
      if (dirname(p) === p) return path;
    }
  }
  if (real !== top && !real.startsWith(top + sep)) throw new SetupError(`${path} leads outside the project (${real}); refusing to use it`);
  return path;
}

/** insideProject for many files of few folders (a matrix's goldens): each folder is
 *  judged once and listed once; only a name that is a link is followed on its own, as
 *  any other file is where its folder is. */
export function insideProjectBatch(root: string): (path: string) => string {
  const links = new Map<string, Set<string>>();
  return (path) => {
    const dir = dirname(path);
    let dirLinks = links.get(dir);
    if (!dirLinks) {
      insideProject(root, dir);
      let names: string[] = [];
      try {
        names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isSymbolicLink()).map((d) => d.name);
      } catch { /* not there (yet): nothing in it is a link */ }
      links.set(dir, (dirLinks = new Set(names)));
    }
    return dirLinks.has(path.slice(dir.length + 1)) ? insideProject(root, path) : path;
  };
}
