// npm test / npm run test:integration: uvu over the project's test files, split across
// the machine's cores (at most 2 processes): each file goes whole to the least loaded
// one, so the golden matrix gets a process of its own, then hands the other processes
// slices of its cases (VIRTGOLD_GOLDEN_SLICE) up to a common level. (An even split of
// the matrix had both halves pay the translator's warm-up in full.)
// Every test/*.test.ts must be listed below, in one suite, so none is silently skipped.
//
// The test files and everything they import are first compiled by esbuild (≈0.1 s; kept
// for the next run while no source changes: scripts/test-build.mjs) into
// node_modules/.cache/virtgold-test/, one module per test file with shared chunks, and
// run as plain JavaScript: loading ~150 TypeScript modules through tsx's loader thread
// cost each process more than the compile does. import.meta.url is pinned to a file in
// test/, so paths built from it (`new URL('..', import.meta.url)` in test/ and harness/,
// both one level down) mean what they mean in the sources.
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { compiledTests } from './test-build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

// Each file with its cost, to balance the processes: ms of work beyond the process start,
// as measured alone, scaled down to what it costs among the others (which warm the
// translator up for it); the golden matrix's is tuned so that both processes end
// together (re-tune it when `npm test` shows them apart).
const GOLDEN = 'golden';
const SUITES = {
  fast: {
    [GOLDEN]: 14500,
    harness: 390, translator: 245, fuzz: 200, classify: 160, probe: 155, limits: 110,
    snapshots: 100, cpu: 90, 'hostdev-scsi': 85, graphics: 80, chardev: 80, boot: 75, 'libvirt-tests': 70, confine: 65,
    'drive-address': 55, net: 55, controller: 40, scale: 30, 'parse-order': 35, imports: 30, 'disk-extra': 30, 'disk-net': 30, tuning: 30,
    usb: 15, 'tpm-host': 15, 'memory-sgx': 40, pending: 150, stop: 10,
  },
  integration: {
    update: 40, cli: 25, 'cli-setup': 20, schema: 3, 'schema-corpus': 1, run: 15, review: 10, 'pending-cli': 8, shell: 8, compare: 8, 'compare-harness': 5, html: 3, 'schema-cli': 3, 'interop-snapshots': 3,
    'scale-cli': 20, watch: 5, examples: 30, signals: 10, 'harness-lock': 5, 'test-build': 2,
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
  const s = shards.reduce((a, b) => (b.cost < a.cost ? b : a));
  s.files.push(file);
  s.cost += cost;
}
// The shard holding the matrix hands the others slices of it, up to the common level.
const home = shards.find((s) => s.files.includes(GOLDEN));
if (home && n > 1) {
  const level = shards.reduce((a, s) => a + s.cost, 0) / n;
  let from = 0;
  for (const s of shards.filter((x) => x !== home && x.cost < level)) {
    const to = Math.min(100, from + Math.round((100 * (level - s.cost)) / suite[GOLDEN]));
    if (to > from) s.files.push(GOLDEN), (s.slice = `${from}-${to}`);
    from = to;
  }
  if (from > 0) home.slice = `${from}-100`;
}
// Worktrees may share one node_modules: the cache is per checkout (its path's digest).
const cache = `${root}/node_modules/.cache/virtgold-test/${createHash('sha256').update(root).digest('hex').slice(0, 12)}`;
const compiled = await compiledTests(root, cache, suiteName, {
  absWorkingDir: root,
  entryPoints: Object.keys(suite).map((f) => `test/${f}.test.ts`),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external', // resolved from node_modules/ above the output, as from the sources
  sourcemap: 'linked',
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(`${root}/test/compiled.mjs`).href) },
  logLevel: 'error',
});

// The tests build hundreds of small throw-away projects; on a disk file system each file
// created costs about a millisecond, on tmpfs a few microseconds. So unless TMPDIR says
// otherwise, the test processes get a scratch folder in /dev/shm where the machine has one.
let scratch;
if (!process.env.TMPDIR) {
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', constants.W_OK);
      scratch = mkdtempSync('/dev/shm/virtgold-test-');
      chmodSync(scratch, 0o1777); // like /tmp: some tests run a step as another user
    }
  } catch {
    scratch = undefined; // no usable /dev/shm: the default temporary folder
  }
}

// The processes' output, apart from the compiled tests (a later run reuses them) and from
// the tests' scratch folder (theirs to list).
const logs = mkdtempSync(join(scratch ? '/dev/shm' : tmpdir(), 'virtgold-test-logs-'));
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
const runs = shards.filter((s) => s.files.length).map((s, i) => new Promise((done) => {
  const pattern = `^(${s.files.map((f) => f.replace(/[-]/g, '\\-')).join('|')})\\.test\\.mjs$`;
  // Output goes to a file, read back when the process ends: uvu writes a mark per test,
  // and thousands of writes to a pipe cost the process a tenth of its time.
  const log = `${logs}/shard-${i + 1}.log`;
  const fd = openSync(log, 'w');
  // A larger V8 interrupt budget: fewer functions are sent to the optimizing compiler,
  // whose threads otherwise take a third of the CPU of two processes on two cores. A larger
  // young generation: the translator's short-lived trees then rarely outlive a scavenge.
  const child = spawn(process.execPath, ['--interrupt-budget=300000', '--min-semi-space-size=32', '--max-semi-space-size=64', 'node_modules/uvu/bin.js', compiled, pattern], {
    cwd: root,
    env: { ...process.env, ...(s.slice && { VIRTGOLD_GOLDEN_SLICE: s.slice }), ...(scratch && { TMPDIR: scratch }) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const started = Date.now();
  child.on('close', (code, signal) => done({ out: readFileSync(log, 'utf8'), code: code ?? 1, signal, ms: Date.now() - started }));
}));

const results = await Promise.all(runs);
if (scratch) rmSync(scratch, { recursive: true, force: true });
rmSync(logs, { recursive: true, force: true });
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
