// The golden tree stays inside the project (links among its folders, folders swapped for
// links after they were checked), and the update lock's takeover rules. In-process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMatrix, readCase } from '../harness/cases.js';
import { closeDir, openDir, readInside, writeAtomicIn } from '../harness/confine.js';
import { takeLock } from '../harness/goldens.js';
import { updateGoldens } from '../harness/update.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** A small throw-away project (two cases, one snapshot, empty golden folders) and a
 *  folder outside it. */
function withProject(fn: (dir: string, outside: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = tempDir('confine');
    const outside = tempDir('outside');
    try {
      for (const f of ['cases/domain/minimal.xml', 'cases/usb/duplicate-index.xml', 'capabilities/caps_7.2.0_x86_64.xml']) cpSync(join(repo, f), join(dir, f));
      for (const d of ['domain', 'usb', 'memory']) mkdirSync(join(dir, 'golden/xml2argv', d), { recursive: true });
      await fn(dir, outside);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  };
}

const refusal = async (p: Promise<unknown>) => p.then(() => '', (e: Error) => e.message);

for (const folder of ['golden', 'golden/xml2argv', 'golden/xml2argv/domain']) {
  test(`update writes nothing through ${folder} linked outside the project`, withProject(async (dir, outside) => {
    rmSync(join(dir, folder), { recursive: true });
    symlinkSync(outside, join(dir, folder));
    assert.throws(() => buildMatrix(dir), /leads outside the project/);
    assert.match(await refusal(updateGoldens({ root: dir, filters: {}, prune: true })), /leads outside the project|is a link/);
    assert.equal(readdirSync(outside), []);
  }));
}

test('a golden file linked outside the project is refused when the matrix is built; its plain neighbours are not', withProject((dir, outside) => {
  writeFileSync(join(outside, 'stolen.args'), 'x\n');
  writeFileSync(join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.err'), 'plain\n');
  buildMatrix(dir);
  symlinkSync(join(outside, 'stolen.args'), join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args'));
  assert.throws(() => buildMatrix(dir), /minimal\.x86_64-7\.2\.0\.args leads outside the project/);
}));

test('a golden folder linked inside the project is refused too: goldens go only into real folders', withProject(async (dir) => {
  rmSync(join(dir, 'golden/xml2argv/usb'), { recursive: true });
  symlinkSync(join(dir, 'golden/xml2argv/memory'), join(dir, 'golden/xml2argv/usb'));
  const before = readdirSync(join(dir, 'golden/xml2argv/memory')).sort();
  assert.match(await refusal(updateGoldens({ root: dir, filters: { case: ['usb/*'] } })), /golden\/xml2argv\/usb is a link/);
  assert.equal(readdirSync(join(dir, 'golden/xml2argv/memory')).sort(), before);
}));

test('a folder swapped for a link after it was opened is not followed', withProject((dir, outside) => {
  const d = openDir(dir, 'golden/xml2argv/domain', false)!;
  try {
    renameSync(join(dir, 'golden/xml2argv/domain'), join(dir, 'golden/xml2argv/moved'));
    symlinkSync(outside, join(dir, 'golden/xml2argv/domain'));
    writeAtomicIn(d, 'x.args', 'text\n');
  } finally {
    closeDir(d);
  }
  assert.equal(readdirSync(outside), []);
  assert.is(readFileSync(join(dir, 'golden/xml2argv/moved/x.args'), 'utf8'), 'text\n');
}));

test('reading a project file: missing is undefined, a link leading out is refused', withProject((dir, outside) => {
  writeFileSync(join(outside, 'o.json'), '{}');
  symlinkSync(join(outside, 'o.json'), join(dir, 'cases/domain/minimal.json'));
  assert.throws(() => readInside(dir, join(dir, 'cases/domain/minimal.json')), /leads outside the project/);
  assert.throws(() => buildMatrix(dir), /leads outside the project/);
  assert.is(readInside(dir, join(dir, 'cases/domain/nothing.json')), undefined);
  mkdirSync(join(dir, 'cases/linked'));
  symlinkSync(join(dir, 'cases/domain/minimal.xml'), join(dir, 'cases/linked/minimal.xml'));
  assert.is(readInside(dir, join(dir, 'cases/linked/minimal.xml')), readFileSync(join(dir, 'cases/domain/minimal.xml'), 'utf8'));
}));

test('reading a project file that is a FIFO, a folder or a link to one: refused at once, never waited on', withProject((dir) => {
  const fifo = join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args');
  const r = spawnSync('mkfifo', [fifo]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  assert.throws(() => readInside(dir, fifo), /minimal\.x86_64-7\.2\.0\.args is not a regular file; refusing to read it/);
  symlinkSync(fifo, join(dir, 'golden/xml2argv/domain/fifo-link.args'));
  assert.throws(() => readInside(dir, join(dir, 'golden/xml2argv/domain/fifo-link.args')), /is not a regular file/);
  assert.throws(() => readInside(dir, join(dir, 'golden/xml2argv/domain')), /is a folder, not a file/);
}));

test('a case swapped for a link leading out after discovery is refused when run reads it', withProject((dir, outside) => {
  const [entry] = buildMatrix(dir, { case: ['domain/minimal'] });
  writeFileSync(join(outside, 'x.xml'), '<domain/>');
  rmSync(join(dir, 'cases/domain/minimal.xml'));
  symlinkSync(join(outside, 'x.xml'), join(dir, 'cases/domain/minimal.xml'));
  assert.throws(() => readCase(entry!), /leads outside the project/);
}));

const lockOf = (dir: string) => join(dir, 'golden/.update.lock');
const ago = (path: string, s: number) => utimesSync(path, Date.now() / 1000 - s, Date.now() / 1000 - s);

test('an empty lock file is a lock being written, not a stale one, until it is old', withProject((dir) => {
  writeFileSync(lockOf(dir), '');
  assert.throws(() => takeLock(dir), /another update is taking the lock/);
  ago(lockOf(dir), 10);
  const release = takeLock(dir);
  assert.match(readFileSync(lockOf(dir), 'utf8'), new RegExp(`^${process.pid} [0-9a-f]{16}\n$`));
  release();
  assert.not.ok(existsSync(lockOf(dir)));
}));

test('a live holder keeps the lock; a dead one loses it, also when it died taking it over', withProject((dir) => {
  writeFileSync(lockOf(dir), '1 00000000000000aa\n'); // pid 1 is alive
  assert.throws(() => takeLock(dir), /another update is running \(pid 1,/);
  writeFileSync(lockOf(dir), '999999999 00000000000000aa\n'); // no such pid
  writeFileSync(join(dir, 'golden/.update.lock.claim-00000000000000aa'), '1 00000000000000bb\n'); // a live claimant
  assert.throws(() => takeLock(dir), /another update is running \(pid 1,/);
  writeFileSync(join(dir, 'golden/.update.lock.claim-00000000000000aa'), '999999998 00000000000000bb\n'); // a dead claimant
  const release = takeLock(dir);
  assert.ok(existsSync(join(dir, 'golden/.update.lock.claim-00000000000000bb')), 'the dead claimant was taken over through its own claim');
  assert.throws(() => takeLock(dir), new RegExp(`another update is running \\(pid ${process.pid},`));
  release();
  assert.not.ok(existsSync(lockOf(dir)));
  assert.equal(readdirSync(join(dir, 'golden')).filter((f) => f.endsWith('.tmp')), []);
  writeFileSync(lockOf(dir), `${process.pid} 00000000000000cc\n`); // our pid, not our lock: a dead process had it
  takeLock(dir)();
  assert.not.ok(existsSync(lockOf(dir)));
}));

test.run();
