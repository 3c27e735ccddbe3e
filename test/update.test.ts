// update-golden: writes only what changed, removes stale goldens, never writes for a crash.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateGoldens } from '../harness/update.js';
import { runBuiltin, type Translator } from '../harness/suite.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'virtgold-update-'));
  for (const d of ['cases', 'capabilities', 'golden']) cpSync(join(repo, d), join(dir, d), { recursive: true });
  return dir;
}

test('a fresh checkout is up to date: nothing is written', () => {
  const dir = project();
  try {
    const before = statSync(join(dir, 'golden/xml2argv/minimal.x86_64-7.2.0.args')).mtimeMs;
    const r = updateGoldens(dir);
    assert.equal([r.created, r.updated, r.removed, r.crashed], [[], [], [], []]);
    assert.ok(r.unchanged.length > 100);
    assert.is(statSync(join(dir, 'golden/xml2argv/minimal.x86_64-7.2.0.args')).mtimeMs, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('changed, new and stale goldens are updated, created and removed', () => {
  const dir = project();
  try {
    const g = join(dir, 'golden/xml2argv/minimal.x86_64-7.2.0.args');
    const good = readFileSync(g, 'utf8');
    writeFileSync(g, 'tampered\n');
    rmSync(join(dir, 'golden/xml2xml/minimal.x86_64-8.1.0.xml'));
    writeFileSync(join(dir, 'golden/xml2xml/gone.x86_64-7.2.0.xml'), 'stale\n');
    writeFileSync(join(dir, 'golden/xml2argv/minimal.x86_64-7.2.0.err'), 'wrong kind\n');
    const r = updateGoldens(dir);
    assert.equal(r.updated, ['golden/xml2argv/minimal.x86_64-7.2.0.args']);
    assert.equal(r.created, ['golden/xml2xml/minimal.x86_64-8.1.0.xml']);
    assert.equal(r.removed.sort(), ['golden/xml2argv/minimal.x86_64-7.2.0.err', 'golden/xml2xml/gone.x86_64-7.2.0.xml']);
    assert.is(readFileSync(g, 'utf8'), good);
    assert.not.ok(readdirSync(join(dir, 'golden/xml2argv')).some((f) => f.endsWith('.tmp')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a translator crash writes nothing for that case and keeps its goldens', () => {
  const dir = project();
  try {
    const g = join(dir, 'golden/xml2argv/minimal.x86_64-7.2.0.args');
    writeFileSync(g, 'old\n');
    const crashing: Translator = (mode, caps, xml) =>
      xml.includes('<name>minimal</name>') ? { kind: 'crash', message: 'TypeError: boom' } : runBuiltin(mode, caps, xml);
    const r = updateGoldens(dir, {}, crashing);
    assert.is(readFileSync(g, 'utf8'), 'old\n');
    assert.ok(existsSync(join(dir, 'golden/xml2xml/minimal.x86_64-7.2.0.xml')));
    assert.is(r.crashed.length, 6);
    assert.equal([r.created, r.updated, r.removed], [[], [], []]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a filtered update only touches the filtered entries', () => {
  const dir = project();
  try {
    writeFileSync(join(dir, 'golden/xml2argv/minimal.x86_64-7.2.0.args'), 'x\n');
    writeFileSync(join(dir, 'golden/xml2argv/general.x86_64-7.2.0.args'), 'x\n');
    const r = updateGoldens(dir, { case: 'gen*', mode: 'xml2argv', version: '7.2.0' });
    assert.equal(r.updated, ['golden/xml2argv/general.x86_64-7.2.0.args']);
    assert.is(readFileSync(join(dir, 'golden/xml2argv/minimal.x86_64-7.2.0.args'), 'utf8'), 'x\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cases, snapshots and goldens behind links leading outside the project are refused', async () => {
  const { symlinkSync } = await import('node:fs');
  const { buildMatrix } = await import('../harness/matrix.js');
  for (const [link, target] of [
    ['cases/evil.xml', '/etc/hostname'],
    ['capabilities/caps_9.9.9_x86_64.xml', '/etc/hostname'],
    ['golden/xml2argv/minimal.x86_64-7.2.0.err', '/tmp/virtgold-outside'],
  ] as const) {
    const dir = project();
    try {
      rmSync(join(dir, link), { force: true });
      symlinkSync(target, join(dir, link));
      assert.throws(() => buildMatrix(dir), /leads outside the project|leads nowhere/);
      assert.throws(() => updateGoldens(dir), /leads outside the project|leads nowhere/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test.run();
