// Part of npm run bench (also runnable alone: node --import tsx scripts/bench-limits.ts):
// `virtgold run` against translators that print far too much, or hang with descendants that
// left their process group. Measures the run's wall time and peak RSS (VmHWM, polled from
// /proc) next to its bound: --timeout plus a second per entry. Measures, never asserts.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildMatrix } from '../harness/cases.js';

const TIMEOUT_MS = 5_000;
const CASE = 'domain/minimal';

/** Wall time (s), peak RSS (MB) and exit code of one `virtgold run` (of the virtgold in `root`). */
export async function measure(root: string, args: string[]): Promise<{ s: number; mb: number; code: number | null }> {
  const start = performance.now();
  const child = spawn('node', [`${root}/bin/virtgold.js`, 'run', ...args], { cwd: root, stdio: 'ignore' });
  let kb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) kb = Math.max(kb, Number(m[1]));
    } catch { /* exited */ }
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(poll);
  return { s: +((performance.now() - start) / 1000).toFixed(2), mb: Math.round(kb / 1024), code };
}

export async function benchLimits(root: string): Promise<Record<string, number | string>> {
  const results: Record<string, number | string> = {};
  const entries = buildMatrix(root, { case: [CASE] }).length;
  const many = buildMatrix(root, { case: ['hostdev/*'] }).length;
  const one = ['--mode', 'xml2argv', '--version', '7.2.0'];
  const translators: [string, string, string[], number][] = [
    [`100 MB on stdout, ${entries} entries`, "sh -c 'yes | head -c 100000000' {mode} {input}", [], entries],
    [`100 MB on stderr and exit 1, ${entries} entries`, "sh -c 'yes | head -c 100000000 >&2; exit 1' {mode} {input}", [], entries],
    [`10 MB (under the limit) unlike the golden, ${entries} entries`, "sh -c 'yes | head -c 10000000' {mode} {input}", [], entries],
    // Many entries near the limit: what the run keeps of each must not add up.
    [`10 MB unlike the golden, hostdev/* (${many} entries)`, "sh -c 'yes | head -c 10000000' {mode} {input}", ['--case', 'hostdev/*'], many],
    // One entry: hanging entries take the timeout each, --jobs at a time.
    ['hangs with a setsid child holding its output, 1 entry', "sh -c 'setsid sleep 60 & sleep 60' {mode} {input}", one, 1],
  ];
  for (const [what, cmd, filters, n] of translators) {
    const r = await measure(root, [...(filters.includes('--case') ? [] : ['--case', CASE]), ...filters, '--timeout', String(TIMEOUT_MS), '--translator-cmd', cmd]);
    results[`limits: ${what}: run (s), bound ${TIMEOUT_MS / 1000 + n} s`] = r.s;
    results[`limits: ${what}: peak RSS (MB)`] = r.mb;
  }
  const idle = await measure(root, ['--case', CASE]);
  results['limits: for comparison, the builtin translator: peak RSS (MB)'] = idle.mb;
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchLimits(fileURLToPath(new URL('..', import.meta.url)));
  const width = Math.max(...Object.keys(r).map((k) => k.length));
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(width)}  ${v}`);
}
