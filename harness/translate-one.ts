// `virtgold xml2argv|xml2xml --caps FILE INPUT.xml`: one translation, the contract's
// streams and exit codes.
import { parseArgs } from 'node:util';
import { isTranslationError, translate, type Mode } from '../translator/index.js';
import { UsageError } from './errors.js';
import { readBytes, readCaps } from './io.js';

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
  const caps = readCaps(values.caps);
  const xml = readBytes(positionals[0]!, 'domain XML');
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
