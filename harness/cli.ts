// `virtgold` command line: translate one domain, run the golden suite, update goldens.
import { parseArgs } from 'node:util';
import { CapsError } from '../translator/index.js';
import { isTranslationError, MODES, translate, type Mode } from '../translator/index.js';
import { readCaps, readText, UserError } from './io.js';

const USAGE = `usage:
  virtgold xml2argv --caps FILE INPUT.xml   print the QEMU command line (.args format)
  virtgold xml2xml  --caps FILE INPUT.xml   print libvirt's normalized domain XML
  virtgold run      [--case GLOB] [--mode MODE] [--arch ARCH] [--version V]
                    [--translator builtin|libvirt | --translator-cmd CMD | --translator-worker CMD]
                    [--timeout MS] [--jobs N] [--reporter NAME[:FILE]] [--no-determinism]
                                            compare the corpus with the goldens
  virtgold update   [--case GLOB] [--mode MODE] [--arch ARCH] [--version V] [--check]
                                            rewrite goldens from the reference translator
  virtgold review   [--case GLOB] [--mode MODE] [--arch ARCH] [--version V]
                                            accept or reject each golden that would change
  virtgold worker                           serve translations as JSON lines on stdin/stdout

exit status: 0 success, 1 translation error or failing goldens, 2 usage error`;

class UsageError extends Error {}

async function translateOne(mode: Mode, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { caps: { type: 'string' } }, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (!values.caps) throw new UsageError(`${mode}: --caps FILE is required`);
  if (positionals.length !== 1) throw new UsageError(`${mode}: exactly one INPUT.xml is required`);
  const caps = readCaps(values.caps);
  const xml = readText(positionals[0]!, 'domain XML');
  try {
    process.stdout.write(translate(mode, xml, caps));
    return 0;
  } catch (e) {
    if (isTranslationError(e)) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'xml2argv' || command === 'xml2xml') return await translateOne(command, rest);
    if (command === 'worker') {
      const { serve } = await import('./worker.js');
      return await serve();
    }
    if (command === 'run' || command === 'update' || command === 'review') {
      const { runCommand } = await import('./run.js');
      return await runCommand(command, rest);
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    throw new UsageError(command ? `unknown command '${command}'` : 'a command is required');
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`virtgold: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof UserError || e instanceof CapsError) {
      process.stderr.write(`virtgold: ${e.message}\n`);
      return 1;
    }
    // A bug in virtgold itself: say so in one line; the stack only on request.
    process.stderr.write(`virtgold: internal error: ${(e as Error).message}\n`);
    if (process.env.VIRTGOLD_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 3;
  }
}

export { UsageError, MODES };
