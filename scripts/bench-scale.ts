// Part of npm run bench (also runnable alone: node --import tsx scripts/bench-scale.ts):
// does a run through the worker adapter scale linearly? A generated corpus of some 10,000
// entries (variations of the shipped domains, goldens from the reference translator) in
// eight equal folders; `virtgold run --translator-worker` on 1, 2, 4 and 8 of them. Linear
// means the cost per entry stays flat as the run grows (the harness keeps nothing per
// entry that later entries pay for) and peak RSS grows no faster than the results it keeps.
// Measures, never asserts.
import { execa } from 'execa';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMatrix } from '../harness/cases.js';
import { measure } from './bench-limits.js';

const PARTS = 8;
const TARGET_ENTRIES = 10_000;

/** The I-th domain of a generated corpus: the next of SOURCES (shipped domains), with a
 *  name and uuid of its own. */
export function generatedDomain(sources: string[], i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return sources[i % sources.length]!
    .replace(/<name>[^<]*<\/name>/, `<name>gen-${i}</name>`)
    .replace(/<uuid>[^<]*<\/uuid>/, `<uuid>00000000-0000-4000-8000-${hex}</uuid>`);
}

export async function benchScale(root: string): Promise<Record<string, number | string>> {
  const results: Record<string, number | string> = {};
  const shipped = buildMatrix(root);
  const sources = [...new Set(shipped.filter((e) => e.mode === 'xml2xml').map((e) => e.case.path))].map((p) => readFileSync(p, 'utf8'));
  const perDomain = shipped.length / sources.length;
  const domains = Math.ceil(TARGET_ENTRIES / perDomain / PARTS) * PARTS;
  const gen = mkdtempSync(join(tmpdir(), 'virtgold-bench-scale-'));
  try {
    cpSync(join(root, 'capabilities'), join(gen, 'capabilities'), { recursive: true });
    cpSync(join(root, 'host'), join(gen, 'host'), { recursive: true });
    cpSync(join(root, 'firmware'), join(gen, 'firmware'), { recursive: true });
    for (let p = 0; p < PARTS; p++) mkdirSync(join(gen, 'cases', `p${p}`), { recursive: true });
    for (let i = 0; i < domains; i++) {
      // consecutive domains in different folders, so each folder holds the same mix
      writeFileSync(join(gen, 'cases', `p${i % PARTS}`, `gen-${i}.xml`), generatedDomain(sources, i));
    }
    await execa('node', [`${root}/bin/virtgold.js`, 'update', '--root', gen]);
    const worker = `node ${root}/bin/virtgold.js worker`;
    // Each run pays a fixed start (the process, the workers' warm-up); linear means the cost
    // of the entries each doubling adds stays flat.
    let prev: { n: number; s: number } | undefined;
    for (const parts of [1, 2, 4, 8]) {
      const filter = parts === 1 ? 'p0/*' : `{${Array.from({ length: parts }, (_, p) => `p${p}`).join(',')}}/*`;
      const n = buildMatrix(gen, { case: [filter] }).length;
      const r = await measure(root, ['--root', gen, '--case', filter, '--no-determinism', '--translator-worker', worker]);
      if (r.code !== 0) throw new Error(`the worker run on ${n} generated entries exited ${r.code}; expected every entry to pass`);
      results[`worker adapter, ${n} entries: run (s)`] = r.s;
      results[`worker adapter, ${n} entries: ms/entry`] = +((r.s * 1000) / n).toFixed(2);
      if (prev) results[`worker adapter, ${n} entries: ms per entry added to the ${prev.n}-entry run`] = +(((r.s - prev.s) * 1000) / (n - prev.n)).toFixed(2);
      results[`worker adapter, ${n} entries: peak RSS of the run (MB)`] = r.mb;
      prev = { n, s: r.s };
    }
  } finally {
    rmSync(gen, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchScale(fileURLToPath(new URL('..', import.meta.url)));
  const width = Math.max(...Object.keys(r).map((k) => k.length));
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(width)}  ${v}`);
}
