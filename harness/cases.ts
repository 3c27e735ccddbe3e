// Case discovery and the case × snapshot × mode matrix of the contract.
//
// Cases live in folders under cases/; a case's name is its path without .xml
// ("hostdev/vfio"). Options narrow a case (versions, modes) or excuse it
// (notIdempotent). They come from, nearest first: the case's own NAME.json beside it,
// then options.json of its folder, then of each parent folder up to cases/ itself.
// Each key takes its value from the nearest file that sets it; null there removes what a
// parent set.
import { globSync } from 'glob';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { HOST_ARCH, MODES } from '../translator/index.js';
import { readInside, readInsideBytes } from './confine.js';
import { SetupError } from './errors.js';
import { caseSelected, describeFilters, selected } from './filters.js';
import { relStemOf, rootOf } from './goldens.js';
import { dirs, insideProject, insideProjectBatch } from './project.js';
import type { Case, CaseOptions, Filters, MatrixEntry, Mode, Snapshot } from './types.js';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const SNAPSHOT_NAME = /^caps_(\d+\.\d+\.\d+)_([A-Za-z0-9_]+)\.xml$/;
const FOLDER_OPTIONS = 'options.json';
// 'note' says why a case narrows itself, for the people who read it; nothing reads it.
const OPTION_KEYS = ['versions', 'modes', 'notIdempotent', 'schemaInvalid', 'note'] as const;

/** The version a snapshot file's name gives it (caps_8.1.0_s390x.xml: 8.1.0), when the name
 *  follows the project's pattern for that arch: the name a golden carries, which a QEMU
 *  development version inside (8.0.50) does not say. */
export function namedVersion(file: string, arch: string): string | undefined {
  const m = SNAPSHOT_NAME.exec(basename(file));
  return m && m[2] === arch ? m[1] : undefined;
}

export function discoverSnapshots(root: string): Snapshot[] {
  return globSync('caps_*.xml', { cwd: dirs(root).capabilities }).sort().flatMap((f) => {
    const m = SNAPSHOT_NAME.exec(f);
    return m ? [{ version: m[1]!, arch: m[2]!, path: insideProject(root, join(dirs(root).capabilities, f)) }] : [];
  });
}

