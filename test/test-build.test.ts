// scripts/test-build.mjs: npm test reuses its compiled tests only while every file esbuild
// read is unchanged; a changed import, a new import or new options build again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
// @ts-expect-error: a plain JavaScript module of the scripts
import { compiledTests } from '../scripts/test-build.mjs';

const options = (root: string, extra: Record<string, unknown> = {}) => ({
  absWorkingDir: root, entryPoints: ['test/a.test.ts'], outExtension: { '.js': '.mjs' }, bundle: true, format: 'esm',
  platform: 'node', target: 'node20', logLevel: 'silent', ...extra,
});
const build = (root: string, extra?: Record<string, unknown>): Promise<string> => compiledTests(root, join(root, 'cache'), 'fast', options(root, extra));
const out = (dir: string) => readFileSync(join(dir, 'a.test.mjs'), 'utf8');

test('reused while nothing it read changed; built again when an import, a new import or the options change', async () => {
  const root = tempDir('test-build');
  mkdirSync(join(root, 'test'));
  writeFileSync(join(root, 'test/a.test.ts'), "import { v } from './b.js';\nconsole.log(v);\n");
  writeFileSync(join(root, 'test/b.ts'), "export const v: string = 'one';\n");
  const first = await build(root);
  assert.match(out(first), /one/);
  writeFileSync(join(first, 'marker'), '');
  assert.is(await build(root), first, 'nothing changed: the same build');
  writeFileSync(join(root, 'test/b.ts'), "export const v: string = 'two';\n");
  const second = await build(root);
  assert.is.not(second, first);
  assert.match(out(second), /two/);
  writeFileSync(join(root, 'test/b.ts'), "export { v } from './c.js';\n");
  writeFileSync(join(root, 'test/c.ts'), "export const v = 'three';\n");
  const third = await build(root);
  assert.match(out(third), /three/);
  writeFileSync(join(root, 'test/c.ts'), "export const v = 'four';\n");
  assert.match(out(await build(root)), /four/, 'a file first read by the last build is watched too');
  assert.is.not(await build(root, { minify: true }), await build(root), 'other options: another build');
  writeFileSync(join(root, 'test/b.ts'), "export const v: string = 'one';\n");
  assert.is(await build(root), first, 'back to the first sources: the first build, still there');
  assert.ok(readdirSync(first).includes('marker'));
});

test.run();
