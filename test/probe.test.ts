// The capability loader on real libvirt probe files, when this machine has them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaps } from '../translator/capabilities.js';
import { translate } from '../translator/index.js';

const CACHE = '/var/cache/libvirt/qemu/capabilities';
let files: string[] = [];
let why = '';
try {
  files = readdirSync(CACHE).filter((f) => f.endsWith('.xml')).map((f) => join(CACHE, f));
  if (!files.length) why = `${CACHE} is empty (run scripts/setup-libvirt)`;
} catch (e) {
  why = `${CACHE} is not readable (${(e as NodeJS.ErrnoException).code}); run scripts/setup-libvirt`;
}

if (why) {
  console.log(`SKIP real probe files: ${why}`);
  test.skip('real libvirt probe files load unchanged', () => {});
} else {
  test('real libvirt probe files load unchanged', () => {
    for (const f of files) {
      const caps = loadCaps(readFileSync(f, 'utf8'), f);
      assert.ok(caps.arch && caps.version.number > 0 && caps.flags.size > 0, f);
    }
  });
  test('the host QEMU versions libvirt probed name the snapshots --translator libvirt runs on', async () => {
    const { hostQemuVersions } = await import('../harness/libvirt.js');
    const v = hostQemuVersions(CACHE);
    assert.ok(v.size > 0);
    if (v.has('x86_64')) assert.match(v.get('x86_64')!, /^\d+\.\d+\.0$/);
  });
  test('the x86_64 probe file drives the translator like the shipped snapshot', () => {
    const f = files.find((p) => readFileSync(p, 'utf8').includes('<emulator>/usr/bin/qemu-system-x86_64</emulator>'));
    if (!f) return;
    const xml = readFileSync(new URL('../cases/domain/minimal.xml', import.meta.url), 'utf8');
    const golden = readFileSync(new URL('../golden/xml2argv/domain/minimal.x86_64-7.2.0.args', import.meta.url), 'utf8');
    assert.is(translate('xml2argv', xml, loadCaps(readFileSync(f, 'utf8'), f)), golden);
  });
}

test.run();
