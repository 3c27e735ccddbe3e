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
  // a snapshot comes with what it carries of its host: firmware descriptors, hugetlbfs mounts
  for (const d of ['cases', 'capabilities', 'golden', 'firmware', 'host']) cpSync(join(repo, d), join(dir, d), { recursive: true });
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

/** Every golden of the good tree replaced by one of the other kind (an .args by an .err,
 *  an .err by an .args or .xml), so that an update must change the kind of every entry. */
function flipKinds(gdir: string, good: Map<string, string>): Map<string, string> {
  const flipped = new Map<string, string>();
  for (const f of good.keys()) {
    const stem = f.replace(/\.(args|xml|err)$/, '');
    const other = f.endsWith('.err') ? stem + (f.startsWith('xml2argv/') ? '.args' : '.xml') : `${stem}.err`;
    rmSync(join(gdir, f), { force: true });
    writeFileSync(join(gdir, other), `flipped ${f}\n`);
    flipped.set(other, `flipped ${f}\n`);
  }
  return flipped;
}

/** What is wrong with the tree mid-update: an entry with goldens of both kinds, or a
 *  golden that is neither the old file nor the new one. Also how many are new. */
function treeProblems(gdir: string, good: Map<string, string>, old: Map<string, string>): { problems: string[]; fresh: number } {
  const problems: string[] = [];
  let fresh = 0;
  const stems = new Set<string>();
  for (const f of globSync('xml2*/**/*.{args,xml,err}', { cwd: gdir })) {
    const text = readFileSync(join(gdir, f), 'utf8');
    if (text === good.get(f)) fresh++;
    else if (text !== old.get(f)) problems.push(`${f} is neither old nor new`);
    const stem = f.replace(/\.(args|xml|err)$/, '');
    if (stems.has(stem)) problems.push(`${stem}: both kinds of golden exist`);
    stems.add(stem);
  }
  return { problems, fresh };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('any prefix of an update is a consistent tree: stopped at many points and killed at several', async () => {
  const { execa } = await import('execa');
  const dir = project();
  try {
    const gdir = join(dir, 'golden');
    const good = new Map(globSync('xml2*/**/*', { cwd: gdir, nodir: true }).map((f) => [f, readFileSync(join(gdir, f), 'utf8')]));
    let midway = 0;
    for (let round = 0; round < 4; round++) {
      const old = flipKinds(gdir, good);
      const child = execa('node', [join(repo, 'bin/virtgold.js'), 'update', '--root', dir], { reject: false });
      let exited = false;
      void child.finally(() => { exited = true; });
      // Stop the update every few ms (a stopped process has done a prefix of its work) and
      // look at the tree; kill it at the (round+2)th stop that finds the update half done.
      // While it makes no progress the pauses double, up to 80 ms: on a loaded machine 10 ms
      // may not give it a time slice at all, and the loop would starve it; longer ones would
      // step over the short moment when the goldens are written.
      try {
        for (let seen = 0, wait = 10, last = -1; !exited;) {
          await pause(wait);
          try { process.kill(child.pid!, 'SIGSTOP'); } catch { break; }
          const { problems, fresh } = treeProblems(gdir, good, old);
          assert.equal(problems.slice(0, 5), [], `round ${round}, ${fresh} goldens new`);
          wait = fresh === last ? Math.min(wait * 2, 80) : 10;
          last = fresh;
          if (fresh > 0 && fresh < good.size) {
            midway++;
            if (++seen === round + 2) {
              process.kill(child.pid!, 'SIGKILL');
              break;
            }
          }
          process.kill(child.pid!, 'SIGCONT');
        }
      } finally {
        if (!exited) child.kill('SIGKILL'); // a failed check must not leave it stopped
      }
      await child;
      assert.equal(treeProblems(gdir, good, old).problems.slice(0, 5), []);
    }
    assert.ok(midway >= 4, `the update was caught half done only ${midway} times`);
    // The next update takes over the dead one's lock, cleans up its temporary files, finishes.
    const r = await execa('node', [join(repo, 'bin/virtgold.js'), 'update', '--root', dir], { reject: false });
    assert.is(r.exitCode, 0, r.stderr);
    assert.not.ok(globSync('**/*.tmp', { cwd: gdir, dot: true }).length);
    for (const [f, text] of good) assert.is(readFileSync(join(gdir, f), 'utf8'), text);
    assert.is(globSync('xml2*/**/*', { cwd: gdir, nodir: true }).length, good.size);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C, SIGTERM and SIGHUP during an update release the lock', async () => {
  const { execa } = await import('execa');
  const dir = project();
  try {
    const lock = join(dir, 'golden/.update.lock');
    const gdir = join(dir, 'golden');
    const goldens = globSync('xml2*/**/*', { cwd: gdir, nodir: true });
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
      // Work enough to be sure the signal finds it still running, even on a loaded machine.
      for (const f of goldens) writeFileSync(join(gdir, f), 'tampered\n');
      const child = execa('node', [join(repo, 'bin/virtgold.js'), 'update', '--root', dir], { reject: false });
      // Stopped while it holds the lock, it cannot be past the lock's release, so its
      // handlers are still listening when the signal is let in (without the stop, a slow
      // look on a loaded machine could find the lock just before the update's very end).
      let held = false;
      for (let i = 0; i < 5000 && !held; i++) {
        await pause(2);
        process.kill(child.pid!, 'SIGSTOP');
        held = existsSync(lock);
        if (!held) process.kill(child.pid!, 'SIGCONT');
      }
      assert.ok(held, 'the update took no lock');
      child.kill(signal);
      process.kill(child.pid!, 'SIGCONT');
      const r = await child;
      assert.is(r.exitCode, code, `${signal}: ${r.stderr}`);
      assert.not.ok(existsSync(lock), `${signal} left the lock behind`);
      assert.ok(globSync('xml2*/**/*', { cwd: gdir, nodir: true }).some((f) => readFileSync(join(gdir, f), 'utf8') === 'tampered\n'), `${signal} did not stop the update`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('racing for a stale lock: at most one update holds it at a time', async () => {
  const { execa } = await import('execa');
  const { spawnSync } = await import('node:child_process');
  const dir = project();
  try {
    const lock = join(dir, 'golden/.update.lock');
    const log = join(dir, 'log');
    const racers = 8;
    for (let round = 0; round < 5; round++) {
      const dead = spawnSync('true').pid; // exited: its pid names a dead process
      writeFileSync(lock, `${dead}\n`);
      writeFileSync(log, '');
      // Far enough ahead that every racer has started (tsx takes a while on a loaded machine).
      const startAt = Date.now() + 3500;
      const procs = Array.from({ length: racers }, () => execa('node', ['--import', 'tsx', join(repo, 'test/fixtures/lock-contender.ts'), dir, String(startAt), '300', log], { reject: false, cwd: repo }));
      const results = await Promise.all(procs);
      for (const r of results) assert.is(r.exitCode, 0, r.stderr);
      const outcomes = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ').slice(1).join(' '));
      assert.is(outcomes.length, racers);
      assert.not.ok(outcomes.includes('overlap'), `round ${round}: two held the lock at once (${outcomes.join(', ')})`);
      assert.ok(outcomes.includes('held'), `round ${round}: nobody took the stale lock (${outcomes.join(', ')})`);
      assert.equal(outcomes.filter((o) => o !== 'held' && o !== 'busy'), []);
      assert.not.ok(existsSync(lock));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
