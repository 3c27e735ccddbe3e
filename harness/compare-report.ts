// Reporters for `virtgold compare`: pretty (the class table, every `differs` with its diff,
// the most frequent refusals: what to implement next) and json ({counts, entries}). tap,
// junit and html are run's, on the compare seen as a suite: `same` passes, `differs`
// fails, `broken` is broken, the other classes are skips that say their class.
import { CLASSES } from './classify.js';
import { colorDiff } from './reporters.js';
import { plural } from './summary.js';
import type { EntryResult, SuiteResult } from './runner.js';
import type { Class, CompareResult, CompareRun, SideOutcome } from './types.js';

export function compareCounts(run: CompareRun): Record<Class, number> {
  const c = Object.fromEntries(CLASSES.map((k) => [k, 0])) as Record<Class, number>;
  for (const r of run.results) c[r.class]++;
  return c;
}

const where = (r: CompareResult) => (r.snapshot ? ` (${r.snapshot.arch} QEMU ${r.snapshot.version})` : '');
const title = (r: CompareResult) => `${r.mode} ${r.input.name}${where(r)}`;

/** Most frequent first, ties by text. */
function ranked(values: string[]): [string, number][] {
  const n = new Map<string, number>();
  for (const v of values) n.set(v, (n.get(v) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function rankedBlock(heading: string, values: string[], limit: number): string[] {
  if (!values.length) return [];
  const rows = ranked(values);
  const out = [heading, ...rows.slice(0, limit).map(([text, k]) => `${String(k).padStart(6)}  ${text}`)];
  if (rows.length > limit) out.push(`        … ${rows.length - limit} more (--reporter json lists every entry)`);
  return [...out, ''];
}

export function comparePretty(run: CompareRun, color = false): string {
  const c = compareCounts(run);
  const red = (s: string) => (color ? `\x1b[31m${s}\x1b[39m` : s);
  const out: string[] = [];
  for (const r of run.results.filter((x) => x.class === 'differs')) {
    out.push(`${red('DIFFERS')} ${title(r)}: ${r.reason}`, colorDiff(r.diff ?? '', color));
  }
  for (const r of run.results.filter((x) => x.class === 'broken')) out.push(`${red('BROKEN')} ${title(r)}: ${r.reason}`, '');
  const messages = run.results.filter((x) => x.class === 'message');
  if (messages.length) {
    out.push('message: both refuse, with different messages');
    for (const r of messages.slice(0, 20)) out.push(`  ${title(r)}`, ...r.reason!.split(' | ').map((m) => `    ${m}`));
    if (messages.length > 20) out.push(`  … ${messages.length - 20} more (--reporter json lists every entry)`);
    out.push('');
  }
  out.push(...rankedBlock('refused, most frequent first (what to implement next):', run.results.filter((x) => x.class === 'refused').map((x) => x.reason!), 15));
  out.push(...rankedBlock('skipped, most frequent reasons:', run.results.filter((x) => x.class === 'skipped').map((x) => x.reason!), 10));
  const spent = (k: 'translator' | 'reference') => ((run.results.reduce((n, r) => n + (r.sideMs?.[k] ?? 0), run.batchMs?.[k] ?? 0)) / 1000).toFixed(2);
  out.push(`translator: ${run.translator}; reference: ${run.reference}; ${plural(run.results.length, 'entry', 'entries')} in ${(run.ms / 1000).toFixed(2)} s ` +
    `(translator ${spent('translator')} s, reference ${spent('reference')} s)`);
  // How often each side answered with output at all: the reach of each, whatever the class.
  const outputs = (k: 'translator' | 'reference') => {
    const by = (m: string) => run.results.filter((r) => r.mode === m && r[k]?.kind === 'output').length;
    const modes = [...new Set(run.results.map((r) => r.mode))];
    return `${k} ${modes.map((m) => `${m} ${by(m)}`).join(', ')}`;
  };
  out.push(`output from: ${outputs('translator')}; ${outputs('reference')} (of ${plural(new Set(run.results.map((r) => r.input.path)).size, 'input')})`);
  for (const k of CLASSES) out.push(`${k.padEnd(8)} ${String(c[k]).padStart(6)}`);
  return out.join('\n') + '\n';
}

function side(name: string, o: SideOutcome | undefined, withOutput: boolean): Record<string, string> | undefined {
  if (!o) return undefined;
  if (o.kind === 'output') return withOutput ? { name, kind: 'output', text: o.text } : { name, kind: 'output' };
  if (o.kind === 'error') return { name, kind: 'error', text: o.text.trim() };
  if (o.kind === 'crash') return { name, kind: 'crash', text: o.message };
  return { name, kind: 'not-run', text: o.reason };
}

export function compareJson(run: CompareRun): string {
  return JSON.stringify({
    counts: compareCounts(run),
    entries: run.results.map((r) => ({
      input: r.input.name,
      mode: r.mode,
      arch: r.snapshot?.arch ?? r.input.arch,
      ...(r.snapshot ? { version: r.snapshot.version, caps: r.snapshot.path } : {}),
      class: r.class,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.diff ? { diff: r.diff } : {}),
      // Equal outputs are not repeated; everything else is kept for the reader.
      translator: side(run.translator, r.translator, r.class !== 'same'),
      reference: side(run.reference, r.reference, r.class !== 'same'),
      ms: Math.round(r.ms),
    })),
  }, null, 2) + '\n';
}

/** The compare as run's reporters see a suite. */
export function compareSuite(run: CompareRun): SuiteResult {
  const results: EntryResult[] = run.results.map((r) => {
    const status = r.class === 'same' ? 'pass' : r.class === 'differs' ? 'fail' : r.class === 'broken' ? 'broken' : 'skip';
    const ref = r.reference;
    return {
      entry: {
        case: { name: r.input.name, path: r.input.path, arch: r.input.arch, options: {} },
        snapshot: r.snapshot ?? { arch: r.input.arch, version: 'none', path: '' },
        mode: r.mode, stem: '', relStem: '',
      },
      name: `${r.mode} ${r.input.name}`,
      status,
      ...(status === 'pass' ? {} : { message: status === 'skip' ? `${r.class}: ${r.reason}` : [r.reason, r.diff].filter(Boolean).join('\n') }),
      ...(r.translator && r.translator.kind !== 'not-run' ? { outcome: r.translator } : {}),
      ...(ref && (ref.kind === 'output' || ref.kind === 'error') ? { expected: ref.text, goldenPath: `reference (${run.reference})` } : {}),
      ms: r.ms,
    };
  });
  return { adapter: `${run.translator}, reference ${run.reference}`, results, stale: [], ms: run.ms };
}
