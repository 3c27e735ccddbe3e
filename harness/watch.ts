// `virtgold run --watch`: run the selection, then run again what a change affects —
// a case (or its options): its entries; a golden: its entry; a snapshot, its host facts or
// firmware descriptors: the entries on that snapshot; a file of virtgold's translator:
// everything selected. Each run is a fresh `virtgold run` process (so a changed translator
// is loaded anew), given the affected entries through a file named by
// VIRTGOLD_WATCH_ENTRIES. Changes are gathered for DEBOUNCE_MS after the last one, and
// those that come during a run make the next one. Ctrl-C (or SIGTERM) stops the run in
// progress, closes the watchers and exits 130 (143).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, watch as fsWatch, writeFileSync, type FSWatcher } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectEntries } from './cases.js';
import { WATCH_ENTRIES_ENV } from './focus.js';
import { entryName, type Selected } from './runner.js';
import type { MatrixEntry } from './types.js';

export const DEBOUNCE_MS = 200;
const BIN = fileURLToPath(new URL('../bin/virtgold.js', import.meta.url));
export const TRANSLATOR_DIR = fileURLToPath(new URL('../translator', import.meta.url));

/** What a changed file affects: every selected entry, or those some test picks. */
export type Affected = 'all' | ((e: MatrixEntry) => boolean) | undefined;

const GOLDEN = /^golden\/(xml2argv|xml2xml)\/(.+)\.([A-Za-z0-9_]+)-(\d+\.\d+\.\d+)\.(args|xml|err)$/;
const SNAPSHOT = /^(?:capabilities\/caps_(\d+\.\d+\.\d+)_(\w+)\.xml|host\/caps_(\d+\.\d+\.\d+)_(\w+)\.json|firmware\/caps_(\d+\.\d+\.\d+)_(\w+)(?:\/.*)?)$/;

/** What the change of PATH (absolute) affects; undefined: nothing a run looks at. */
export function affectedBy(root: string, path: string, translatorDir = TRANSLATOR_DIR): Affected {
  if (path === translatorDir || path.startsWith(translatorDir + sep)) return path.endsWith('.ts') || path.endsWith('.js') ? 'all' : undefined;
  const rel = relative(root, path).split(sep).join('/');
  if (rel.startsWith('..') || rel.split('/').some((p) => p.startsWith('.'))) return undefined; // temporary files, locks
  let m: RegExpExecArray | null;
  if ((m = /^cases\/(.+)\.(xml|json)$/.exec(rel))) {
    const name = m[1]!;
    if (m[2] === 'xml') return (e) => e.case.name === name;
    // options.json of a folder: every case below it
    if (name === 'options') return () => true;
    if (name.endsWith('/options')) return (e) => e.case.name.startsWith(name.slice(0, -'options'.length));
    return (e) => e.case.name === name;
  }
  if ((m = GOLDEN.exec(rel))) {
    const wanted = `${m[1]} ${m[2]} ${m[3]}-${m[4]}`;
    return (e) => entryName(e) === wanted;
  }
  if ((m = SNAPSHOT.exec(rel))) {
    const version = m[1] ?? m[3] ?? m[5];
    const arch = m[2] ?? m[4] ?? m[6];
    return (e) => e.snapshot.arch === arch && e.snapshot.version === version;
  }
  return undefined;
}

/** Watch DIR and everything below it; FN gets absolute paths. Node's recursive watch where
 *  the platform has it, else one watcher per folder found at the start. */
function watchTree(dir: string, fn: (path: string) => void): FSWatcher[] {
  const on = (base: string) => (_event: string, name: string | Buffer | null) => { if (name) fn(join(base, name.toString())); };
  try {
    return [fsWatch(dir, { recursive: true }, on(dir))];
  } catch {
    const folders = [dir];
    for (let i = 0; i < folders.length; i++) {
      for (const e of readdirSync(folders[i]!, { withFileTypes: true })) if (e.isDirectory()) folders.push(join(folders[i]!, e.name));
    }
    return folders.map((f) => fsWatch(f, on(f)));
  }
}

