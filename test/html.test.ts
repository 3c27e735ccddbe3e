// The html reporter: a self-contained page with a summary and a side-by-side diff per
// failure, checked as a document and, where Chromium is installed, rendered headless.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandAdapter } from '../harness/adapters.js';
import { html, sideBySide } from '../harness/html-report.js';
import { counts, runSuite } from '../harness/runner.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const chromiumArgs = (profile: string) => ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];

const suite = await runSuite({
  root: repo, filters: { case: ['hostdev/vfio*'], version: ['7.2.0'] },
  adapter: commandAdapter(`${repo}/test/fixtures/golden-echo.sh {mode} {caps} {input} mangle`, 5000), jobs: 4, determinism: false,
});
const page = html(suite);

test('side by side: unchanged lines pair up, changed lines face each other', () => {
  const rows = sideBySide('a\nb\nc\n', 'a\nB\nc\nd\n');
  assert.equal(rows.map((r) => r.kind), ['same', 'change', 'same', 'add']);
  assert.equal([rows[1]!.left, rows[1]!.right], ['b', 'B']);
});

test('the page is self-contained and lists every failure with its two sides', () => {
  const c = counts(suite);
  assert.ok(c.fail > 0);
  assert.not.match(page, /<(script|link)\b|src=|https?:\/\//);
  assert.match(page, new RegExp(`${c.pass} passed</span><span class="fail">${c.fail} failed`));
  assert.is((page.match(/<section class="failure"/g) ?? []).length, c.fail);
  assert.is((page.match(/<tr class="change">/g) ?? []).length >= c.fail, true);
  // The changed word is marked inside the changed line, on each side.
  assert.match(page, /<tr class="change"><td class="code">.*vfio-<del>pci<\/del>&quot;.*<\/td><td class="code">.*vfio-<ins>pcx<\/ins>&quot;/);
});

if (!existsSync(CHROMIUM)) {
  console.log(`SKIP html report in Chromium: ${CHROMIUM} is not installed (.ci/run installs Debian's chromium)`);
  test.skip('the report renders in headless Chromium', () => {});
} else {
  test('the report renders in headless Chromium: DOM and screenshot', async () => {
    const dir = tempDir('html');
    try {
      const file = join(dir, 'report.html');
      writeFileSync(file, page);
      const dom = await execa(CHROMIUM, [...chromiumArgs(join(dir, 'p1')), '--dump-dom', `file://${file}`], { timeout: 60_000 });
      assert.match(dom.stdout, /<table class="diff">/);
      assert.is((dom.stdout.match(/<section class="failure"/g) ?? []).length, counts(suite).fail);
      const png = join(dir, 'report.png');
      await execa(CHROMIUM, [...chromiumArgs(join(dir, 'p2')), '--window-size=1400,1000', `--screenshot=${png}`, `file://${file}`], { timeout: 60_000 });
      const bytes = readFileSync(png);
      assert.equal([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.ok(statSync(png).size > 20_000, 'a blank page would compress to almost nothing');
      // Width and height from the PNG header: the requested window.
      assert.equal([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [1400, 1000]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