/** The arch a domain runs on: its os/type/@arch, or the host arch libvirt would pick. */
export function domainArch(xml: string): string {
  const type = /<type\b[^>]*>/.exec(xml.replace(/<!--[\s\S]*?-->/g, ''))?.[0];
  return (type && /\barch\s*=\s*(['"])([^'"]*)\1/.exec(type)?.[2]) || HOST_ARCH;
}

type RawOptions = { [K in keyof CaseOptions]?: CaseOptions[K] | null };

/** One options file, checked key by key; null is kept (it unsets an inherited key). */
function readOptionsFile(root: string, rel: string): RawOptions {
  const text = readInside(root, join(root, rel));
  if (text === undefined) throw new SetupError(`${rel}: vanished while being read`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SetupError(`${rel}: invalid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SetupError(`${rel}: must hold a JSON object`);
  const o = raw as Record<string, unknown>;
  const out: RawOptions = {};
  for (const k of Object.keys(o)) {
    if (!(OPTION_KEYS as readonly string[]).includes(k)) throw new SetupError(`${rel}: unknown option '${k}' (${OPTION_KEYS.join(', ')})`);
  }
  if (o.note !== undefined && (typeof o.note !== 'string' || !o.note.trim())) throw new SetupError(`${rel}: "note" must be text`);
  if (o.notIdempotent !== undefined) {
    if (o.notIdempotent !== null && (typeof o.notIdempotent !== 'string' || !o.notIdempotent.trim())) throw new SetupError(`${rel}: "notIdempotent" must say why`);
    out.notIdempotent = o.notIdempotent as string | null;
  }
  if (o.schemaInvalid !== undefined) {
    if (o.schemaInvalid !== null && (typeof o.schemaInvalid !== 'string' || !o.schemaInvalid.trim())) throw new SetupError(`${rel}: "schemaInvalid" must say why`);
    out.schemaInvalid = o.schemaInvalid as string | null;
  }
  if (o.versions !== undefined) {
    if (o.versions !== null && (!Array.isArray(o.versions) || !o.versions.length || !o.versions.every((v) => typeof v === 'string'))) {
      throw new SetupError(`${rel}: "versions" must be a non-empty list of strings`);
    }
    out.versions = o.versions as string[] | null;
  }
  if (o.modes !== undefined) {
    if (o.modes !== null && (!Array.isArray(o.modes) || !o.modes.length || !o.modes.every((m) => MODES.includes(m)))) {
      throw new SetupError(`${rel}: "modes" must list xml2argv and/or xml2xml`);
    }
    out.modes = o.modes as Mode[] | null;
  }
  return out;
}

/** Folder options from cases/ down to the case's folder, then the case's own file. */
function caseOptions(root: string, name: string, files: Set<string>, cache: Map<string, RawOptions>): CaseOptions {
  const folders = name.split('/').slice(0, -1);
  const chain = folders.map((_, i) => posix.join('cases', ...folders.slice(0, i + 1), FOLDER_OPTIONS));
  chain.unshift(posix.join('cases', FOLDER_OPTIONS));
  chain.push(`cases/${name}.json`);
  const merged: Record<string, unknown> = {};
  for (const rel of chain.filter((r) => files.has(r))) {
    let o = cache.get(rel);
    if (!o) cache.set(rel, (o = readOptionsFile(root, rel)));
    for (const [k, v] of Object.entries(o)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
  }
  return merged as CaseOptions;
}

export function discoverCases(root: string): Case[] {
  const dir = dirs(root).cases;
  const xmls = globSync('**/*.xml', { cwd: dir, posix: true }).sort();
  const jsons = new Set(globSync('**/*.json', { cwd: dir, posix: true }).map((f) => `cases/${f}`));
  const names = new Set(xmls.map((f) => f.slice(0, -'.xml'.length)));
  // An options file that belongs to nothing is a typo that would silently do nothing.
  for (const j of jsons) {
    const rel = j.slice('cases/'.length);
    if (posix.basename(rel) === FOLDER_OPTIONS) continue;
    if (!names.has(rel.slice(0, -'.json'.length))) throw new SetupError(`${j}: no case ${rel.slice(0, -'.json'.length)}.xml beside it (folder options go in ${posix.join(dirname(j), FOLDER_OPTIONS)})`);
  }
  const cache = new Map<string, RawOptions>();
  return xmls.map((f) => {
    const name = f.slice(0, -'.xml'.length);
    const segments = name.split('/');
    if (!segments.every((s) => SEGMENT.test(s))) throw new SetupError(`cases/${f}: case and folder names use letters, digits, '.', '_', '+', '-'`);
    if (segments.at(-1) === 'options') throw new SetupError(`cases/${f}: a case cannot be called 'options' (options.json is the folder's options file)`);
    const path = join(dir, f);
    const xml = readInside(root, path);
    if (xml === undefined) throw new SetupError(`cases/${f}: vanished while being read`);
    return { name, path, arch: domainArch(xml), options: caseOptions(root, name, jsons, cache) };
  });
}

/** A case's input read again (run, update): judged on the file opened, as at discovery,
 *  so a link swapped in since then is refused. */
export function readCase(entry: MatrixEntry): string {
  return readCaseBytes(entry).toString('utf8');
}

// An entry is read once however many times it is translated (the runner, the adapter,
// the determinism check): entries are made afresh for every run, so nothing goes stale.
const readBytes = new WeakMap<MatrixEntry, Buffer>();

/** The case's bytes, read as readCase reads them. */
export function readCaseBytes(entry: MatrixEntry): Buffer {
  let xml = readBytes.get(entry);
  if (xml) return xml;
  // A domain of no project (compare's inputs: any file the user names) is read as it is.
  xml = entry.stem ? readInsideBytes(rootOf(entry), entry.case.path) : readFileSync(entry.case.path);
  if (xml === undefined) throw new SetupError(`cases/${entry.case.name}.xml: vanished since the run started`);
  readBytes.set(entry, xml);
  return xml;
}

/** The snapshots a case runs on, before any filter. */
const snapshotsOf = (c: Case, snapshots: Snapshot[]) =>
  snapshots.filter((s) => s.arch === c.arch && (!c.options.versions || c.options.versions.includes(s.version)));

function entriesOf(root: string, c: Case, snapshots: Snapshot[], inside: (path: string) => string): MatrixEntry[] {
  const out: MatrixEntry[] = [];
  for (const s of snapshotsOf(c, snapshots)) {
    for (const mode of c.options.modes ?? MODES) {
      const relStem = relStemOf(mode, c.name, s.arch, s.version);
      const stem = join(root, relStem);
      for (const ext of [mode === 'xml2argv' ? '.args' : '.xml', '.err']) inside(stem + ext);
      out.push({ case: c, snapshot: s, mode, stem, relStem });
    }
  }
  return out;
}

export interface Selection {
  /** the whole matrix, unfiltered (stale goldens are judged against it) */
  all: MatrixEntry[];
  /** the entries the filters select */
  entries: MatrixEntry[];
  /** why the selection tests nothing, or less than was asked: each a reason to refuse the run */
  problems: string[];
}

/** The matrix and the filtered selection, with every way in which it would test nothing. */
export function selectEntries(root: string, filters: Filters = {}): Selection {
  const snapshots = discoverSnapshots(root);
  const cases = discoverCases(root);
  const inside = insideProjectBatch(root);
  const all = cases.flatMap((c) => entriesOf(root, c, snapshots, inside));
  const entries = all.filter((e) => selected(filters, { case: e.case.name, arch: e.snapshot.arch, version: e.snapshot.version, mode: e.mode }));
  const problems: string[] = [];
  const list = (xs: string[]) => [...new Set(xs)].join(', ');
  if (!snapshots.length) problems.push(`no snapshot: ${dirs(root).capabilities} holds no caps_VERSION_ARCH.xml`);
  if (!cases.length) problems.push(`no case: ${dirs(root).cases} holds no *.xml`);
  for (const p of filters.case ?? []) {
    if (cases.length && !cases.some((c) => caseSelected({ case: [p] }, c.name))) problems.push(`--case '${p}' matches no case under cases/`);
  }
  for (const a of filters.arch ?? []) {
    if (snapshots.length && !snapshots.some((s) => s.arch === a)) problems.push(`--arch ${a}: no snapshot for it (snapshots are for ${list(snapshots.map((s) => s.arch))})`);
  }
  for (const v of filters.version ?? []) {
    if (snapshots.length && !snapshots.some((s) => s.version === v)) problems.push(`--version ${v}: no snapshot of it (snapshots are of ${list(snapshots.map((s) => s.version))})`);
  }
  if (snapshots.length) {
    for (const c of cases.filter((x) => caseSelected(filters, x.name))) {
      if (snapshotsOf(c, snapshots).length) continue;
      const ofArch = snapshots.filter((s) => s.arch === c.arch).map((s) => s.version);
      problems.push(ofArch.length
        ? `cases/${c.name}.xml: its options name versions ${c.options.versions!.join(', ')}, but the ${c.arch} snapshots are ${ofArch.join(', ')}`
        : `cases/${c.name}.xml: no snapshot for its arch ${c.arch}`);
    }
  }
  if (!problems.length && !entries.length) problems.push(`no entry matches ${describeFilters(filters)}`);
  return { all, entries, problems };
}

/** The selected entries, refusing a selection that tests nothing unless told it may. */
export function checkedSelection(root: string, filters: Filters, passWithNoEntries = false): Selection {
  const s = selectEntries(root, filters);
  if (s.problems.length && !passWithNoEntries) {
    throw new SetupError(`${s.problems.join('; ')} (--pass-with-no-entries to run anyway)`);
  }
  return s;
}

/** The selected entries, without the checks (for tools that build their own matrix). */
export const buildMatrix = (root: string, filters: Filters = {}) => selectEntries(root, filters).entries;
