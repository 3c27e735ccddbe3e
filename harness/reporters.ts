// Reporters for `virtgold run`: pretty (default), tap, junit, json.
// Each takes the finished suite and returns text; `--reporter NAME:FILE` writes it to FILE.
import { relative } from 'node:path';
import { contextLines, contextOf } from './failure-context.js';
import { staleHint } from './hints.js';
import { colorDiff } from './intraline.js';
import { counts, type EntryResult, type SuiteResult } from './runner.js';
import { plural, staleName, summaryLine } from './summary.js';

export type ReporterName = 'pretty' | 'tap' | 'junit' | 'json' | 'html';
export const REPORTERS: ReporterName[] = ['pretty', 'tap', 'junit', 'json', 'html'];
export { html } from './html-report.js';

export { colorDiff };

export function pretty(s: SuiteResult, color: boolean, root: string): string {
  const out: string[] = [];
  const bad = (r: EntryResult) => r.status === 'fail' || r.status === 'broken';
  for (const r of s.results.filter(bad)) {
    out.push(`${color ? '\x1b[31mFAIL\x1b[39m' : 'FAIL'} ${r.name}${r.status === 'broken' ? ' (broken translator)' : ''}`);
    const ctx = contextOf(r, s);
    if (ctx) out.push(...contextLines(ctx));
    out.push(colorDiff(r.message ?? '', color));
  }
  for (const p of s.stale) out.push(`STALE ${relative(root, p)}: no case produces it (${staleHint(root)})`);
  // Skips grouped by reason: a libvirt run skips whole snapshots at a time.
  const byReason = new Map<string, string[]>();
  for (const r of s.results.filter((x) => x.status === 'skip')) {
    byReason.set(r.message ?? '', [...(byReason.get(r.message ?? '') ?? []), r.name]);
  }
  for (const [reason, names] of byReason) {
    out.push(names.length <= 3 ? names.map((n) => `skip ${n}: ${reason}`).join('\n') : `skip ${names.length} entries: ${reason} (${names[0]}, …)`);
  }
  out.push(`translator: ${s.adapter}; ${plural(s.results.length, 'entry', 'entries')} in ${(s.ms / 1000).toFixed(2)} s`);
  out.push(summaryLine(s));
  return out.join('\n') + '\n';
}

export function tap(s: SuiteResult): string {
  const out = ['TAP version 13', `1..${s.results.length + s.stale.length}`];
  s.results.forEach((r, i) => {
    const n = i + 1;
    if (r.status === 'skip') out.push(`ok ${n} - ${r.name} # SKIP ${r.message}`);
    else if (r.status === 'pass') out.push(`ok ${n} - ${r.name}`);
    else {
      out.push(`not ok ${n} - ${r.name}`);
      const ctx = contextOf(r, s);
      const yaml = (v: string) => JSON.stringify(v); // a JSON string is a YAML scalar
      const where = ctx ? [`  case: ${yaml(ctx.input)}`, `  snapshot: ${yaml(ctx.snapshot)}`, ...(ctx.golden ? [`  golden: ${yaml(ctx.golden)}`] : []),
        `  translator: ${yaml(ctx.translator)}`, `  reproduce: ${yaml(ctx.reproduce)}`] : [];
      out.push('  ---', `  status: ${r.status}`, ...where, '  message: |', ...(r.message ?? '').split('\n').map((l) => `    ${l}`), '  ...');
    }
  });
  s.stale.forEach((p, i) => out.push(`not ok ${s.results.length + i + 1} - stale golden ${staleName(s, p)}`));
  out.push(`# ${summaryLine(s)}`);
  return out.join('\n') + '\n';
}

const xmlEsc = (t: string) =>
  t.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function junit(s: SuiteResult): string {
  const c = counts(s);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    // A stale golden is a test case of its own here, failing: counted with the failures.
    `<testsuites name="virtgold" tests="${s.results.length + s.stale.length}" failures="${c.fail + c.stale}" errors="${c.broken}" skipped="${c.skip}" time="${(s.ms / 1000).toFixed(3)}">`,
    `  <testsuite name="${xmlEsc(`virtgold (${s.adapter})`)}" tests="${s.results.length + s.stale.length}" failures="${c.fail + c.stale}" errors="${c.broken}" skipped="${c.skip}" time="${(s.ms / 1000).toFixed(3)}">`,
  ];
  for (const r of s.results) {
    const head = `    <testcase classname="${xmlEsc(`${r.entry.mode}.${r.entry.snapshot.arch}-${r.entry.snapshot.version}`)}" name="${xmlEsc(r.entry.case.name)}" time="${(r.ms / 1000).toFixed(3)}"`;
    if (r.status === 'pass') lines.push(`${head}/>`);
    else if (r.status === 'skip') lines.push(`${head}>`, `      <skipped message="${xmlEsc(r.message ?? '')}"/>`, '    </testcase>');
    else {
      const tag = r.status === 'broken' ? 'error' : 'failure';
      const first = (r.message ?? '').split('\n')[0]!;
      const ctx = contextOf(r, s);
      const body = [...(ctx ? contextLines(ctx, '') : []), r.message ?? ''].join('\n');
      lines.push(`${head}>`, `      <${tag} message="${xmlEsc(first)}">${xmlEsc(body)}</${tag}>`, '    </testcase>');
    }
  }
  for (const p of s.stale) {
    lines.push(`    <testcase classname="stale" name="${xmlEsc(staleName(s, p))}">`, '      <failure message="stale golden: no case produces it"/>', '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return lines.join('\n') + '\n';
}

/** input, snapshot, golden, translator, reproduce: where a failure of `run` comes from. */
function contextFields(r: EntryResult, s: SuiteResult): Record<string, string> {
  const { translator: _, ...ctx } = contextOf(r, s) ?? { translator: '' };
  return ctx as Record<string, string>;
}

/** `extra` adds top-level members (a shard's `shard`). Failures carry what merge-reports
 *  needs to rebuild the other reports: the golden, what was expected, what came. */
export function json(s: SuiteResult, root: string, extra: Record<string, unknown> = {}): string {
  const c = counts(s);
  return JSON.stringify({
    translator: s.adapter,
    ...extra,
    summary: { passed: c.pass, failed: c.fail, broken: c.broken, skipped: c.skip, stale: c.stale, seconds: +(s.ms / 1000).toFixed(3) },
    results: s.results.map((r) => ({
      name: r.name,
      case: r.entry.case.name,
      mode: r.entry.mode,
      arch: r.entry.snapshot.arch,
      version: r.entry.snapshot.version,
      status: r.status,
      ...(r.message ? { message: r.message } : {}),
      ms: +r.ms.toFixed(1),
      ...(r.status === 'fail' || r.status === 'broken' ? {
        ...contextFields(r, s),
        ...(r.goldenPath ? { golden: r.goldenPath } : {}),
        ...(r.expected !== undefined ? { expected: r.expected } : {}),
        ...(r.outcome ? { actual: r.outcome } : {}),
      } : {}),
    })),
    stale: s.stale.map((p) => relative(root, p)),
  }, null, 2) + '\n';
}
