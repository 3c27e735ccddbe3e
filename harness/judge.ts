// Judging one outcome: against its golden (or what the adapter puts in its place), and
// the xml2xml fixed-point check of the reference translator.
import { isTranslationError, translate, TranslationTimeout } from '../translator/index.js';
import { boundedPatch } from './diff.js';
import { readCaps } from './io.js';
import type { Golden, MatrixEntry, Mode, Outcome } from './types.js';

/** The reference translator, in-process, within `timeoutMs` when given. */
export function runBuiltin(mode: Mode, capsPath: string, xml: string | Uint8Array, timeoutMs?: number): Outcome {
  try {
    return { kind: 'output', text: translate(mode, xml, readCaps(capsPath), timeoutMs) };
  } catch (e) {
    if (isTranslationError(e)) return { kind: 'error', text: `${e.message}\n` };
    if (e instanceof TranslationTimeout) return { kind: 'crash', message: `timed out after ${e.ms} ms` };
    return { kind: 'crash', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

export interface Verdict {
  ok: boolean;
  /** unified diff or explanation when not ok */
  message?: string;
}

export function patch(name: string, expected: string, actual: string): string {
  return boundedPatch(`${name} (golden)`, `${name} (actual)`, expected, actual);
}

const same = (s: string) => s;

/** `expected` is the golden, or why there is none. `normalize` (both sides) is the
 *  adapter's: the differences the contract excuses for that translator. */
export function judge(outcome: Outcome, expected: Golden | string, normalize: (t: string) => string = same): Verdict {
  if (outcome.kind === 'crash') return { ok: false, message: `translator crashed: ${outcome.message}` };
  if (typeof expected === 'string') return { ok: false, message: expected };
  const want = normalize(expected.text);
  const got = normalize(outcome.text);
  if (expected.kind !== outcome.kind) {
    const what = outcome.kind === 'error' ? `failed with: ${outcome.text.trim()}` : 'produced output';
    return { ok: false, message: `expected ${expected.rel}, but the translator ${what}\n${patch(expected.rel, want, got)}` };
  }
  if (want === got) return { ok: true };
  return { ok: false, message: patch(expected.rel, want, got) };
}

/** xml2xml must be a fixed point: translating the produced XML again changes nothing. */
export function checkIdempotent(entry: MatrixEntry, outcome: Outcome): Verdict {
  if (entry.mode !== 'xml2xml' || outcome.kind !== 'output' || entry.case.options.notIdempotent) return { ok: true };
  const again = runBuiltin('xml2xml', entry.snapshot.path, outcome.text);
  if (again.kind === 'output' && again.text === outcome.text) return { ok: true };
  const text = again.kind === 'crash' ? again.message : again.text;
  return { ok: false, message: `xml2xml is not idempotent:\n${patch('second pass', outcome.text, text)}` };
}
