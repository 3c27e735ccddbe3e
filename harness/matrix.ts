// Case discovery and the case × snapshot × mode matrix of the contract.
import { globSync } from 'glob';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { MODES, type Mode } from '../translator/index.js';
import { HOST_ARCH } from '../translator/index.js';
import { UserError } from './io.js';

export interface Snapshot {
  arch: string;
  version: string;
  path: string;
}

export interface CaseOptions {
  /** restrict to these snapshot versions (e.g. ["8.1.0"]) */
  versions?: string[];
  /** restrict to these modes */
  modes?: Mode[];
  /** why xml2xml output is not a fixed point for this case (real libvirt's isn't either) */
  notIdempotent?: string;
}

export interface Case {
  name: string;
  path: string;
  arch: string;
  options: CaseOptions;
}

export interface MatrixEntry {
  case: Case;
  snapshot: Snapshot;
  mode: Mode;
  /** golden file stem, without extension: golden/<mode>/<case>.<arch>-<version> */
  stem: string;
}

export interface Filters {
  case?: string;
  arch?: string;
  version?: string;
  mode?: Mode;
}

const CASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const SNAPSHOT_NAME = /^caps_(\d+\.\d+\.\d+)_([A-Za-z0-9_]+)\.xml$/;

export const dirs = (root: string) => ({
  cases: join(root, 'cases'),
  capabilities: join(root, 'capabilities'),
  golden: join(root, 'golden'),
});

/** The harness reads and writes only inside the project's own folders: a file that is
 *  (or sits behind) a link leading elsewhere is refused. */
export function insideProject(root: string, path: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    let link = false;
    try { link = lstatSync(path).isSymbolicLink(); } catch { /* not there (yet) */ }
    if (link) throw new UserError(`${path} is a link that leads nowhere; refusing to use it`);
    return path;
  }
  const top = realpathSync(root);
  if (!real.startsWith(top + sep)) throw new UserError(`${path} leads outside the project (${real}); refusing to use it`);
  return path;
}

export function discoverSnapshots(root: string): Snapshot[] {
  return globSync('caps_*.xml', { cwd: dirs(root).capabilities }).sort().flatMap((f) => {
    const m = SNAPSHOT_NAME.exec(f);
    return m ? [{ version: m[1]!, arch: m[2]!, path: insideProject(root, join(dirs(root).capabilities, f)) }] : [];
  });
}

/** The arch a case runs on: its os/type/@arch, or the host arch libvirt would pick. */
function caseArch(xml: string): string {
  const type = /<type\b[^>]*>/.exec(xml.replace(/<!--[\s\S]*?-->/g, ''))?.[0];
  return (type && /\barch\s*=\s*(['"])([^'"]*)\1/.exec(type)?.[2]) || HOST_ARCH;
}

function readOptions(path: string): CaseOptions {
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: invalid JSON (${(e as Error).message})`);
  }
  const o = raw as Record<string, unknown>;
  const out: CaseOptions = {};
  for (const k of Object.keys(o)) {
    if (!['versions', 'modes', 'notIdempotent'].includes(k)) throw new UserError(`${path}: unknown option '${k}'`);
  }
  if (o.notIdempotent !== undefined) {
    if (typeof o.notIdempotent !== 'string' || !o.notIdempotent.trim()) throw new UserError(`${path}: "notIdempotent" must say why`);
    out.notIdempotent = o.notIdempotent;
  }
  if (o.versions !== undefined) {
    if (!Array.isArray(o.versions) || !o.versions.every((v) => typeof v === 'string')) throw new UserError(`${path}: "versions" must be a list of strings`);
    out.versions = o.versions as string[];
  }
  if (o.modes !== undefined) {
    if (!Array.isArray(o.modes) || !o.modes.every((m) => MODES.includes(m))) throw new UserError(`${path}: "modes" must list xml2argv and/or xml2xml`);
    out.modes = o.modes as Mode[];
  }
  return out;
}

export function discoverCases(root: string): Case[] {
  const dir = dirs(root).cases;
  return globSync('*.xml', { cwd: dir }).sort().map((f) => {
    const name = basename(f, '.xml');
    if (!CASE_NAME.test(name)) throw new UserError(`cases/${f}: case names use letters, digits, '.', '_', '+', '-'`);
    const path = insideProject(root, join(dir, f));
    return { name, path, arch: caseArch(readFileSync(path, 'utf8')), options: readOptions(join(dir, `${name}.json`)) };
  });
}

export function buildMatrix(root: string, filters: Filters = {}): MatrixEntry[] {
  const snapshots = discoverSnapshots(root);
  const out: MatrixEntry[] = [];
  for (const c of discoverCases(root)) {
    if (filters.case && !matchGlob(filters.case, c.name)) continue;
    for (const s of snapshots) {
      if (s.arch !== c.arch) continue;
      if (c.options.versions && !c.options.versions.includes(s.version)) continue;
      if (filters.arch && s.arch !== filters.arch) continue;
      if (filters.version && s.version !== filters.version) continue;
      for (const mode of c.options.modes ?? MODES) {
        if (filters.mode && mode !== filters.mode) continue;
        const stem = join(dirs(root).golden, mode, `${c.name}.${s.arch}-${s.version}`);
        for (const ext of [goldenExtension(mode), '.err']) insideProject(root, stem + ext);
        out.push({ case: c, snapshot: s, mode, stem });
      }
    }
  }
  return out;
}

export const goldenExtension = (mode: Mode) => (mode === 'xml2argv' ? '.args' : '.xml');

/** Shell-style glob on case names: *, ?, [..] and {a,b}. */
export function matchGlob(pattern: string, name: string): boolean {
  let re = '';
  let depth = 0;
  for (const c of pattern) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[' || c === ']') re += c;
    else if (c === '{') { re += '(?:'; depth++; }
    else if (c === '}' && depth > 0) { re += ')'; depth--; }
    else if (c === ',' && depth > 0) re += '|';
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`).test(name);
  } catch {
    throw new UserError(`--case: invalid pattern '${pattern}'`);
  }
}

/** Every golden file on disk, as paths. */
export function existingGoldens(root: string): string[] {
  const g = dirs(root).golden;
  return globSync(['xml2argv/*.{args,err}', 'xml2xml/*.{xml,err}'], { cwd: g }).sort().map((f) => join(g, f));
}
