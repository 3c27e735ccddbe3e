// Running the matrix through the reference translator and judging it against goldens.
import { existsSync, readFileSync } from 'node:fs';
import { createTwoFilesPatch } from 'diff';
import { isTranslationError, translate, type Mode } from '../translator/index.js';
import { readCaps } from './io.js';
import { buildMatrix, existingGoldens, goldenExtension, type Filters, type MatrixEntry } from './matrix.js';

/** What a translator made of one entry. */
export type Outcome =
  | { kind: 'output'; text: string }
  | { kind: 'error'; text: string } // a translation error: compared with an .err golden
  | { kind: 'crash'; message: string }; // a bug: never written as a golden

export function runBuiltin(mode: Mode, capsPath: string, xml: string): Outcome {
  try {
    return { kind: 'output', text: translate(mode, xml, readCaps(capsPath)) };
  } catch (e) {
    if (isTranslationError(e)) return { kind: 'error', text: `${e.message}\n` };
    return { kind: 'crash', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/** The golden file an outcome belongs in. */
export function goldenPathFor(entry: MatrixEntry, outcome: Outcome): string {
  return entry.stem + (outcome.kind === 'error' ? '.err' : goldenExtension(entry.mode));
}

export interface Golden {
  /** path relative to the project: golden/<mode>/<case>.<arch>-<version>.<ext> */
  rel: string;
  kind: 'output' | 'error';
  text: string;
}

export interface Verdict {
  entry: MatrixEntry;
  outcome: Outcome;
  ok: boolean;
  /** unified diff or explanation when not ok */
  message?: string;
  /** the golden the outcome was compared with */
  golden?: Golden;
}

function readIf(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

const relGolden = (p: string) => p.slice(p.lastIndexOf('/golden/') + 1);

/** The golden an entry has on disk (output preferred), if any. */
export function readGolden(entry: MatrixEntry): Golden | undefined {
  for (const [ext, kind] of [[goldenExtension(entry.mode), 'output'], ['.err', 'error']] as const) {
    const text = readIf(entry.stem + ext);
    if (text !== undefined) return { rel: relGolden(entry.stem + ext), kind, text };
  }
  return undefined;
}

export function judge(entry: MatrixEntry, outcome: Outcome): Verdict {
  const rel = relGolden;
  if (outcome.kind === 'crash') return { entry, outcome, ok: false, message: `translator crashed: ${outcome.message}` };
  const outPath = entry.stem + goldenExtension(entry.mode);
  const errPath = `${entry.stem}.err`;
  const expectedOut = readIf(outPath);
  const expectedErr = readIf(errPath);
  if (expectedOut !== undefined && expectedErr !== undefined) {
    return { entry, outcome, ok: false, message: `both ${rel(outPath)} and ${rel(errPath)} exist; remove one` };
  }
  const [path, expected] = expectedErr !== undefined ? [errPath, expectedErr] : [outPath, expectedOut];
  if (expected === undefined) {
    return { entry, outcome, ok: false, message: `no golden: ${rel(outPath)} or ${rel(errPath)} is missing (run npm run update-golden)` };
  }
  const golden: Golden = { rel: rel(path), kind: path === errPath ? 'error' : 'output', text: expected };
  const actualPath = goldenPathFor(entry, outcome);
  if (actualPath !== path) {
    const what = outcome.kind === 'error' ? `failed with: ${outcome.text.trim()}` : 'produced output';
    return { entry, outcome, golden, ok: false, message: `expected ${rel(path)}, but the translator ${what}\n${patch(rel(path), expected, outcome.text)}` };
  }
  if (expected === outcome.text) return { entry, outcome, golden, ok: true };
  return { entry, outcome, golden, ok: false, message: patch(rel(path), expected, outcome.text) };
}

export function patch(name: string, expected: string, actual: string): string {
  return createTwoFilesPatch(`${name} (golden)`, `${name} (actual)`, expected, actual, '', '', { context: 3 });
}

/** xml2xml must be a fixed point: translating the produced XML again changes nothing. */
export function checkIdempotent(entry: MatrixEntry, outcome: Outcome): Verdict {
  if (entry.mode !== 'xml2xml' || outcome.kind !== 'output' || entry.case.options.notIdempotent) return { entry, outcome, ok: true };
  const again = runBuiltin('xml2xml', entry.snapshot.path, outcome.text);
  if (again.kind === 'output' && again.text === outcome.text) return { entry, outcome, ok: true };
  const text = again.kind === 'output' ? again.text : again.kind === 'error' ? again.text : again.message;
  return { entry, outcome, ok: false, message: `xml2xml is not idempotent:\n${patch('second pass', outcome.text, text)}` };
}

/** Goldens that no entry of the full matrix produces any more. */
export function staleGoldens(root: string, entries: MatrixEntry[]): string[] {
  const wanted = new Set<string>();
  for (const e of entries) {
    wanted.add(e.stem + goldenExtension(e.mode));
    wanted.add(`${e.stem}.err`);
  }
  return existingGoldens(root).filter((p) => !wanted.has(p));
}

/** A translator under test, as the harness sees it. */
export type Translator = (mode: Mode, capsPath: string, xml: string) => Outcome;

export function runMatrix(root: string, filters: Filters = {}, translator: Translator = runBuiltin): { entry: MatrixEntry; outcome: Outcome }[] {
  return buildMatrix(root, filters).map((entry) => ({
    entry,
    outcome: translator(entry.mode, entry.snapshot.path, readFileSync(entry.case.path, 'utf8')),
  }));
}
