// npm test / npm run test:integration: uvu over the project's test files, split across
// the machine's cores (at most 2 processes: the golden matrix is dealt out between
// them by VIRTGOLD_TEST_SHARD, the other files go whole to the least loaded one).
// Every test/*.test.ts must be listed below, in one suite, so none is silently skipped.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// Each file with a rough cost (its share of a run, measured once), to balance the shards.
const SUITES = {
  fast: {
    golden: 0, // sharded
    harness: 8, schema: 6, classify: 5, translator: 4, probe: 3, fuzz: 3, snapshots: 2,
    limits: 2, boot: 2, tuning: 2, cpu: 1, confine: 1, imports: 1, 'libvirt-tests': 1, 'parse-order': 1,
  },
  integration: {
    update: 40, cli: 25, run: 15, review: 10, shell: 8, compare: 8, 'compare-harness': 5, html: 3, 'schema-cli': 3, 'interop-snapshots': 3,
  },
};

const suiteName = process.argv[2] === '--integration' ? 'integration' : 'fast';
const suite = SUITES[suiteName];
const listed = new Set(Object.values(SUITES).flatMap((s) => Object.keys(s)));
const unlisted = readdirSync(`${root}/test`).filter((f) => f.endsWith('.test.ts')).map((f) => f.slice(0, -8)).filter((f) => !listed.has(f));
if (unlisted.length) {
  console.error(`scripts/test.mjs: test files in no suite (add them to SUITES): ${unlisted.join(', ')}`);
  process.exit(2);
}

const n = Math.max(1, Math.min(2, availableParallelism()));
const shards = Array.from({ length: n }, () => ({ files: [], cost: 0 }));
for (const [file, cost] of Object.entries(suite).sort((a, b) => b[1] - a[1])) {
  if (file === 'golden') {
    for (const s of shards) s.files.push(file);
    continue;
  }
  const s = shards.reduce((a, b) => (b.cost < a.cost ? b : a));
  s.files.push(file);
  s.cost += cost;
}

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
const runs = shards.filter((s) => s.files.length).map((s, i, all) => new Promise((done) => {
  const pattern = `^(${s.files.map((f) => f.replace(/[-]/g, '\\-')).join('|')})\\.test\\.ts$`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', pattern, '-i', 'helpers', '-i', 'fixtures'], {
    cwd: root,
    env: { ...process.env, VIRTGOLD_TEST_SHARD: `${i + 1}/${all.length}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const started = Date.now();
  child.on('close', (code, signal) => done({ out, code: code ?? 1, signal, ms: Date.now() - started }));
}));

const results = await Promise.all(runs);
let total = 0, passed = 0;
for (const r of results) {
  process.stdout.write(r.out);
  total += Number(/Total:\s+(\d+)/.exec(strip(r.out))?.[1] ?? 0);
  passed += Number(/Passed:\s+(\d+)/.exec(strip(r.out))?.[1] ?? 0);
}
const failed = results.filter((r) => r.code !== 0);
const times = results.map((r) => `${(r.ms / 1000).toFixed(1)} s`).join(' + ');
console.log(`\n${suiteName} tests: ${passed} of ${total} passed in ${results.length} process${results.length > 1 ? 'es' : ''} (${times})${failed.length ? `; ${failed.length} process${failed.length > 1 ? 'es' : ''} failed` : ''}`);
// exitCode, not exit(): a pipe on stdout gets every byte written above before the process ends.
process.exitCode = failed.length ? 1 : 0;
