// `virtgold xml2argv|xml2xml --caps FILE INPUT.xml`: one translation, the contract's
// streams and exit codes.
import { readFileSync } from 'node:fs';
import { CapsError, isTranslationError, translate, type Mode } from '../translator/index.js';
import { parseArgs } from './args.js';
import { SetupError, UsageError, UserError } from './errors.js';
import { readBytes, readCaps } from './io.js';

function readStdin(): Buffer {
  try {
    return readFileSync(0);
  } catch (e) {
    throw new SetupError(`cannot read the domain XML from stdin: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function translateOne(mode: Mode, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { caps: { type: 'string' } }, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (!values.caps) throw new UsageError(`${mode}: --caps FILE is required`);
  if (positionals.length !== 1) throw new UsageError(`${mode}: exactly one INPUT.xml is required`);
  // A file that cannot be read, a snapshot that is not one: the tool cannot do its job,
  // which is not a translation error (exit 2, not 1; a harness never compares it with .err).
  const setup = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof UserError || e instanceof CapsError) throw new SetupError(e.message);
      throw e;
    }
  };
  const caps = setup(() => readCaps(values.caps!));
  // `-`: the domain comes on stdin (a pipe, a here-document).
  const xml = positionals[0] === '-' ? readStdin() : setup(() => readBytes(positionals[0]!, 'domain XML'));
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
