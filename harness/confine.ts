// Reading and writing only inside the project, also when a folder is swapped for a link
// between a check and a use. Writes walk from the project root one folder at a time,
// each opened with O_DIRECTORY|O_NOFOLLOW, and name files *through the open descriptor*
// (/proc/self/fd/N/NAME: Linux's openat for an API that only takes paths), so a folder
// replaced by a link after it was opened is never followed. Reads resolve the file, open
// it without following a link, then ask the kernel where the opened file really is.
import {
  closeSync, constants as C, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync,
  readSync, realpathSync, renameSync, unlinkSync, writeSync, fsyncSync,
} from 'node:fs';
import { join, relative, sep } from 'node:path';
import { SetupError } from './errors.js';
import { insideProject, realRoot } from './project.js';

/** Where the kernel names an open descriptor's file; elsewhere (no /proc) paths are
 *  re-resolved each time, which narrows the race to the moment between check and use. */
const PROC = existsSync('/proc/self/fd');

/** An open folder of the project: `fd` is what later names go through. */
export interface Dir { fd: number; real: string; rel: string }

/** NAME inside an open folder, as a path the kernel resolves through the descriptor. */
export const at = (d: Dir, name: string) => {
  if (!PROC) return join(d.real, name);
  viaFd.set(d.fd, d.real);
  return `/proc/self/fd/${d.fd}/${name}`;
};

/** The folder behind each descriptor a path was last built on, so that an error about
 *  /proc/self/fd/N/NAME can name the file a user knows (the descriptor may be closed). */
const viaFd = new Map<number, string>();

/** A path as errors should name it: /proc/self/fd/N/NAME as the real folder's NAME. */
export function realPathOf(path: string): string {
  const m = /^\/proc\/self\/fd\/(\d+)\/(.*)$/.exec(path);
  const folder = m && viaFd.get(Number(m[1]));
  return folder ? join(folder, m[2]!) : path;
}

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Open ROOT/REL (REL a folder path like "golden/xml2argv/hostdev"), folder by folder
 *  from the project root, creating missing ones when asked. A link or a non-folder on
 *  the way is refused; a missing folder gives undefined when not creating. */
export function openDir(root: string, rel: string, create: boolean): Dir | undefined {
  const real = realpathSync.native(root);
  let d: Dir = { fd: openSync(real, C.O_RDONLY | C.O_DIRECTORY), real, rel: '' };
  try {
    for (const part of rel.split('/').filter(Boolean)) {
      const path = at(d, part);
      const next = join(d.rel, part);
      if (create) {
        try { mkdirSync(path, 0o755); } catch (e) { if (code(e) !== 'EEXIST') throw e; }
      }
      let fd: number;
      try {
        fd = openSync(path, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
      } catch (e) {
        if (code(e) === 'ENOENT' && !create) return closeDir(d), undefined;
        if (code(e) === 'ENOTDIR' || code(e) === 'ELOOP') {
          throw new SetupError(isLink(path) ? `${next} is a link; goldens are written only into real folders of the project` : `${next} is not a folder`);
        }
        throw e;
      }
      closeDir(d);
      d = { fd, real: join(d.real, part), rel: next };
    }
    return d;
  } catch (e) {
    closeDir(d);
    throw e;
  }
}

export function closeDir(d: Dir): void {
  try { closeSync(d.fd); } catch { /* closed already */ }
}

/** Run FN with the open folder of the file at absolute PATH (inside ROOT). */
export function inDirOf<T>(root: string, path: string, create: boolean, fn: (d: Dir, name: string) => T): T | undefined {
  const rel = relative(root, path);
  if (rel.startsWith('..') || rel.startsWith(sep)) throw new SetupError(`${path} is outside the project`);
  const parts = rel.split(sep);
  const d = openDir(root, parts.slice(0, -1).join('/'), create);
  if (!d) return undefined;
  try {
    return fn(d, parts.at(-1)!);
  } finally {
    closeDir(d);
  }
}

/** Write NAME in D atomically: a temporary file created exclusively (never through a
 *  link), fsynced, then renamed over NAME, so a kill leaves the old file or the new one.
 *  `before` runs between the fsync and the rename (removing a golden this one replaces,
 *  as late as possible). */
export function writeAtomicIn(d: Dir, name: string, data: string, before?: () => void): void {
  const tmp = `.${name}.${process.pid}.tmp`;
  const create = () => openSync(at(d, tmp), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o644);
  let fd: number;
  try {
    fd = create();
  } catch (e) {
    if (code(e) !== 'EEXIST') throw e;
    unlinkSync(at(d, tmp)); // left by a dead process that had our pid: the name is ours
    fd = create();
  }
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(at(d, tmp)); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  before?.();
  renameSync(at(d, tmp), at(d, name));
}

/** The text of a file of the project, or undefined when it does not exist. A file that is
 *  (or sits behind) a link leading out of the project is refused, judged on the file
 *  actually opened, so swapping a link in after the check does not help. */
export function readInside(root: string, path: string): string | undefined {
  return readInsideBytes(root, path)?.toString('utf8');
}

/** The bytes of a file of the project, checked as readInside checks it (a domain's bytes
 *  are the translator's to judge: they must be UTF-8). */
export function readInsideBytes(root: string, path: string): Buffer | undefined {
  if (PROC) return readJudgingOpened(root, path);
  // Without /proc the path is judged first, then its real path opened without following.
  let real: string;
  try {
    real = realpathSync.native(insideProject(root, path));
  } catch (e) {
    if (code(e) !== 'ENOENT') throw e;
    // A link that leads nowhere is refused, not taken for a missing file.
    if (isLink(path)) insideProject(root, path);
    return undefined;
  }
  let fd: number;
  try {
    fd = openSync(real, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    if (code(e) === 'ELOOP') throw new SetupError(`${path} changed into a link while being read; refusing to use it`);
    throw e;
  }
  try {
    return readOpened(fd, path);
  } finally {
    closeSync(fd);
  }
}

/** The bytes of an open file, refusing a folder or anything but a regular file. */
function readOpened(fd: number, path: string): Buffer {
  const st = fstatSync(fd);
  if (st.isDirectory()) throw new SetupError(`${path} is a folder, not a file`);
  if (!st.isFile()) throw new SetupError(`${path} is not a regular file; refusing to read it`);
  // Read by the size just seen, as readFileSync does after its own fstat (one fstat less
  // for each of the thousands of goldens a run reads).
  const buf = Buffer.allocUnsafe(st.size);
  let n = 0;
  while (n < buf.length) {
    const got = readSync(fd, buf, n, buf.length - n, null);
    if (got === 0) break;
    n += got;
  }
  return n < buf.length ? buf.subarray(0, n) : buf;
}

/** Where /proc is: open the path as it is (links followed, never blocking on a FIFO) and
 *  judge what was opened, which no later change of the path can swap. One lookup of the
 *  path instead of a realpath and an open: the golden matrix reads thousands of files. */
function readJudgingOpened(root: string, path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, C.O_RDONLY | C.O_NONBLOCK);
  } catch (e) {
    if (code(e) !== 'ENOENT') throw e;
    // A link that leads nowhere is refused, not taken for a missing file.
    if (isLink(path)) insideProject(root, path);
    return undefined;
  }
  try {
    const opened = readlinkSync(`/proc/self/fd/${fd}`);
    if (!opened.startsWith(realRoot(root) + sep)) throw new SetupError(`${path} leads outside the project (${opened}); refusing to use it`);
    return readOpened(fd, path);
  } finally {
    closeSync(fd);
  }
}
