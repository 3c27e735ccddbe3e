// File reading with messages a user can act on (no stack traces for a missing file).
import { readFileSync } from 'node:fs';
import { loadCaps, type QemuCaps } from '../translator/index.js';
import { UserError } from './errors.js';

export function readText(path: string, what: string): string {
  return readBytes(path, what).toString('utf8');
}

/** A domain as bytes: the translator checks they are UTF-8, as libxml2 does for libvirt. */
export function readBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw new UserError(`cannot read ${what} ${path}: ${why}`);
  }
}

const capsCache = new Map<string, QemuCaps>();

/** Load a capability snapshot once per process. */
export function readCaps(path: string): QemuCaps {
  let caps = capsCache.get(path);
  if (!caps) {
    caps = loadCaps(readText(path, 'capabilities file'), path);
    capsCache.set(path, caps);
  }
  return caps;
}
