// `virtgold review` in a real pseudo-terminal (util-linux `script`), answered key by key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = '/usr/bin/script';

async function inTerminal(dir: string, answers: string[]): Promise<string> {
  return (await inTerminalWithCode(dir, answers)).screen;
}

async function inTerminalWithCode(dir: string, answers: string[]): Promise<{ screen: string; exitCode?: number }> {
  const shell = `node ${join(repo, 'bin/virtgold.js')} review --root ${dir} --case domain/minimal --version 7.2.0`;
  const child = execa(SCRIPT, ['-qfec', shell, '/dev/null'], { stdin: 'pipe', reject: false, env: { TERM: 'xterm', NO_COLOR: '1' } });
  let seen = '';
  let prompts = 0;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    seen += d;
    // Answer each prompt as it appears, as a person at the keyboard would.
    const count = (seen.match(/q quit > /g) ?? []).length;
    while (prompts < count && prompts < answers.length) child.stdin!.write(answers[prompts++]!);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const r = await child;
  clearTimeout(timer);
  return { screen: seen, exitCode: r.exitCode };
}

/** A copy of the project's inputs, with domain/minimal's 7.2.0 goldens made wrong. */
function wrongProject(): { dir: string; argv: string; xml: string } {
  const dir = tempDir('review');
  const argv = join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args');
  const xml = join(dir, 'golden/xml2xml/domain/minimal.x86_64-7.2.0.xml');
  for (const f of ['cases/domain/minimal.xml', 'capabilities/caps_7.2.0_x86_64.xml', relative(dir, argv), relative(dir, xml)]) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(repo, f), join(dir, f));
  }
  writeFileSync(argv, readFileSync(argv, 'utf8').replace('-m 214', '-m 215'));
  writeFileSync(xml, 'old xml\n');
  return { dir, argv, xml };
}

if (!existsSync(SCRIPT)) {
  console.log(`SKIP review in a pseudo-terminal: ${SCRIPT} (util-linux) is not installed`);
  test.skip('review accepts and rejects, key by key, in a terminal', () => {});
} else {
  test('review accepts and rejects, key by key, in a terminal', async () => {
    const dir = tempDir('review');
    try {
      for (const d of ['cases', 'capabilities', 'firmware', 'golden']) cpSync(join(repo, d), join(dir, d), { recursive: true });
      const argv = join(dir, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args');
      const xml = join(dir, 'golden/xml2xml/domain/minimal.x86_64-7.2.0.xml');
      writeFileSync(argv, 'old args\n');
      writeFileSync(xml, 'old xml\n');
      const screen = await inTerminal(dir, ['a', 'r']);
      assert.match(screen, /\[1\/2\] update golden\/xml2argv\/domain\/minimal\.x86_64-7\.2\.0\.args/);
      assert.match(screen, /-old args/);
      assert.match(screen, /nothing pending: reviewing what `virtgold update --prune` would change/);
      assert.match(screen, /case: {7}cases\/domain\/minimal\.xml\r?\n {2}snapshot: {3}capabilities\/caps_7\.2\.0_x86_64\.xml/);
      assert.match(screen, /\+-m 214 \\/);
      assert.match(screen, /\[2\/2\] update golden\/xml2xml\/domain\/minimal\.x86_64-7\.2\.0\.xml/);
      assert.match(screen, /1 accepted, 1 rejected/);
      assert.is(readFileSync(argv, 'utf8'), readFileSync(join(repo, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args'), 'utf8'));
      assert.is(readFileSync(xml, 'utf8'), 'old xml\n');
      // Quitting leaves the rest alone.
      const again = await inTerminal(dir, ['q']);
      assert.match(again, /\[1\/1\] update golden\/xml2xml\/domain\//);
      assert.match(again, /stopped: 0 accepted, 0 rejected, 0 skipped, 1 left as they are/);
      assert.is(readFileSync(xml, 'utf8'), 'old xml\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('review walks pending results: context shown, unknown keys explained, skip, accept', async () => {
    const { dir, argv, xml } = wrongProject();
    try {
      const run = await execa('node', [join(repo, 'bin/virtgold.js'), 'run', '--root', dir, '--case', 'domain/minimal', '--version', '7.2.0'], { reject: false });
      assert.is(run.exitCode, 1);
      const pending = join(dir, '.virtgold/pending/xml2argv/domain/minimal.x86_64-7.2.0.args');
      assert.ok(existsSync(pending));
      const { screen, exitCode } = await inTerminalWithCode(dir, ['x', 's', 'a']);
      assert.is(exitCode, 0, screen);
      assert.match(screen, /\[1\/2\] xml2argv domain\/minimal x86_64-7\.2\.0/);
      assert.match(screen, /case: {7}cases\/domain\/minimal\.xml/);
      assert.match(screen, /snapshot: {3}capabilities\/caps_7\.2\.0_x86_64\.xml/);
      assert.match(screen, /translator: builtin/);
      assert.match(screen, /reproduce: {2}npx virtgold xml2argv --caps /);
      assert.match(screen, /-m 215/);
      assert.match(screen, /unknown key 'x'; keys: a accept, r reject, s skip/);
      assert.match(screen, /1 accepted, 0 rejected, 1 skipped/);
      // Skipped: still pending, golden as it was; accepted: the golden is the result.
      assert.ok(existsSync(pending));
      assert.match(readFileSync(argv, 'utf8'), /-m 215/);
      assert.is(readFileSync(xml, 'utf8'), readFileSync(join(repo, 'golden/xml2xml/domain/minimal.x86_64-7.2.0.xml'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Ctrl-C in review stops at once: exit 130, nothing further changed', async () => {
    const { dir, argv, xml } = wrongProject();
    try {
      const { screen, exitCode } = await inTerminalWithCode(dir, ['a', '\u0003']);
      assert.is(exitCode, 130, screen);
      assert.match(screen, /interrupted: 1 accepted, 0 rejected, 0 skipped, 1 left as they are/);
      assert.not.match(readFileSync(argv, 'utf8'), /-m 215/); // accepted before the Ctrl-C
      assert.is(readFileSync(xml, 'utf8'), 'old xml\n');
      assert.not.ok(existsSync(join(dir, 'golden/.update.lock')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
