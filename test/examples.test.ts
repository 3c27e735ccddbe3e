// examples/python-worker as its user runs it: virtgold packed by `npm pack` and installed
// from that tarball into a copy of the example; then the `run:` lines of the example's own
// GitHub Actions workflow, read from the YAML (so the workflow cannot drift from what is
// tested), each shard of the matrix in a checkout of its own, then merge-reports on the
// shards' reports. Also: the Python worker's goldens are current, a broken translation
// fails its shard and the merged report, and minivirt's tool errors are never compared
// with an .err golden.
//
// Installing: `npm install --offline` of the tarball needs every dependency's metadata in
// npm's cache, which `npm ci` does not leave there, and the test must not need the network.
// So the tarball is unpacked as npm would unpack it (node_modules/virtgold, its bin linked
// in node_modules/.bin) and only the dependencies virtgold's package.json declares are
// linked beside it from this checkout's node_modules: an import of anything undeclared
// fails here as it would in a user's project.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const example = join(repo, 'examples/python-worker');
const python = (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, 'python3')));
if (!python) console.log("SKIP examples/python-worker: python3 is not in PATH (.ci/run installs Debian's python3)");
/** a test that needs python3 */
const pyTest = python ? test : test.skip;
// npm without the network or its notices: a step that would download something fails.
const env = { npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

interface Step { run?: string; uses?: string; with?: string }
interface Job { name: string; matrix: Record<string, string[]>; steps: Step[] }

/** The jobs of a workflow, in the plain shape the example keeps: one-line `run:` values,
 *  flow-style `with:` maps, a matrix of flow-style lists. Anything else is refused, so a
 *  change to the workflow this reader does not follow fails the test instead of being
 *  skipped. */
function readWorkflow(text: string): Job[] {
  const jobs: Job[] = [];
  let inJobs = false;
  let inMatrix = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').replace(/^\s*#.*$/, '');
    if (!line.trim()) continue;
    if (/^\S/.test(line)) { inJobs = line === 'jobs:'; continue; }
    if (!inJobs) continue;
    const job = /^ {2}([\w-]+):$/.exec(line);
    if (job) { jobs.push({ name: job[1]!, matrix: {}, steps: [] }); inMatrix = false; continue; }
    const cur = jobs.at(-1)!;
    if (/^ {6}matrix:$/.test(line)) { inMatrix = true; continue; }
    const list = /^ {8}([\w-]+): \[(.*)\]$/.exec(line);
    if (inMatrix && list) { cur.matrix[list[1]!] = list[2]!.split(',').map((s) => s.trim()); continue; }
    if (/^ {6}\S/.test(line)) inMatrix = false;
    const step = /^ {6}- (run|uses): (.*)$/.exec(line);
    if (step) {
      if (step[1] === 'run' && /^[|>]/.test(step[2]!)) throw new Error(`workflow: a block run: this test does not read (${line.trim()})`);
      cur.steps.push({ [step[1]!]: step[2]! });
      continue;
    }
    const withLine = /^ {8}with: (\{.*\})$/.exec(line);
    if (withLine && cur.steps.length) cur.steps.at(-1)!.with = withLine[1]!;
  }
  return jobs;
}

/** A step's command with the matrix's values in place of its expressions. */
function expand(cmd: string, matrix: Record<string, string>, total: number): string {
  const out = cmd.replace(/\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g, (_, k: string) => matrix[k] ?? `<no matrix.${k}>`)
    .replaceAll('${{ strategy.job-total }}', String(total));
  if (out.includes('${{') || out.includes('<no matrix.')) throw new Error(`workflow: an expression this test cannot fill in: ${cmd}`);
  return out;
}

// virtgold as the example's devDependency: packed once, unpacked into install/node_modules.
const root = tempDir('examples');
const installed = join(root, 'install/node_modules');

