// Regenerating goldens: only what changed is written, each file atomically; stale
// goldens are listed (or removed with prune); an entry whose translator crashed writes
// nothing at all.
import { relative } from 'node:path';
import { builtinAdapter } from './adapters.js';
import { readInside } from './confine.js';
import { goldenPathFor, goldenPaths, removeGolden, removeLeftovers, staleGoldens, writeGolden } from './goldens.js';
import { translateSelection, type Selected } from './runner.js';
import { isVirtgoldRefusal } from './refusals.js';
import { loadSchema, SCHEMA_NAME, schemaUnavailable } from './schema.js';
import type { Adapter } from './types.js';

export interface UpdateReport {
  created: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
  crashed: { golden: string; message: string }[];
  /** stale goldens left in place (update without prune) */
  stale: string[];
  /** .xml goldens written (or to be) that do not validate against libvirt's schema +
   *  the vf-token overlay: a warning only, checked when the schema is installed */
  schemaInvalid: string[];
  /** entries the translator was not asked or whose answer is no golden (real libvirt on
   *  another snapshot, virtgold's own refusal kept, an error that depends on the host):
   *  their goldens are left as they are */
  notRecorded?: { golden: string; reason: string }[];
  /** of the created, updated and unchanged goldens, the paths that are virtgold's own
   *  `unsupported` refusals (no claim about libvirt) */
  ownRefusals?: string[];
}

export interface Plan {
  report: UpdateReport;
  /** `replaces`: the entry's golden of the other kind, removed as this one is written */
  writes: { path: string; text: string; created: boolean; replaces?: string }[];
  /** goldens removed on their own: stale ones, and the other kind beside an unchanged golden */
  removals: string[];
}

export interface UpdateOptions extends Selected {
  /** remove stale goldens (else they are only listed) */
  prune?: boolean;
  /** the translator that writes goldens: the reference translator unless told otherwise
   *  (`update --translator-cmd …`: a tool author blesses their own translator) */
  adapter?: Adapter;
  /** translations at a time (translators run as processes) */
  jobs?: number;
}

/** Decide every write and removal without touching the disk. */
export async function plan(o: UpdateOptions): Promise<Plan> {
  const report: UpdateReport = { created: [], updated: [], removed: [], unchanged: [], crashed: [], stale: [], schemaInvalid: [] };
  const rel = (p: string) => relative(o.root, p);
  const writes: Plan['writes'] = [];
  const removals: string[] = [];
  const { all, translated, skipped } = await translateSelection(o, o.adapter ?? builtinAdapter, o.jobs);
  await turn();
  report.notRecorded = skipped.map((x) => ({ golden: x.entry.relStem, reason: x.reason }));
  report.ownRefusals = [];
  for (const { entry, outcome } of translated) {
    if (outcome.kind === 'crash') {
      report.crashed.push({ golden: entry.relStem, message: outcome.message });
      continue;
    }
    const path = goldenPathFor(entry, outcome);
    const { output, error } = goldenPaths(entry);
    const other = path === error ? output : error;
    const replaces = readInside(o.root, other) === undefined ? undefined : other;
    const old = readInside(o.root, path);
    if (outcome.kind === 'error' && isVirtgoldRefusal(outcome.text)) report.ownRefusals.push(rel(path));
    if (old === outcome.text) {
      report.unchanged.push(rel(path));
      if (replaces) removals.push(replaces);
    } else {
      writes.push({ path, text: outcome.text, created: old === undefined, ...(replaces ? { replaces } : {}) });
      if (replaces) report.removed.push(rel(replaces));
      (old === undefined ? report.created : report.updated).push(rel(path));
    }
  }
  // The same stale goldens `run` fails on with the same filters.
  const stale = staleGoldens(o.root, all, o.filters);
  if (o.prune) removals.push(...stale);
  else report.stale.push(...stale.map(rel));
  const unique = [...new Set(removals)];
  report.removed.push(...unique.map(rel));
  report.schemaInvalid.push(...await schemaWarnings(writes.filter((w) => w.path.endsWith('.xml')), rel));
  return { report, writes, removals: unique };
}

