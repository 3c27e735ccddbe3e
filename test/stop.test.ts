// harness/stop.ts (every cleanup before the exit on a signal) and harness/scratch.ts
// (temporary folders removed on a signal, those of killed runs swept), in-process: the
// exit is a stand-in, and no signal is sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEPT_MARK, scratchDir, sweepScratch } from '../harness/scratch.js';
import { onStop, resetStop, stop, stoppingBy } from '../harness/stop.js';
import { tempDir } from './helpers/tmp.js';

test.after.each(() => resetStop());

test('a stop runs every cleanup, newest first, each even when one fails, then exits 128 + N', async () => {
  const done: string[] = [];
  const codes: number[] = [];
  onStop(() => void done.push('lock released'));
  const off = onStop(() => void done.push('taken back: never run'));
  onStop(async () => {
    await new Promise((r) => setTimeout(r, 5)); // a domain undefined: it takes a while
    done.push('domain undefined');
  });
  onStop(() => { throw new Error('a cleanup that fails'); });
  off();
  const errors: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((s: string) => { errors.push(s); return true; }) as typeof process.stderr.write;
  try {
    await stop('SIGINT', (c) => codes.push(c));
  } finally {
    process.stderr.write = write;
  }
  assert.equal(done, ['domain undefined', 'lock released']);
  assert.equal(codes, [130]);
  assert.equal(errors, ['virtgold: cleanup after SIGINT: a cleanup that fails\n']);
  assert.is(stoppingBy(), 'SIGINT');
  // A second signal while stopping does not run them again.
  await stop('SIGTERM', (c) => codes.push(c));
  assert.equal(codes, [130]);
});

test('SIGTERM and SIGHUP exit 143 and 129', async () => {
  for (const [s, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    const codes: number[] = [];
    await stop(s, (c) => codes.push(c));
    assert.equal(codes, [code]);
    resetStop();
  }
});

test('a scratch folder is named after its process, removed on a stop unless kept or removed before', async () => {
  const tmp = tempDir('scratch');
  const a = scratchDir('virtgold-t-', tmp);
  const b = scratchDir('virtgold-t-', tmp);
  const c = scratchDir('virtgold-t-', tmp);
  assert.match(a.path, new RegExp(`/virtgold-t-${process.pid}-[A-Za-z0-9]{6}$`));
  writeFileSync(join(a.path, 'domain.xml'), '<domain/>');
  b.keep();
  c.remove();
  assert.not.ok(existsSync(c.path));
  await stop('SIGINT', () => undefined);
  assert.not.ok(existsSync(a.path), 'removed on the stop');
  assert.ok(existsSync(join(b.path, KEPT_MARK)), 'kept');
});

test("the folders of a prefix whose process is gone are swept, unless kept; live ones and others' stay", () => {
  const tmp = tempDir('sweep');
  const names = ['virtgold-t-111-aaaaaa', 'virtgold-t-222-bbbbbb', 'virtgold-t-333-cccccc', 'virtgold-t-ddddddd', 'virtgold-other-111-eeeeee', `virtgold-t-${process.pid}-ffffff`];
  for (const n of names) mkdirSync(join(tmp, n));
  writeFileSync(join(tmp, 'virtgold-t-111-aaaaaa', 'answer.args'), '-m 1\n');
  writeFileSync(join(tmp, 'virtgold-t-333-cccccc', KEPT_MARK), '');
  const removed = sweepScratch('virtgold-t-', tmp, (pid) => pid === 222);
  assert.equal(removed, [join(tmp, 'virtgold-t-111-aaaaaa')]);
  assert.equal(readdirSync(tmp).sort(), names.filter((n) => n !== 'virtgold-t-111-aaaaaa').sort());
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
