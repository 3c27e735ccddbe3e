// .args safety: every golden, and domains with hostile names, parsed back through a real
// /bin/sh into exactly the argv the translator built.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execaSync } from 'execa';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaps } from '../translator/capabilities.js';
import { shellQuote } from '../translator/argv.js';
import { readCaps } from '../harness/io.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const capsText = (v: string, arch = 'x86_64') => readFileSync(`${repo}/capabilities/caps_${v}_${arch}.xml`, 'utf8');
const caps72 = loadCaps(capsText('7.2.0'), 'caps_7.2.0_x86_64.xml');
/** A shipped snapshot as the harness loads it: with the firmware descriptors it carries. */
const snapshot = (v: string, arch: string) => readCaps(`${repo}/capabilities/caps_${v}_${arch}.xml`);

function domain(devices: string): string {
  return `<domain type='qemu'><name>d</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory>219136</memory><os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices>${devices}</devices></domain>`;
}
const hostdev = (token: string) => `<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/>
<source><address domain='0x0000' bus='0x06' slot='0x12' function='0x5'>${token}</address></source></hostdev>`;

test('.args quoting: sh parses every line back into the exact argv', () => {
  const nasty = ["it's", 'a b', '$HOME', '`id`', 'new\nline', 'ünïcødé', 'x"y', '', 'plain,ok=1', 'semi;colon', 'back\\slash'];
  for (const s of nasty) {
    const out = execaSync('sh', ['-c', `printf '%s' ${shellQuote(s)}`]).stdout;
    assert.is(out, s);
  }
});

test('every shipped .args golden parses back, through sh, into the argv the translator built', async () => {
  const { globSync } = await import('glob');
  const { commandOf } = await import('../translator/index.js');
  const { toArgv } = await import('../translator/argv.js');
  const dir = `${repo}/golden/xml2argv`;
  let checked = 0;
  for (const f of globSync('**/*.args', { cwd: dir })) {
    const m = /^(.*)\.([a-z0-9_]+)-(\d+\.\d+\.\d+)\.args$/.exec(f)!;
    const caps = snapshot(m[3]!, m[2]!);
    const expected = toArgv(commandOf(readFileSync(`${repo}/cases/${m[1]}.xml`, 'utf8'), caps));
    const script = `printargs() { for a; do printf '%s\\0' "$a"; done; }; printargs ${readFileSync(`${dir}/${f}`, 'utf8')}`;
    const got = execaSync('sh', ['-c', script], { stripFinalNewline: false }).stdout.split('\0').slice(0, -1);
    assert.equal(got, expected, f);
    checked++;
  }
  assert.ok(checked > 50);
});

test('.args of domains with nasty names parse back, through sh, into the exact argv', async () => {
  const { commandOf } = await import('../translator/index.js');
  const { toArgv, renderArgs } = await import('../translator/argv.js');
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');
  for (const name of ["it's", 'a b', '$HOME', '`id`', 'x"y', 'ünïcødé-名前', 'semi;colon', 'back\\slash', 'a,b=c', 'tab\there']) {
    const cmd = commandOf(domain(hostdev('')).replace('<name>d</name>', `<name>${esc(name)}</name>`), caps72);
    const script = `printargs() { for a; do printf '%s\\0' "$a"; done; }; printargs ${renderArgs(cmd)}`;
    const got = execaSync('sh', ['-c', script], { stripFinalNewline: false }).stdout.split('\0').slice(0, -1);
    assert.equal(got, toArgv(cmd), name);
  }
});

test('every shipped .args golden runs under sh -c: the assignments reach the emulator as its environment, the rest as its argv', async () => {
  const { globSync } = await import('glob');
  const { writeFileSync, chmodSync, rmSync } = await import('node:fs');
  const { tempDir } = await import('./helpers/tmp.js');
  const { commandOf } = await import('../translator/index.js');
  const dir = tempDir('fake-emulator');
  try {
    const fake = `${dir}/qemu`;
    let checked = 0;
    for (const f of globSync('**/*.args', { cwd: `${repo}/golden/xml2argv` })) {
      const m = /^(.*)\.([a-z0-9_]+)-(\d+\.\d+\.\d+)\.args$/.exec(f)!;
      const cmd = commandOf(readFileSync(`${repo}/cases/${m[1]}.xml`, 'utf8'), snapshot(m[3]!, m[2]!));
      // Prints the environment variables this command sets, then every argument, NUL-separated.
      const names = cmd.env.map(([k]) => k).join(' ');
      writeFileSync(fake, `#!/bin/sh\nfor v in ${names}; do eval "printf '%s=%s\\\\0' \\"$v\\" \\"\\\${$v}\\""; done\nfor a; do printf '%s\\0' "$a"; done\n`);
      chmodSync(fake, 0o755);
      const text = readFileSync(`${repo}/golden/xml2argv/${f}`, 'utf8');
      const emulatorLine = `${shellQuote(cmd.emulator)} \\\n`;
      assert.ok(text.includes(emulatorLine), f);
      const script = text.replace(emulatorLine, `${shellQuote(fake)} \\\n`);
      const got = execaSync('sh', ['-c', script], { env: {}, extendEnv: false, stripFinalNewline: false }).stdout.split('\0').slice(0, -1);
      assert.equal(got, [...cmd.env.map(([k, v]) => `${k}=${v}`), ...cmd.args.flat()], f);
      checked++;
    }
    assert.ok(checked > 50);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