/** The .xml goldens about to be written that libvirt's schema + the overlay reject. The
 *  schema is loaded only when there is such a golden, and skipped where not installed. */
async function schemaWarnings(xmls: Plan['writes'], rel: (p: string) => string): Promise<string[]> {
  if (!xmls.length || schemaUnavailable()) return [];
  const schema = await loadSchema();
  return xmls.flatMap((w) => {
    const why = schema.validate(w.text);
    return why ? [`${rel(w.path)}: ${why}`] : [];
  });
}

/** Anything `update --check` should fail on: the goldens are not what update would make. */
export const outOfDate = (r: UpdateReport) => r.created.length + r.updated.length + r.removed.length + r.crashed.length + r.stale.length > 0;

/** Apply a plan in an order of which every prefix is a consistent golden tree: each write
 *  removes the entry's golden of the other kind only once the new one is complete (never
 *  both kinds at once, never a partial file), and removals stand alone. */
export async function updateGoldens(o: UpdateOptions): Promise<UpdateReport> {
  removeLeftovers(o.root);
  const { report, writes, removals } = await plan(o);
  for (const w of writes) {
    writeGolden(o.root, w.path, w.text, w.replaces);
    await turn();
  }
  for (const p of removals) {
    removeGolden(o.root, p);
    await turn();
  }
  return report;
}

/** One turn of the event loop, so that a Ctrl-C is handled between two steps of an update
 *  (the builtin translator never waits for anything, so signals would wait for the end). */
export const turn = () => new Promise<void>((r) => setImmediate(r));

export function formatUpdateReport(r: UpdateReport, check = false): string {
  const lines: string[] = [];
  const w = check ? 'would be ' : '';
  for (const p of r.created) lines.push(`${w}created   ${p}`);
  for (const p of r.updated) lines.push(`${w}updated   ${p}`);
  for (const p of r.removed) lines.push(`${w}removed   ${p}`);
  for (const p of r.stale) lines.push(`stale     ${p} (no case produces it; --prune removes it)`);
  for (const c of r.crashed) lines.push(`CRASHED   ${c.golden}.*: ${c.message} (nothing written)`);
  // Grouped by reason: real libvirt leaves whole snapshots out at a time.
  const byReason = new Map<string, string[]>();
  for (const n of r.notRecorded ?? []) byReason.set(n.reason, [...(byReason.get(n.reason) ?? []), n.golden]);
  for (const [reason, goldens] of byReason) {
    if (goldens.length <= 3) for (const g of goldens) lines.push(`not recorded ${g}.*: ${reason}`);
    else lines.push(`not recorded ${goldens.length} goldens: ${reason} (${goldens[0]}.*, ${goldens[1]}.*, …)`);
  }
  for (const p of r.schemaInvalid) lines.push(`warning   ${p} (does not validate against ${SCHEMA_NAME})`);
  // How many of the goldens are virtgold's own refusals: they say what the reference
  // translator does not do, not what libvirt does.
  const own = new Set(r.ownRefusals ?? []);
  const n = (list: string[], what: string) => {
    const k = list.filter((p) => own.has(p)).length;
    return `${list.length} ${what}${k ? ` (${k} of them virtgold's own \`unsupported\` refusal${k > 1 ? 's' : ''})` : ''}`;
  };
  lines.push(`${check ? 'check: ' : ''}${n(r.created, 'created')}, ${n(r.updated, 'updated')}, ${r.removed.length} removed, ${n(r.unchanged, 'unchanged')}` +
    (r.stale.length ? `, ${r.stale.length} stale` : '') + (r.crashed.length ? `, ${r.crashed.length} crashed` : '') +
    (r.notRecorded?.length ? `, ${r.notRecorded.length} not recorded` : ''));
  return lines.join('\n') + '\n';
}
