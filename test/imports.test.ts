// The module graph of translator/, harness/ and scripts/: no import cycle, and the
// harness and scripts reach the translator only through translator/index.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { globSync } from 'glob';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** Relative specifiers of every import, re-export and dynamic import, type-only ones too
 *  (they are erased at run time, but a cycle through them is still a tangle to read). */
export function relativeImports(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found: string[] = [];
  const re = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const m of code.matchAll(re)) found.push((m[1] ?? m[2])!);
  return found;
}

type Graph = Map<string, string[]>;

function graphOf(root: string): Graph {
  const g: Graph = new Map();
  for (const f of globSync('{translator,harness,scripts}/**/*.ts', { cwd: root, posix: true }).sort()) {
    const deps = relativeImports(readFileSync(join(root, f), 'utf8'))
      .map((s) => relative(root, join(root, dirname(f), s)).replace(/\.js$/, '.ts'));
    g.set(f, deps);
  }
  return g;
}

/** Every cycle found by depth-first search, each as a path that returns to its start. */
export function cycles(g: Graph): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of g.keys()) if (!state.has(n)) visit(n);
  return found;
}

const graph = graphOf(repo);

test('the checker sees every form of import, and a cycle when there is one', () => {
  assert.equal(relativeImports(`import a from './a.js';\nimport type { B } from "../b.js";\nexport { c } from './c.js';
import './side.js';\nconst d = await import('./d.js');\n// import x from './commented.js'\nimport { x } from 'node:fs';`),
  ['./a.js', '../b.js', './c.js', './side.js', './d.js']);
  assert.equal(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c', 'a']]);
  assert.equal(cycles(new Map([['a', ['b']], ['b', []]])), []);
  assert.ok(graph.size > 20 && [...graph.values()].flat().length > 40, 'the graph looks too small to be real');
});

test('no import cycle in translator/, harness/, scripts/', () => {
  const found = cycles(graph);
  assert.equal(found.map((c) => c.join(' → ')), []);
});

test('harness/ and scripts/ import the translator only through translator/index.ts', () => {
  const bad = [...graph].flatMap(([f, deps]) => (/^(harness|scripts)\//.test(f) ? deps.filter((d) => d.startsWith('translator/') && d !== 'translator/index.ts').map((d) => `${f} → ${d}`) : []));
  assert.equal(bad, []);
});

test('every relative import names a file that exists', () => {
  const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${f} → ${d}`));
  assert.equal(missing, []);
});

test('tests make temporary folders only through test/helpers/tmp.ts (removed however the run ends)', () => {
  const direct = globSync('test/**/*.ts', { cwd: repo, posix: true })
    .filter((f) => f !== 'test/helpers/tmp.ts' && /\bmkdtemp(Sync)?\(/.test(readFileSync(join(repo, f), 'utf8')));
  assert.equal(direct, []);
});

test.run();
