// `virtgold run --schema` as a user runs it: a good and a bad xml2xml output, the
// invalid-on-purpose inputs, a missing schema. Skipped, with the reason printed, where
// libvirt's schema is not installed (the missing-schema test runs everywhere).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaUnavailable } from '../harness/schema.js';
import { shippedProject } from './helpers/shipped.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/virtgold.js');
const echo = join(repo, 'test/fixtures/golden-echo.sh');
// (in a copy of the shipped project: a run writes .virtgold/ into its project)
const shipped = shippedProject(repo);
const virtgold = (args: string[], env: Record<string, string> = {}) =>
  execa('node', [bin, ...args], { reject: false, cwd: shipped, env });

// Started together: each process costs about half a second.
const good = virtgold(['run', '--schema', '--no-determinism', '--case', 'vf-token/*', '--translator-cmd', `${echo} {mode} {caps} {input}`]);
// (VIRTGOLD_UPDATE=no: its failures are not kept as pending results)
const bad = virtgold(['run', '--schema', '--no-determinism', '--case', 'vf-token/hostdev', '--translator-cmd', `${echo} {mode} {caps} {input} double-vf-token`], { VIRTGOLD_UPDATE: 'no' });
const missing = virtgold(['run', '--schema', '--case', 'domain/minimal'], { VIRTGOLD_LIBVIRT_SCHEMAS: '/nonexistent/schemas' });

test('run --schema without libvirt\'s schema: one line saying why, exit 2', async () => {
  const r = await missing;
  assert.is(r.exitCode, 2);
  assert.is(r.stdout, '');
  assert.is(r.stderr, "virtgold: --schema: libvirt's RELAX NG schema is not installed: /nonexistent/schemas/domain.rng is missing (Debian: apt-get install libvirt-clients; or set VIRTGOLD_LIBVIRT_SCHEMAS to the directory holding domain.rng)");
});

const why = schemaUnavailable();
if (why) {
  console.log(`SKIP run --schema tests: ${why}`);
  test.skip('run --schema on a good and a bad translator', () => {});
} else {
  test('run --schema: valid outputs and the inputs invalid on purpose pass', async () => {
    const r = await good;
    assert.is(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\d+ passed, 0 failed, 0 skipped$/m);
  });

  test('run --schema: an output the schema rejects fails its entry with one line naming the element', async () => {
    const r = await bad;
    assert.is(r.exitCode, 1);
    const failed = r.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
    assert.equal(failed, ['FAIL xml2xml vf-token/hostdev x86_64-8.1.0', 'FAIL xml2xml vf-token/hostdev x86_64-8.2.0']);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('schema: '));
    assert.is(lines.length, 2);
    for (const l of lines) assert.is(l, "schema: xml2xml output: <vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'> at line 32 (/domain/devices/hostdev/source/address/vf-token[2]): not allowed there, or an attribute or child of it is missing, extra or malformed");
    assert.match(r.stdout, /^4 passed, 2 failed, 0 skipped$/m);
  });
}

test.run();
