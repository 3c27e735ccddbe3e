// Regenerating goldens: only what changed is written, each file atomically; stale
// goldens are removed; an entry whose translator crashed writes nothing at all.
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { buildMatrix, dirs, goldenExtension, type Filters } from './matrix.js';
import { goldenPathFor, runBuiltin, runMatrix, staleGoldens, type Translator } from './suite.js';

export interface UpdateReport {
  created: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
  crashed: { golden: string; message: string }[];
  /** stale goldens left in place (update without --prune) */
  stale: string[];
}

export interface Plan {
  report: UpdateReport;
  writes: { path: string; text: string; created: boolean }[];
  removals: string[];
}

export function plan(root: string, filters: Filters, translator: Translator = runBuiltin, prune = true): Plan {
  const report: UpdateReport = { created: [], updated: [], removed: [], unchanged: [], crashed: [], stale: [] };
  const rel = (p: string) => relative(root, p);
  const writes: Plan['writes'] = [];
  const removals: string[] = [];
  for (const { entry, outcome } of runMatrix(root, filters, translator)) {
    if (outcome.kind === 'crash') {
      report.crashed.push({ golden: rel(entry.stem), message: outcome.message });
      continue;
    }
    const path = goldenPathFor(entry, outcome);
    const other = path.endsWith('.err') ? entry.stem + goldenExtension(entry.mode) : `${entry.stem}.err`;
    if (existsSync(other)) removals.push(other);
    const old = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (old === outcome.text) report.unchanged.push(rel(path));
    else {
      writes.push({ path, text: outcome.text, created: old === undefined });
      (old === undefined ? report.created : report.updated).push(rel(path));
    }
  }
  // Stale goldens are judged against the whole matrix, so a filtered run never removes
  // goldens that belong to cases it did not look at.
  const stale = staleGoldens(root, buildMatrix(root));
  if (prune) removals.push(...stale);
  else report.stale.push(...stale.map(rel));
  const unique = [...new Set(removals)];
  report.removed.push(...unique.map(rel));
  return { report, writes, removals: unique };
}

/** What `update` would do, without writing anything (`--check`). */
export function planUpdate(root: string, filters: Filters = {}, translator: Translator = runBuiltin, prune = true): UpdateReport {
  return plan(root, filters, translator, prune).report;
}

/** Temporary files of an update that was killed before it could rename them. */
function removeLeftovers(root: string): void {
  for (const mode of ['xml2argv', 'xml2xml']) {
    const dir = join(dirs(root).golden, mode);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const m = /^\..*\.(\d+)\.tmp$/.exec(f);
      if (!m) continue;
      let alive = false;
      try { process.kill(Number(m[1]), 0); alive = Number(m[1]) !== process.pid; } catch { /* dead */ }
      if (!alive) unlinkSync(join(dir, f));
    }
  }
}

export function updateGoldens(root: string, filters: Filters = {}, translator: Translator = runBuiltin, prune = true): UpdateReport {
  removeLeftovers(root);
  // Decide everything before touching the disk.
  const { report, writes, removals } = plan(root, filters, translator, prune);
  for (const w of writes) {
    mkdirSync(dirname(w.path), { recursive: true });
    writeFileAtomic(w.path, w.text);
  }
  for (const p of removals) unlinkSync(p);
  return report;
}

export function formatUpdateReport(r: UpdateReport, check = false): string {
  const lines: string[] = [];
  const w = check ? 'would be ' : '';
  for (const p of r.created) lines.push(`${w}created   ${p}`);
  for (const p of r.updated) lines.push(`${w}updated   ${p}`);
  for (const p of r.removed) lines.push(`${w}removed   ${p}`);
  for (const p of r.stale) lines.push(`stale     ${p} (no case produces it; --prune removes it)`);
  for (const c of r.crashed) lines.push(`CRASHED   ${c.golden}.*: ${c.message} (nothing written)`);
  lines.push(`${check ? 'check: ' : ''}${r.created.length} created, ${r.updated.length} updated, ${r.removed.length} removed, ${r.unchanged.length} unchanged` +
    (r.crashed.length ? `, ${r.crashed.length} crashed` : ''));
  return lines.join('\n') + '\n';
}
