// Runs of libvirt's test programs and builds of them, which share the cache's build tree
// (harness/harness-lock.ts): a run holds the cache's lock shared, waits (and says so)
// while a build holds it, and refuses programs rebuilt from another patch since this
// process was handed them. On a stand-in cache: two shell programs that answer every
// domain, beside build/.virtgold-ready and the cache's .lock, as scripts/libvirt-harness.sh
// lays them out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runHarness } from '../harness/libvirt-tests-run.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const snapshot = { arch: 'x86_64', version: '8.1.0', path: join(repo, 'capabilities/caps_8.1.0_x86_64.xml') };

const cache = tempDir('harness-cache');
const dir = join(cache, 'build/tests');
mkdirSync(dir, { recursive: true });
writeFileSync(join(cache, '.lock'), '');
const ready = join(cache, 'build/.virtgold-ready');
writeFileSync(ready, 'key-1\n');
for (const [bin, ext] of [['qemuxml2argvtest', 'args'], ['qemuxml2xmltest', 'xml']]) {
  writeFileSync(join(dir, bin!), `#!/bin/sh\nfor n in $VIRTGOLD_CASES; do echo "answer $n" > "$VIRTGOLD_OUT/$n.${ext}"; done\n`);
  chmodSync(join(dir, bin!), 0o755);
}
const work = tempDir('harness-work');
mkdirSync(join(work, 'in'));
writeFileSync(join(work, 'in/d0.xml'), readFileSync(join(repo, 'cases/domain/minimal.xml')));

const answer = async () => (await runHarness(dir, work, join(work, 'in'), snapshot, 'xml2xml', ['d0'])).get('d0');

test('a run waits for a build that holds the cache, says so, then runs', async () => {
  const build = execa('flock', ['-x', join(cache, '.lock'), 'sleep', '1.5'], { reject: false });
  await new Promise((r) => setTimeout(r, 300)); // the build has the lock
  const said: string[] = [];
  const error = console.error;
  console.error = (line: string) => void said.push(line);
  const t0 = Date.now();
  try {
    assert.equal(await answer(), { kind: 'output', text: 'answer d0\n' });
  } finally {
    console.error = error;
  }
  assert.ok(Date.now() - t0 > 800, 'it did not wait');
  assert.match(said.join('\n'), /^libvirt-tests: waiting for a build of libvirt's test harness to finish \(.*\.lock is held\)$/);
  await build;
});

test('a build waits for a run in progress: the run holds the lock shared', async () => {
  writeFileSync(join(dir, 'qemuxml2xmltest'), '#!/bin/sh\nsleep 1.5\nfor n in $VIRTGOLD_CASES; do echo "answer $n" > "$VIRTGOLD_OUT/$n.xml"; done\n');
  const run = answer();
  await new Promise((r) => setTimeout(r, 700));
  const builder = await execa('flock', ['-x', '-n', join(cache, '.lock'), 'true'], { reject: false });
  assert.is(builder.exitCode, 1, 'a build could take the lock while a program ran');
  assert.equal(await run, { kind: 'output', text: 'answer d0\n' });
});

test('programs rebuilt from another patch since this process was handed them: refused, one line why', async () => {
  writeFileSync(ready, 'key-2\n');
  try {
    await answer();
    assert.unreachable('it ran rebuilt programs');
  } catch (e) {
    assert.match((e as Error).message, /^libvirt's test harness in .* was rebuilt from another libvirt-harness\.patch while this run used it \(another worktree's run\?\); run again$/);
  }
});

test.run();
