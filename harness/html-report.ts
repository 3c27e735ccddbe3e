// The html reporter: one self-contained page (no external assets) with a summary and,
// for each failure, the golden and the actual output side by side, changed lines marked
// and XML / command-line syntax lightly highlighted.
import { diffLines } from 'diff';
import { changedRegion, countLines, MAX_DIFF_LINES, MAX_LINE_CHARS, takeLines } from './diff.js';
import { contextOf } from './failure-context.js';
import { wordDiff, type Part } from './intraline.js';
import { plural, staleName } from './summary.js';
import { counts, type EntryResult, type SuiteResult } from './runner.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Light, safe highlighting: escape first, then wrap tags/attributes or options. */
function highlight(line: string, kind: 'xml' | 'args'): string {
  const e = esc(line);
  if (kind === 'xml') {
    return e
      .replace(/(&lt;\/?)([\w:.-]+)/g, '$1<span class="tag">$2</span>')
      .replace(/([\w:.-]+)=('[^']*'|&quot;.*?&quot;)/g, '<span class="attr">$1</span>=<span class="val">$2</span>');
  }
  return e.replace(/^(-[\w-]+)/, '<span class="opt">$1</span>').replace(/('[^']*')/g, '<span class="val">$1</span>');
}

interface Row { left?: string; right?: string; kind: 'same' | 'del' | 'add' | 'change' }

/** Rows shown per failure: a huge output is cut, with a row saying how much. */
export const MAX_ROWS = 2_000;

/** Side-by-side rows, bounded like the unified diffs (harness/diff.ts): only the changed
 *  region is diffed, at most MAX_ROWS rows of at most MAX_LINE_CHARS characters. */
export function sideBySide(expected: string, actual: string): Row[] {
  const rows: Row[] = [];
  const clip = (l: string | undefined) => (l === undefined || l.length <= MAX_LINE_CHARS ? l : `${l.slice(0, MAX_LINE_CHARS)}…`);
  const push = (row: Row) => rows.push({ ...row, left: clip(row.left), right: clip(row.right) });
  const room = () => MAX_ROWS - rows.length;
  const r = changedRegion(expected, actual);
  for (const l of takeLines(expected, 0, r.a[0], room())) push({ left: l, right: l, kind: 'same' });
  const a = expected.slice(r.a[0], r.a[1]);
  const b = actual.slice(r.b[0], r.b[1]);
  const small = countLines(a) <= MAX_DIFF_LINES && countLines(b) <= MAX_DIFF_LINES;
  const parts = (small ? diffLines(a, b, { maxEditLength: 1_000 }) : undefined)
    ?? [{ value: a, removed: true, added: false, count: 0 }, { value: b, added: true, removed: false, count: 0 }];
  const lines = (v: string) => takeLines(v, 0, v.length, room());
  for (let i = 0; i < parts.length && room() > 0; i++) {
    const p = parts[i]!;
    if (!p.value) continue;
    if (!p.added && !p.removed) {
      for (const l of lines(p.value)) push({ left: l, right: l, kind: 'same' });
    } else if (p.removed && parts[i + 1]?.added) {
      const l = lines(p.value);
      const rr = lines(parts[++i]!.value);
      for (let j = 0; j < Math.max(l.length, rr.length) && room() > 0; j++) push({ left: l[j], right: rr[j], kind: 'change' });
    } else if (p.removed) {
      for (const l of lines(p.value)) push({ left: l, kind: 'del' });
    } else {
      for (const l of lines(p.value)) push({ right: l, kind: 'add' });
    }
  }
  for (const l of takeLines(expected, r.a[1], expected.length, room())) push({ left: l, right: l, kind: 'same' });
  if (room() <= 0) {
    const more = (t: string) => Math.max(0, countLines(t) - MAX_ROWS);
    rows.push({ left: `… ${more(expected)} more lines not shown`, right: `… ${more(actual)} more lines not shown`, kind: 'same' });
  }
  return rows;
}

function why(r: EntryResult): string {
  const first = (r.message ?? '').split('\n')[0]!;
  return first.startsWith('=') || first === '' ? 'the output differs from the golden' : first;
}

/** A changed line with its changed words marked (<del> on the golden's side, <ins> on the
 *  actual one); the syntax colours give way to them on such lines. */
const marked = (parts: Part[], tag: 'del' | 'ins') => parts.map((p) => (p.changed && p.text ? `<${tag}>${esc(p.text)}</${tag}>` : esc(p.text))).join('');

function rowHtml(row: Row, kind: 'xml' | 'args'): string {
  const words = row.kind === 'change' && row.left !== undefined && row.right !== undefined ? wordDiff(row.left, row.right) : undefined;
  const cell = (text: string | undefined, parts: Part[] | undefined, tag: 'del' | 'ins') =>
    text === undefined ? '' : parts ? marked(parts, tag) : highlight(text, kind);
  return `<tr class="${row.kind}"><td class="code">${cell(row.left, words?.a, 'del')}</td><td class="code">${cell(row.right, words?.b, 'ins')}</td></tr>`;
}

function contextHtml(r: EntryResult, s: SuiteResult): string {
  const c = contextOf(r, s);
  if (!c) return '';
  const item = (k: string, v: string) => `<dt>${k}</dt><dd><code>${esc(v)}</code></dd>`;
  return `<dl class="context">${item('case', c.input)}${item('snapshot', c.snapshot)}${c.golden ? item('golden', c.golden) : ''}` +
    `${item('translator', c.translator)}${item('reproduce', c.reproduce)}</dl>`;
}

function failureSection(r: EntryResult, i: number, s: SuiteResult): string {
  const kind = r.entry.mode === 'xml2argv' ? 'args' : 'xml';
  const expected = r.expected ?? '';
  const actual = r.outcome ? (r.outcome.kind === 'crash' ? `(${r.outcome.message})` : r.outcome.text) : '';
  const rows = sideBySide(expected, actual).map((row) => rowHtml(row, kind)).join('\n');
  const label = r.status === 'broken' ? 'broken translator' : 'differs';
  return `<section class="failure" id="f${i}">
<h2><span class="badge ${r.status}">${label}</span> ${esc(r.name)}</h2>
<p class="why">${esc(why(r))}</p>
${contextHtml(r, s)}
<table class="diff"><thead><tr><th>golden ${esc(r.goldenPath ?? '')}</th><th>actual</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</section>`;
}

export function html(s: SuiteResult): string {
  const c = counts(s);
  const failures = s.results.filter((r) => r.status === 'fail' || r.status === 'broken');
  const list = failures.map((r, i) => `<li><a href="#f${i}">${esc(r.name)}</a></li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>virtgold report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{margin:0 0 .3em} .summary span{display:inline-block;margin-right:1em;padding:.2em .6em;border-radius:4px}
.pass{background:#d9f2d9}.fail{background:#f8d4d4}.broken{background:#f6e0b5}.skip{background:#e4e4e4}
.badge{font-size:.75em;padding:.1em .5em;border-radius:4px;vertical-align:middle}
table.diff{border-collapse:collapse;width:100%;table-layout:fixed;font:12px/1.35 ui-monospace,monospace}
table.diff th{text-align:left;background:#f0f0f0;padding:.3em;font-weight:600}
table.diff td.code{white-space:pre-wrap;word-break:break-all;padding:0 .4em;vertical-align:top;border-left:1px solid #ddd}
tr.change td.code:nth-child(1),tr.del td.code:nth-child(1){background:#fdd}
tr.change td.code:nth-child(2),tr.add td.code:nth-child(2){background:#dfd}
.tag{color:#22863a}.attr{color:#6f42c1}.val{color:#032f62}.opt{color:#d73a49;font-weight:600}
section.failure{margin:2em 0;border-top:2px solid #ccc;padding-top:.5em}
.why{color:#555;margin:.2em 0 .6em}
del{background:#f5a3a3;text-decoration:none}ins{background:#9be09b;text-decoration:none}
dl.context{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;margin:.3em 0 .8em}dl.context dd{margin:0}
</style></head><body>
<h1>virtgold report</h1>
<p>translator: <code>${esc(s.adapter)}</code> — ${plural(s.results.length, 'entry', 'entries')} in ${(s.ms / 1000).toFixed(2)} s</p>
<p class="summary"><span class="pass">${c.pass} passed</span><span class="fail">${c.fail} failed</span><span class="broken">${c.broken} broken</span><span class="skip">${c.skip} skipped</span>${c.stale ? `<span class="fail">${plural(c.stale, 'stale golden')}</span>` : ''}</p>
${failures.length ? `<h2>Failures</h2><ol>${list}</ol>`
    : c.stale ? `<p>Every entry matches its golden, but the run fails on ${plural(c.stale, 'stale golden')} (below): no case produces ${c.stale === 1 ? 'it' : 'them'}.</p>`
      : '<p>All entries match their goldens.</p>'}
${s.stale.length ? `<h2>Stale goldens</h2><ul>${s.stale.map((p) => `<li>${esc(staleName(s, p))}</li>`).join('')}</ul>` : ''}
${failures.map((r, i) => failureSection(r, i, s)).join('\n')}
</body></html>
`;
}