const isDir = (p: string) => { try { return statSync(p).isDirectory(); } catch { return false; } };

export async function watch(argv: string[], sel: Selected): Promise<number> {
  const args = ['run', ...argv.filter((a) => a !== '--watch')];
  const scratch = mkdtempSync(join(tmpdir(), 'virtgold-watch-'));
  const say = (line: string) => process.stderr.write(`watch: ${line}\n`);
  let child: ChildProcess | undefined;
  let pending: Affected[] = [];
  let changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stop: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => (stop = resolve));

  const runChild = (entries?: string[]) => new Promise<void>((resolve) => {
    const env = { ...process.env };
    delete env[WATCH_ENTRIES_ENV];
    if (entries) {
      const file = join(scratch, 'entries.json');
      writeFileSync(file, JSON.stringify(entries));
      env[WATCH_ENTRIES_ENV] = file;
    }
    child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env });
    child.on('error', (e) => { say(`cannot start a run: ${e.message}`); resolve(); });
    child.on('close', () => { child = undefined; resolve(); });
  });

  /** One run for the changes gathered so far. */
  const cycle = async () => {
    const what = pending;
    const files = [...changed];
    pending = [];
    changed = new Set();
    const shown = files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ');
    if (what.includes('all')) {
      say(`${shown} changed: running everything selected`);
      await runChild();
    } else {
      let entries: MatrixEntry[] = [];
      try {
        entries = selectEntries(sel.root, sel.filters).entries;
      } catch (e) {
        say(`${shown} changed, but the project cannot be read: ${(e as Error).message}`);
      }
      const picks = what.filter((a): a is (e: MatrixEntry) => boolean => typeof a === 'function');
      const names = entries.filter((e) => picks.some((p) => p(e))).map(entryName);
      if (!names.length) say(`${shown} changed: no selected entry depends on it`);
      else {
        say(`${shown} changed: running ${names.length === 1 ? 'the entry' : `the ${names.length} entries`} it affects`);
        await runChild(names);
      }
    }
    say('waiting for changes (Ctrl-C to stop)');
  };

  const kick = () => {
    if (running || !pending.length) return;
    running = cycle().finally(() => {
      running = undefined;
      if (pending.length) schedule();
    });
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(kick, DEBOUNCE_MS);
  };
  const onChange = (path: string) => {
    const a = affectedBy(sel.root, path);
    if (!a) return;
    pending.push(a);
    changed.add(path.startsWith(TRANSLATOR_DIR) ? relative(join(TRANSLATOR_DIR, '..'), path) : relative(sel.root, path));
    if (!running) schedule();
  };

  const watchers: FSWatcher[] = [];
  const watched = new Set<string>();
  const watchDir = (dir: string) => {
    if (watched.has(dir) || !isDir(dir)) return;
    watched.add(dir);
    watchers.push(...watchTree(dir, onChange));
  };
  const dirsOf = () => ['cases', 'golden', 'capabilities', 'host', 'firmware'].map((d) => join(sel.root, d));
  for (const d of [...dirsOf(), TRANSLATOR_DIR]) watchDir(d);
  // A folder made after the start (golden/ by the first update) is watched once it exists.
  watchers.push(fsWatch(sel.root, () => dirsOf().forEach(watchDir)));

  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (s: NodeJS.Signals) => {
    child?.kill('SIGTERM');
    stop(128 + osConstants.signals[s]);
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    say(`running the selection; then watching ${existsSync(TRANSLATOR_DIR) ? "cases, goldens, snapshots, host facts and virtgold's translator" : 'cases, goldens, snapshots and host facts'}`);
    running = runChild().then(() => { say('waiting for changes (Ctrl-C to stop)'); }).finally(() => {
      running = undefined;
      if (pending.length) schedule();
    });
    const code = await stopped;
    clearTimeout(timer);
    await running;
    say('stopped');
    return code;
  } finally {
    for (const w of watchers) w.close();
    for (const s of signals) process.off(s, onSignal);
    rmSync(scratch, { recursive: true, force: true });
  }
}