test.before(async () => {
  if (!python) return;
  const packed = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', root], { cwd: repo, env });
  const tarball = join(root, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  const pkgDir = join(installed, 'virtgold');
  mkdirSync(pkgDir, { recursive: true });
  await execa('tar', ['xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; bin: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies)) {
    mkdirSync(join(installed, dep, '..'), { recursive: true });
    symlinkSync(join(repo, 'node_modules', dep), join(installed, dep));
  }
  mkdirSync(join(installed, '.bin'));
  for (const [name, file] of Object.entries(pkg.bin)) {
    chmodSync(join(pkgDir, file), 0o755);
    symlinkSync(join('..', 'virtgold', file), join(installed, '.bin', name));
  }
});

/** A fresh checkout of the example (as a CI job gets one), virtgold installed. */
function checkout(name: string): string {
  const dir = join(root, name);
  const skip = new Set(['node_modules', 'reports', '.virtgold']);
  cpSync(example, dir, { recursive: true, filter: (src) => !skip.has(src.split('/').at(-1)!) });
  symlinkSync(installed, join(dir, 'node_modules'));
  return dir;
}

let runs = 0;
const sh = (cwd: string, cmd: string) => execa('bash', ['-e', '-c', cmd], { cwd, env, reject: false, all: true });

/** The workflow as CI runs it: each job of the shard matrix in a checkout of its own, its
 *  reports handed on as the artifacts are, then the report job. */
async function runWorkflow(prepare: (dir: string) => void = () => undefined) {
  const jobs = readWorkflow(readFileSync(join(example, '.github/workflows/virtgold.yml'), 'utf8'));
  assert.equal(jobs.map((j) => j.name), ['goldens', 'report']);
  const [goldens, report] = jobs as [Job, Job];
  const shards = goldens.matrix.shard!;
  assert.ok(shards.length > 1, 'the goldens job is a shard matrix');
  // The steps that are not commands: what the test stands in for.
  const uses = (j: Job) => j.steps.filter((s) => s.uses).map((s) => `${s.uses!.split('@')[0]} ${s.with ?? ''}`.trim());
  assert.ok(uses(goldens).some((u) => /^actions\/upload-artifact .*path: reports\//.test(u)), 'each shard uploads reports/');
  assert.ok(uses(report).some((u) => /^actions\/download-artifact .*merge-multiple: true, path: reports\//.test(u)), 'the report job gets them in reports/');
  const commands = (j: Job, m: Record<string, string>) => j.steps.filter((s) => s.run).map((s) => expand(s.run!, m, shards.length))
    .filter((c) => c !== 'npm ci'); // npm ci: installed above from the packed tarball
  const shardRuns = [];
  const n = ++runs;
  const collected = join(root, `artifacts-${n}`);
  for (const k of shards) {
    const dir = checkout(`shard-${k}-${n}`);
    prepare(dir);
    for (const cmd of commands(goldens, { shard: k })) shardRuns.push({ shard: k, cmd, result: await sh(dir, cmd) });
    cpSync(join(dir, 'reports'), collected, { recursive: true });
  }
  const dir = checkout(`report-${n}`);
  cpSync(collected, join(dir, 'reports'), { recursive: true });
  const merges = [];
  for (const cmd of commands(report, {})) merges.push({ cmd, result: await sh(dir, cmd) });
  return { shards, shardRuns, merges, dir };
}

/** entries of the example's matrix: every case on both snapshots in both modes */
function entryCount(): number {
  const count = (d: string): number => readdirSync(d, { withFileTypes: true })
    .reduce((n, e) => n + (e.isDirectory() ? count(join(d, e.name)) : e.name.endsWith('.xml') ? 1 : 0), 0);
  return count(join(example, 'corpus/cases')) * readdirSync(join(example, 'corpus/capabilities')).length * 2;
}

test('the example declares virtgold as a devDependency, its scripts use its corpus and the Python worker', () => {
  const pkg = JSON.parse(readFileSync(join(example, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; scripts: Record<string, string> };
  assert.ok(pkg.devDependencies.virtgold);
  const worker = "--root corpus --translator-worker 'python3 minivirt.py --serve'";
  assert.is(pkg.scripts.test, `virtgold run ${worker}`);
  assert.is(pkg.scripts.bless, `virtgold update --prune ${worker}`);
  assert.is(pkg.scripts['check-goldens'], `virtgold update --check ${worker}`);
});

test('the GitLab pipeline runs the same commands as the GitHub workflow', () => {
  const github = readWorkflow(readFileSync(join(example, '.github/workflows/virtgold.yml'), 'utf8'))
    .flatMap((j) => j.steps.filter((st) => st.run).map((st) => st.run!));
  const gitlab = readFileSync(join(example, '.gitlab-ci.yml'), 'utf8').split('\n')
    .filter((l) => /^ {4}- (npm|npx) /.test(l))
    .map((l) => l.slice(6).replaceAll('$CI_NODE_INDEX', '${{ matrix.shard }}').replaceAll('$CI_NODE_TOTAL', '${{ strategy.job-total }}'));
  assert.equal(gitlab, github);
});

pyTest('the workflow passes: every shard, then one JUnit and HTML report of all the entries', async () => {
  const { shards, shardRuns, merges, dir } = await runWorkflow();
  for (const r of [...shardRuns, ...merges]) assert.is(r.result.exitCode, 0, `${r.cmd}\n${r.result.all}`);
  assert.is(shardRuns.length, shards.length);
  for (const r of shardRuns) assert.match(r.result.all!, new RegExp(`shard ${r.shard}/${shards.length}: \\d+ entries of ${entryCount()}`));
  const junit = readFileSync(join(dir, 'reports/virtgold.xml'), 'utf8');
  assert.match(junit, new RegExp(`tests="${entryCount()}"`));
  assert.match(junit, /failures="0"/);
  assert.match(readFileSync(join(dir, 'reports/virtgold.html'), 'utf8'), /<html/i);
});

pyTest("the committed goldens are the Python worker's output (update --check)", async () => {
  const dir = checkout('check');
  const r = await sh(dir, 'npm run --silent check-goldens');
  assert.is(r.exitCode, 0, r.all);
});

pyTest('a broken translation fails its shard and the merged report', async () => {
  const { shardRuns, merges, dir } = await runWorkflow((d) => {
    const py = join(d, 'minivirt.py');
    const src = readFileSync(py, 'utf8');
    assert.ok(src.includes("('-display', 'none')"));
    writeFileSync(py, src.replace("('-display', 'none')", "('-display', 'gtk')"));
  });
  const failing = shardRuns.filter((r) => r.result.exitCode !== 0);
  assert.ok(failing.length > 0);
  for (const r of failing) {
    assert.is(r.result.exitCode, 1, r.result.all);
    assert.match(r.result.all!, /-display gtk/);
  }
  assert.is(merges[0]!.result.exitCode, 1, merges[0]!.result.all);
  const junit = readFileSync(join(dir, 'reports/virtgold.xml'), 'utf8');
  assert.not.match(junit, /failures="0"/);
  assert.match(junit, /-display gtk/);
});

pyTest('bless: after a change to the translator, npm run bless makes its output the goldens', async () => {
  const dir = checkout('bless');
  const py = join(dir, 'minivirt.py');
  writeFileSync(py, readFileSync(py, 'utf8').replace("('-display', 'none')", "('-display', 'gtk')"));
  assert.is((await sh(dir, 'npm test')).exitCode, 1);
  const blessed = await sh(dir, 'npm run --silent bless');
  assert.is(blessed.exitCode, 0, blessed.all);
  const args = readdirSync(join(dir, 'corpus/golden/xml2argv'), { recursive: true }).filter((f) => String(f).endsWith('.args')).length;
  assert.ok(args > 0);
  assert.match(blessed.all!, new RegExp(`^0 created, ${args} updated, 0 removed, ${entryCount() - args} unchanged$`, 'm'));
  assert.match(readFileSync(join(dir, 'corpus/golden/xml2argv/domain/minimal.x86_64-8.1.0.args'), 'utf8'), /-display gtk/);
  const again = await sh(dir, 'npm test');
  assert.is(again.exitCode, 0, again.all);
});

pyTest("the same goldens hold through minivirt's command line (--translator-cmd: exit 0 output, exit 1 a translation error)", async () => {
  const dir = checkout('cmd');
  const r = await sh(dir, "npx virtgold run --root corpus --translator-cmd 'python3 minivirt.py {mode} --caps {caps} {input}' --no-determinism 'errors/*' quoted-path ide-on-q35");
  assert.is(r.exitCode, 0, r.all);
  assert.match(r.all!, /^20 passed, 0 failed, 0 skipped$/m);
});

pyTest("minivirt's tool errors: exit 2 from its command line, a broken entry (never an .err) from the worker", async () => {
  const dir = checkout('tool-error');
  // A snapshot virtgold reads but minivirt cannot use: no <emulator>.
  const caps = join(dir, 'corpus/capabilities/caps_8.1.0_x86_64.xml');
  writeFileSync(caps, readFileSync(caps, 'utf8').replace(/^\s*<emulator>.*<\/emulator>\n/m, ''));
  const one = await execa('python3', ['minivirt.py', 'xml2argv', '--caps', caps, 'corpus/cases/domain/minimal.xml'], { cwd: dir, reject: false });
  assert.is(one.exitCode, 2);
  assert.is(one.stdout, '');
  assert.match(one.stderr, /^\S+caps_8\.1\.0_x86_64\.xml: no <emulator> \(minivirt runs the QEMU binary the snapshot was probed from\)$/);
  const missing = await execa('python3', ['minivirt.py', 'xml2argv', '--caps', join(dir, 'nowhere.xml'), 'corpus/cases/domain/minimal.xml'], { cwd: dir, reject: false });
  assert.is(missing.exitCode, 2);
  assert.match(missing.stderr, /^cannot read capabilities file \S+nowhere\.xml: No such file or directory$/);

  const run = await sh(dir, "npm test -- --case 'domain/*' --case 'errors/*' --reporter json:reports/run.json");
  assert.is(run.exitCode, 1, run.all);
  const json = JSON.parse(readFileSync(join(dir, 'reports/run.json'), 'utf8')) as { results: { version: string; status: string; message?: string }[] };
  const on81 = json.results.filter((r) => r.version === '8.1.0');
  assert.ok(on81.length > 0);
  for (const r of on81) {
    assert.is(r.status, 'broken');
    assert.match(r.message!, /the worker could not translate it: .*no <emulator>/);
  }
  // The other snapshot's entries, the errors/ cases' .err goldens among them, still pass.
  assert.ok(json.results.filter((r) => r.version === '8.2.0').every((r) => r.status === 'pass'));
  assert.not.ok(existsSync(join(dir, 'corpus/.virtgold/pending/xml2argv/errors/graphics.x86_64-8.1.0.err')), 'a tool error is no pending .err');
});

pyTest('the worker speaks the protocol: answers in order, a protocol answer to what it cannot read', async () => {
  const dir = checkout('protocol');
  const caps = join(dir, 'corpus/capabilities/caps_8.2.0_x86_64.xml');
  const input = [
    { id: 1, mode: 'xml2argv', caps, input: join(dir, 'corpus/cases/domain/minimal.xml') },
    { id: 2, mode: 'xml2xml', caps, xml: "<domain type='qemu'><name>x</name><memory>1024</memory><os><type>hvm</type></os><devices><graphics/></devices></domain>" },
    { id: 3, mode: 'xml2argv', caps: join(dir, 'nowhere.xml'), input: join(dir, 'corpus/cases/domain/minimal.xml') },
    'not json',
    { id: 4, mode: 'bogus', caps, input: 'x' },
  ].map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');
  const r = await execa('python3', ['minivirt.py', '--serve'], { cwd: dir, input: `${input}\n` });
  const answers = r.stdout.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.is(answers.length, 5);
  assert.equal(answers[0], { id: 1, ok: true, output: readFileSync(join(dir, 'corpus/golden/xml2argv/domain/minimal.x86_64-8.2.0.args'), 'utf8') });
  assert.equal(answers[1], { id: 2, ok: false, error: 'unsupported: <graphics> in <devices> is not handled by minivirt' });
  assert.equal(answers[2], { id: 3, ok: false, tool: `cannot read capabilities file ${join(dir, 'nowhere.xml')}: No such file or directory` });
  assert.equal(answers[3], { id: null, ok: false, protocol: 'request is not JSON' });
  assert.equal(answers[4], { id: 4, ok: false, protocol: 'a request needs id, mode, caps and input (or xml)' });
});

test.run();
