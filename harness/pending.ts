// Pending results, in the manner of insta's .snap.new: what a failing entry actually
// produced is kept outside golden/, in .virtgold/pending/ (git-ignored), under the golden
// layout — <mode>/<case>.<arch>-<version>.<args|xml|err> — with <stem>.json beside it
// (case, snapshot, mode, adapter, when). `virtgold review`, `accept` and `reject` act on
// them; `run --update` (or VIRTGOLD_UPDATE=1) writes the golden at once instead.
// Every write and removal goes through harness/confine.ts: atomic, inside the project.
import { readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { selectEntries } from './cases.js';
import { at, closeDir, inDirOf, openDir, readInside, writeAtomicIn, type Dir } from './confine.js';
import { selected } from './filters.js';
import { isVirtgoldCorpus, rootNote } from './hints.js';
import { goldenExtension, writeGolden } from './goldens.js';
import type { Filters, Golden, MatrixEntry, Mode, Outcome } from './types.js';

export const PENDING_DIR = '.virtgold/pending';

export interface PendingMeta {
  case: string;
  /** the case file and the snapshot, relative to the project root */
  input: string;
  snapshot: string;
  mode: Mode;
  arch: string;
  version: string;
  /** the translator that produced it (as `run` names it) */
  adapter: string;
  /** ISO time of the run */
  when: string;
  /** the golden it becomes when accepted, relative to the project root */
  golden: string;
  /** the command that reproduces it, when known */
  command?: string;
}

export interface Pending {
  mode: Mode;
  case: string;
  arch: string;
  version: string;
  kind: 'output' | 'error';
  /** the pending file and the golden it would become, relative to the project root */
  rel: string;
  golden: string;
  text: string;
  /** undefined when the metadata file is missing or unreadable (the name says the rest) */
  meta?: PendingMeta;
}

const NAME = /^(xml2argv|xml2xml)\/(.+)\.([A-Za-z0-9_]+)-(\d+\.\d+\.\d+)\.(args|xml|err)$/;

const stemOf = (mode: Mode, caseName: string, arch: string, version: string) => `${mode}/${caseName}.${arch}-${version}`;
const extOf = (mode: Mode, kind: 'output' | 'error') => (kind === 'error' ? '.err' : goldenExtension(mode));

function unlinkIn(root: string, rel: string): boolean {
  return inDirOf(root, join(root, rel), false, (d, name) => {
    try {
      unlinkSync(at(d, name));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }) ?? false;
}

/** Remove an entry's pending result (either kind) and its metadata. */
function dropStem(root: string, stem: string, mode: Mode): boolean {
  let any = false;
  for (const ext of [goldenExtension(mode), '.err', '.json']) any = unlinkIn(root, `${PENDING_DIR}/${stem}${ext}`) || any;
  // Folders left empty go, up to .virtgold/pending/ itself: nothing pending, nothing there.
  for (let dir = dirname(`${PENDING_DIR}/${stem}`); any && dir !== PENDING_DIR && dir.startsWith(PENDING_DIR); dir = dirname(dir)) {
    const gone = inDirOf(root, join(root, dir), false, (d, name) => {
      try {
        rmdirSync(at(d, name));
        return true;
      } catch {
        return false; // not empty (or gone): the folders above are not empty either
      }
    });
    if (!gone) break;
  }
  return any;
}

/** Keep ENTRY's actual outcome as pending: the file of its kind written atomically, the
 *  other kind removed, then the metadata. */
export function keepPending(root: string, entry: MatrixEntry, outcome: Outcome & { kind: 'output' | 'error' }, meta: Pick<PendingMeta, 'adapter' | 'when' | 'command'>): string {
  const { mode } = entry;
  const stem = stemOf(mode, entry.case.name, entry.snapshot.arch, entry.snapshot.version);
  const ext = extOf(mode, outcome.kind);
  const other = outcome.kind === 'error' ? goldenExtension(mode) : '.err';
  const rel = `${PENDING_DIR}/${stem}${ext}`;
  inDirOf(root, join(root, rel), true, (d, name) => writeAtomicIn(d, name, outcome.text));
  unlinkIn(root, `${PENDING_DIR}/${stem}${other}`);
  const full: PendingMeta = {
    case: entry.case.name,
    input: `cases/${entry.case.name}.xml`,
    snapshot: `capabilities/${entry.snapshot.path.split('/').at(-1)}`,
    mode,
    arch: entry.snapshot.arch,
    version: entry.snapshot.version,
    adapter: meta.adapter,
    when: meta.when,
    golden: `${entry.relStem}${ext}`,
    ...(meta.command ? { command: meta.command } : {}),
  };
  inDirOf(root, join(root, `${PENDING_DIR}/${stem}.json`), true, (d, name) => writeAtomicIn(d, name, `${JSON.stringify(full, null, 2)}\n`));
  return rel;
}

/** Every pending result under the filters, in golden order. */
export function listPending(root: string, filters: Filters = {}): Pending[] {
  const found: Pending[] = [];
  const walk = (rel: string) => {
    const d: Dir | undefined = openDir(root, rel ? `${PENDING_DIR}/${rel}` : PENDING_DIR, false);
    if (!d) return;
    const sub: string[] = [];
    const files: string[] = [];
    try {
      for (const e of readdirSync(at(d, '.'), { withFileTypes: true })) {
        if (e.name.startsWith('.')) continue; // temporary files of a write in progress
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) sub.push(r);
        else if (e.isFile()) files.push(r);
      }
    } finally {
      closeDir(d);
    }
    for (const r of files) {
      const m = NAME.exec(r);
      if (!m) continue;
      const [, mode, name, arch, version, ext] = m as unknown as [string, Mode, string, string, string, string];
      if (!selected(filters, { mode, case: name, arch, version })) continue;
      const text = readInside(root, join(root, PENDING_DIR, r));
      if (text === undefined) continue; // accepted or rejected meanwhile
      const kind = ext === 'err' ? 'error' : 'output';
      found.push({ mode, case: name, arch, version, kind, rel: `${PENDING_DIR}/${r}`, golden: `golden/${r}`, text, meta: readMeta(root, stemOf(mode, name, arch, version)) });
    }
    for (const r of sub.sort()) walk(r);
  };
  walk('');
  return found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

function readMeta(root: string, stem: string): PendingMeta | undefined {
  try {
    const text = readInside(root, join(root, PENDING_DIR, `${stem}.json`));
    return text === undefined ? undefined : (JSON.parse(text) as PendingMeta);
  } catch {
    return undefined;
  }
}

/** Why a pending result can no longer become a golden (its case or snapshot is gone, or
 *  its options no longer run it there), else undefined. `all` is the project's matrix. */
export function orphaned(p: Pending, all: MatrixEntry[]): string | undefined {
  const stem = `golden/${stemOf(p.mode, p.case, p.arch, p.version)}`;
  return all.some((e) => e.relStem === stem) ? undefined : `no entry ${p.mode} ${p.case} ${p.arch}-${p.version} any more (case, snapshot or options changed); reject it`;
}

/** The project's whole matrix, for orphaned(). */
export const projectMatrix = (root: string) => selectEntries(root).all;

/** The golden's current text (either kind), for showing what accepting changes. */
export function goldenNow(root: string, p: Pick<Pending, 'mode' | 'case' | 'arch' | 'version'>): Golden | undefined {
  const stem = `golden/${stemOf(p.mode, p.case, p.arch, p.version)}`;
  for (const kind of ['output', 'error'] as const) {
    const rel = `${stem}${extOf(p.mode, kind)}`;
    const text = readInside(root, join(root, rel));
    if (text !== undefined) return { rel, kind, text };
  }
  return undefined;
}

/** Accept: the pending text becomes the golden (written atomically, the golden of the
 *  other kind removed as it lands), then the pending files go. */
export function acceptPending(root: string, p: Pending): void {
  const stem = `golden/${stemOf(p.mode, p.case, p.arch, p.version)}`;
  const other = `${stem}${extOf(p.mode, p.kind === 'error' ? 'output' : 'error')}`;
  writeGolden(root, join(root, p.golden), p.text, join(root, other));
  dropStem(root, stemOf(p.mode, p.case, p.arch, p.version), p.mode);
}

/** Reject: the pending files go, the golden stays. */
export function rejectPending(root: string, p: Pending): void {
  dropStem(root, stemOf(p.mode, p.case, p.arch, p.version), p.mode);
}

export interface Keeper {
  /** the runner's hook (RunOptions.golden): called with each outcome judged against its
   *  golden file; returns the golden it wrote in update mode */
  golden(entry: MatrixEntry, outcome: Outcome & { kind: 'output' | 'error' }, ok: boolean): Golden | undefined;
  /** pending files written (relative), goldens written by --update (relative) */
  kept: string[];
  written: string[];
  /** pending results removed because their entry now passes */
  cleared: number;
  /** why pending results could not be kept (the run goes on without them) */
  problem?: string;
}

/** What `run` does with each judged outcome: a pass clears the entry's pending result; a
 *  failure is kept as pending, or (update) written as the golden at once. */
export function pendingKeeper(root: string, adapter: string, o: { update?: boolean; keep?: boolean; command?: (entry: MatrixEntry) => string } = {}): Keeper {
  const when = new Date().toISOString();
  // Which entries have something pending, listed once: a passing run of thousands of
  // entries then touches nothing on disk.
  const before = new Set(listPending(root).map((p) => stemOf(p.mode, p.case, p.arch, p.version)));
  const k: Keeper = {
    kept: [],
    written: [],
    cleared: 0,
    golden(entry, outcome, ok) {
      const stem = stemOf(entry.mode, entry.case.name, entry.snapshot.arch, entry.snapshot.version);
      if (ok) {
        if (before.has(stem) && dropStem(root, stem, entry.mode)) k.cleared++;
        return undefined;
      }
      if (!o.update) {
        if (k.problem || o.keep === false) return undefined;
        try {
          k.kept.push(keepPending(root, entry, outcome, { adapter, when, command: o.command?.(entry) }));
        } catch (e) {
          const { code, message } = e as NodeJS.ErrnoException;
          k.problem = `cannot keep pending results in ${PENDING_DIR}/: ${code ?? message}`;
        }
        return undefined;
      }
      const path = `${entry.stem}${extOf(entry.mode, outcome.kind)}`;
      const other = `${entry.stem}${extOf(entry.mode, outcome.kind === 'error' ? 'output' : 'error')}`;
      writeGolden(root, path, outcome.text, other);
      if (before.has(stem)) dropStem(root, stem, entry.mode);
      const rel = `${entry.relStem}${extOf(entry.mode, outcome.kind)}`;
      k.written.push(rel);
      return { rel, kind: outcome.kind, text: outcome.text };
    },
  };
  return k;
}

/** VIRTGOLD_UPDATE: `1` is `run --update` (as libvirt's VIR_TEST_REGENERATE_OUTPUT=1);
 *  `no` keeps no pending results either (as insta's INSTA_UPDATE=no; the run still records
 *  itself in .virtgold/last-run.json for --only-failures); unset, empty or `0`: failing
 *  results are kept as pending. */
export function updateFromEnv(env: NodeJS.ProcessEnv = process.env): 'update' | 'pending' | 'none' {
  const v = env.VIRTGOLD_UPDATE;
  return !v || v === '0' ? 'pending' : v === 'no' ? 'none' : 'update';
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The end of a run: what is pending and how to act on it; what --update wrote. */
export function pendingFooter(root: string, k: Keeper): string {
  const lines: string[] = [];
  if (k.written.length) {
    for (const w of k.written) lines.push(`written   ${w}`);
    lines.push(`${plural(k.written.length, 'golden')} written from this run's results (--update)`);
  }
  if (k.cleared) lines.push(`${plural(k.cleared, 'pending result')} cleared: ${k.cleared === 1 ? 'its entry passes' : 'their entries pass'} now`);
  const total = listPending(root).length;
  if (total) {
    const fromRun = k.kept.length === total ? '' : ` (${k.kept.length} from this run)`;
    lines.push(`${plural(total, 'result')} pending in ${PENDING_DIR}/${fromRun}:`,
      '  virtgold review            accept or reject each, showing its diff',
      '  virtgold accept [FILTERS]  make them the goldens   (virtgold reject [FILTERS] drops them)',
      '  virtgold run --update      write failing results as goldens as the run goes',
      ...(isVirtgoldCorpus(root) ? ['  npm run update-golden      rewrite every golden from the reference translator'] : []), ...rootNote(root));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
