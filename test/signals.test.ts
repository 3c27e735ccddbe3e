// A signal during `update --translator libvirt` or `review --translator libvirt`, while a
// domain is defined in libvirt: every cleanup runs before the exit (harness/stop.ts) —
// the domain undefined, its temporary folder removed, the update lock released — and the
// exit status is 128 + the signal's number. test/fixtures/slow-virsh holds each dumpxml
// for 30 s, so the signal always finds the domain defined, however loaded the machine (a
// 3 s hold let a loaded CI run finish the entry first); the stop kills the held call
// after its grace. Skipped, with the reason, where libvirt is not
// reachable (scripts/setup-libvirt starts it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { libvirtUnavailable } from '../harness/libvirt.js';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin/virtgold.js');
const virsh = (...args: string[]) => execa('virsh', ['-q', '-c', 'qemu:///system', ...args], { reject: false });
const exists = async (name: string) => (await virsh('domuuid', name)).exitCode === 0;

/** A project of one case, a domain named NAME, on the host QEMU's snapshot (7.2.0). */
function project(name: string): string {
  const dir = tempDir('signals');
  const caps = 'capabilities/caps_7.2.0_x86_64.xml';
  mkdirSync(join(dir, 'capabilities'), { recursive: true });
  cpSync(join(repo, caps), join(dir, caps));
  const xml = readFileSync(join(repo, 'cases/domain/minimal.xml'), 'utf8')
    .replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`).replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${randomUUID()}</uuid>`);
  mkdirSync(join(dir, 'cases/d'), { recursive: true });
  writeFileSync(join(dir, 'cases/d/kill.xml'), xml);
  mkdirSync(join(dir, 'golden'), { recursive: true });
  return dir;
}

const noLibvirt = await libvirtUnavailable();
const cases = [
  ['update', 'SIGINT', true, 130],
  ['review', 'SIGTERM', false, 143],
  ['update', 'SIGHUP', false, 129],
] as const;

if (noLibvirt) {
  console.log(`  (skipped: signals during update/review --translator libvirt — ${noLibvirt})`);
} else {
  for (const [command, signal, group, code] of cases) {
    test(`${signal}${group ? ' to the process group (Ctrl-C)' : ''} during ${command} --translator libvirt: domain undefined, temporary files removed, lock released, exit ${code}`, async () => {
      const name = `virtgold-signals-${process.pid}-${command}-${signal}`;
      const dir = project(name);
      const tmp = tempDir('signals-tmp');
      const realVirsh = (await execa('sh', ['-c', 'command -v virsh'])).stdout.trim();
      const child = execa('node', [bin, command, '--root', dir, '--translator', 'libvirt', '--mode', 'xml2xml'], {
        reject: false, detached: true, stdin: 'pipe',
        env: { PATH: `${join(repo, 'test/fixtures/slow-virsh')}:${process.env.PATH}`, REAL_VIRSH: realVirsh, SLOW_VIRSH_HOLD: '30', TMPDIR: tmp },
      });
      try {
        const deadline = Date.now() + 30_000;
        while (!(await exists(name))) {
          assert.ok(Date.now() < deadline, `the ${command} never defined its domain`);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(existsSync(join(dir, 'golden/.update.lock')), 'the update lock is held meanwhile');
        assert.ok(readdirSync(tmp).some((f) => f.startsWith('virtgold-domain-')), 'the domain file is in a temporary folder');
        process.kill(group ? -child.pid! : child.pid!, signal);
        const r = await child;
        assert.is(r.exitCode, code, r.stderr);
        assert.match(r.stderr, new RegExp(`${signal}: undefined ${name}`));
        assert.not.ok(await exists(name), 'the domain is still defined');
        assert.not.ok(existsSync(join(dir, 'golden/.update.lock')), 'the update lock is left');
        assert.equal(readdirSync(tmp).filter((f) => f.startsWith('virtgold-')), [], 'temporary files are left'); // (tsx keeps its cache there)
      } finally {
        child.kill('SIGKILL');
        if (await exists(name)) await virsh('undefine', name);
        rmSync(dir, { recursive: true, force: true });
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
}

test.run();
