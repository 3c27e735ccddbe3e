// `virtgold review` in a real pseudo-terminal (util-linux `script`), answered key by key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = '/usr/bin/script';

async function inTerminal(dir: string, answers: string[]): Promise<string> {
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
  await child;
  clearTimeout(timer);
  return seen;
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
      assert.match(screen, /\+-m 214 \\/);
      assert.match(screen, /\[2\/2\] update golden\/xml2xml\/domain\/minimal\.x86_64-7\.2\.0\.xml/);
      assert.match(screen, /1 accepted, 1 rejected/);
      assert.is(readFileSync(argv, 'utf8'), readFileSync(join(repo, 'golden/xml2argv/domain/minimal.x86_64-7.2.0.args'), 'utf8'));
      assert.is(readFileSync(xml, 'utf8'), 'old xml\n');
      // Quitting leaves the rest alone.
      const again = await inTerminal(dir, ['q']);
      assert.match(again, /\[1\/1\] update golden\/xml2xml\/domain\//);
      assert.match(again, /stopped: 0 accepted, 0 rejected, 1 left as they are/);
      assert.is(readFileSync(xml, 'utf8'), 'old xml\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
