// `virtgold run --watch` as a user runs it: the first run, a changed case runs its entries,
// a changed golden its entry, a file nothing reads nothing, Ctrl-C stops it cleanly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/virtgold.js');

function project(): string {
  const dir = tempDir('watch');
  mkdirSync(join(dir, 'capabilities'));
  cpSync(join(repo, 'capabilities/caps_8.1.0_x86_64.xml'), join(dir, 'capabilities/caps_8.1.0_x86_64.xml'));
  if (existsSync(join(repo, 'host/caps_8.1.0_x86_64.json'))) cpSync(join(repo, 'host/caps_8.1.0_x86_64.json'), join(dir, 'host/caps_8.1.0_x86_64.json'));
  for (const c of ['domain/minimal', 'hostdev/vfio']) {
    mkdirSync(join(dir, 'cases', c, '..'), { recursive: true });
    cpSync(join(repo, 'cases', `${c}.xml`), join(dir, 'cases', `${c}.xml`));
    for (const [m, ext] of [['xml2argv', 'args'], ['xml2xml', 'xml']]) {
      const rel = join('golden', m!, `${c}.x86_64-8.1.0.${ext}`);
      cpSync(join(repo, rel), join(dir, rel));
    }
  }
  return dir;
}

test('run --watch: runs the selection, then what each change affects; Ctrl-C stops it', async () => {
  const dir = project();
  const child = spawn(process.execPath, [bin, 'run', '--watch', '--no-determinism'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waits = (n: number, ms = 60_000) => new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const tick = setInterval(() => {
      if ((out.match(/watch: waiting for changes \(Ctrl-C to stop\)/g) ?? []).length >= n) { clearInterval(tick); resolve(); }
      else if (Date.now() - t0 > ms) { clearInterval(tick); reject(new Error(`timed out waiting; output so far:\n${out}`)); }
    }, 50);
  });
  try {
    await waits(1);
    assert.match(out, /^watch: running the selection; then watching cases, goldens, snapshots, host facts and virtgold's translator\n/);
    assert.match(out, /4 entries in/);
    const mark = () => out.length;
    let from = mark();
    const vfio = join(dir, 'cases/hostdev/vfio.xml');
    // several writes in quick succession make one run
    writeFileSync(vfio, readFileSync(vfio, 'utf8') + '<!-- 1 -->\n');
    writeFileSync(vfio, readFileSync(vfio, 'utf8') + '<!-- 2 -->\n');
    await waits(2);
    let part = out.slice(from);
    assert.match(part, /watch: cases\/hostdev\/vfio\.xml changed: running the 2 entries it affects\n/);
    assert.match(part, /2 entries in/);
    assert.is((part.match(/changed: running/g) ?? []).length, 1, part);

    from = mark();
    const golden = join(dir, 'golden/xml2argv/domain/minimal.x86_64-8.1.0.args');
    writeFileSync(golden, readFileSync(golden, 'utf8').replace('-msg timestamp=on', '-msg timestamp=off'));
    await waits(3);
    part = out.slice(from);
    assert.match(part, /watch: golden\/xml2argv\/domain\/minimal\.x86_64-8\.1\.0\.args changed: running the entry it affects\n/);
    assert.match(part, /FAIL xml2argv domain\/minimal x86_64-8\.1\.0/);
    // the watched run keeps the record --only-failures reads
    assert.equal(JSON.parse(readFileSync(join(dir, '.virtgold/last-run.json'), 'utf8')).failed, ['xml2argv domain/minimal x86_64-8.1.0']);

    from = mark();
    writeFileSync(join(dir, 'cases/notes.txt'), 'nothing reads me\n');
    mkdirSync(join(dir, 'cases/usb'));
    writeFileSync(join(dir, 'cases/usb/new.xml'), readFileSync(join(repo, 'cases/domain/minimal.xml'), 'utf8').replace('<name>', '<name>x'));
    await waits(4);
    part = out.slice(from);
    assert.match(part, /watch: cases\/usb\/new\.xml changed: running the 2 entries it affects\n/);
    assert.not.match(part, /notes\.txt/);
  } finally {
    child.kill('SIGINT');
  }
  assert.is(await exited, 130);
  assert.match(out, /watch: stopped\n$/);
  assert.not.match(out, /internal error|at .*\.ts:\d+/);
});

test.run();
