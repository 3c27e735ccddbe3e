// update-golden: writes only what changed, removes stale goldens, never writes for a crash.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { globSync } from 'glob';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateGoldens } from '../harness/update.js';
import { builtinAdapter, type Adapter } from '../harness/adapters.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

function project(): string {
  const dir = tempDir('update');
  for (const d of ['cases', 'capabilities', 'golden']) cpSync(join(repo, d), join(dir, d), { recursive: true });
  return dir;
}

/** Run a check against a throw-away copy of the project's cases, snapshots and goldens. */
async function inProject(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = project();
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a fresh checkout is up to date: nothing is written', () => inProject(async (dir) => {
  const before = statSync(join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args')).mtimeMs;
  const r = await updateGoldens({ root: dir, filters: {} });
  assert.equal([r.created, r.updated, r.removed, r.crashed], [[], [], [], []]);
  assert.ok(r.unchanged.length > 100);
  assert.is(statSync(join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args')).mtimeMs, before);
}));

test('changed, new and stale goldens are updated, created and removed', () => inProject(async (dir) => {
  const g = join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args');
  const good = readFileSync(g, 'utf8');
  writeFileSync(g, 'tampered\n');
  rmSync(join(dir, 'golden/xml2xml/domain/minimal.x86_64-8.1.0.xml'));
  writeFileSync(join(dir, 'golden/xml2xml/gone.x86_64-7.2.0.xml'), 'stale\n');
  writeFileSync(join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.err'), 'wrong kind\n');
  const r = await updateGoldens({ root: dir, filters: {}, prune: true });
  assert.equal(r.updated, ['golden/xml2argv/domain/minimal.x86_64-7.2.0.args']);
  assert.equal(r.created, ['golden/xml2xml/domain/minimal.x86_64-8.1.0.xml']);
  assert.equal(r.removed.sort(), ['golden/xml2argv/domain/minimal.x86_64-7.2.0.err', 'golden/xml2xml/gone.x86_64-7.2.0.xml']);
  assert.is(readFileSync(g, 'utf8'), good);
  assert.not.ok(globSync('**/*.tmp', { cwd: join(dir, 'golden'), dot: true }).length);
}));

test('a translator crash writes nothing for that case and keeps its goldens', () => inProject(async (dir) => {
  const g = join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args');
  writeFileSync(g, 'old\n');
  const crashing: Adapter = {
    name: 'crashing',
    translate: async (entry, xml) => (xml.includes('<name>minimal</name>') ? { kind: 'crash', message: 'TypeError: boom' } : builtinAdapter.translate(entry, xml)),
  };
  const r = await updateGoldens({ root: dir, filters: {}, adapter: crashing });
  assert.is(readFileSync(g, 'utf8'), 'old\n');
  assert.ok(existsSync(join(dir, 'golden/xml2xml/domain/minimal.x86_64-7.2.0.xml')));
  assert.is(r.crashed.length, 6);
  assert.equal([r.created, r.updated, r.removed], [[], [], []]);
}));

test('a filtered update only touches the filtered entries', () => inProject(async (dir) => {
  writeFileSync(join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args'), 'x\n');
  writeFileSync(join(dir, 'golden/xml2argv/domain/general.x86_64-7.2.0.args'), 'x\n');
  const r = await updateGoldens({ root: dir, filters: { case: ['domain/gen*'], mode: ['xml2argv'], version: ['7.2.0'] } });
  assert.equal(r.updated, ['golden/xml2argv/domain/general.x86_64-7.2.0.args']);
  assert.is(readFileSync(join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args'), 'utf8'), 'x\n');
}));

test('cases, snapshots and goldens behind links leading outside the project are refused', async () => {
  const { symlinkSync } = await import('node:fs');
  const { buildMatrix } = await import('../harness/cases.js');
  for (const [link, target] of [
    ['cases/evil.xml', '/etc/hostname'],
    ['capabilities/caps_9.9.9_x86_64.xml', '/etc/hostname'],
    ['golden/xml2argv/domain/minimal.x86_64-7.2.0.err', '/tmp/virtgold-outside'],
  ] as const) {
    const dir = project();
    try {
      rmSync(join(dir, link), { force: true });
      symlinkSync(target, join(dir, link));
      assert.throws(() => buildMatrix(dir), /leads outside the project|leads nowhere/);
      let refused = '';
      await updateGoldens({ root: dir, filters: {} }).catch((e: Error) => { refused = e.message; });
      assert.match(refused, /leads outside the project|leads nowhere/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('an update killed with SIGKILL at any moment leaves every golden old or new, never partial', async () => {
  const { execa } = await import('execa');
  const dir = project();
  try {
    const gdir = join(dir, 'golden');
    const files = () => globSync('xml2*/**/*', { cwd: gdir, dot: true, nodir: true });
    const good = new Map(files().map((f) => [f, readFileSync(join(gdir, f), 'utf8')]));
    const stale = (t: string) => `${t}stale\n`;
    for (let round = 0; round < 4; round++) {
      for (const [f, text] of good) writeFileSync(join(gdir, f), stale(text)); // every golden must be rewritten
      const child = execa('node', [join(repo, 'bin/virtgold.js'), 'update', '--root', dir], { reject: false });
      await new Promise((r) => setTimeout(r, 500 + round * 200));
      child.kill('SIGKILL');
      await child;
      for (const [f, text] of good) {
        const now = readFileSync(join(gdir, f), 'utf8');
        assert.ok(now === text || now === stale(text), `${f} is partial after SIGKILL`);
      }
      rmSync(join(gdir, '.update.lock'), { force: true });
    }
    // The next update cleans up whatever temporary files the killed ones left.
    await updateGoldens({ root: dir, filters: {} });
    assert.not.ok(files().some((f) => f.endsWith('.tmp')));
    for (const [f, text] of good) assert.is(readFileSync(join(gdir, f), 'utf8'), text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
