// `virtgold compare`: one class for each (input, direction), from what the translator under
// test and the reference made of it. Pure: no files, no processes.
import { boundedPatch } from './diff.js';
import type { Class, Outcome, SideOutcome, Verdict } from './types.js';

export type { Class, SideOutcome, Verdict };
export const CLASSES: readonly Class[] = ['same', 'refused', 'differs', 'message', 'broken', 'skipped'];

export interface Side {
  /** for diffs and messages: "translator builtin", "reference libvirt 9.0.0" */
  label: string;
  outcome: SideOutcome;
  /** the contract's normalization for this side's kind of translator, applied to both texts */
  normalize?: (text: string) => string;
  /** why an error of this side depends on the host (real libvirt only) */
  hostSpecific?: (errorText: string) => string | undefined;
}

/** virtgold's way of saying "not implemented": a declaration, not an answer. */
export const isUnsupported = (errorText: string) => errorText.startsWith('unsupported: ');

const line = (t: string) => t.trim();

/**
 * In this order, the first that applies:
 * - broken: a side crashed, hung or broke its protocol (whatever the other said);
 * - same: both gave equal output after normalization, or both the same error;
 * - refused: the translator under test says `unsupported: …` (whatever the reference said);
 * - skipped: the reference was not asked or gave no usable answer — an error that depends
 *   on the host, or its own `unsupported: …` — or the translator under test is real libvirt
 *   and failed because of the host;
 * - message: both refuse, with different messages;
 * - differs: different output, or one side accepts what the other refuses.
 */
export function classify(translator: Side, reference: Side): Verdict {
  const t = translator.outcome;
  const r = reference.outcome;
  if (t.kind === 'crash') return { class: 'broken', reason: `${translator.label}: ${t.message}` };
  if (r.kind === 'crash') return { class: 'broken', reason: `${reference.label}: ${r.message}` };
  if (t.kind === 'not-run') return { class: 'skipped', reason: t.reason };
  const norm = (text: string) => [translator.normalize, reference.normalize].reduce((s, f) => (f ? f(s) : s), text);
  if (r.kind === 'error' && t.kind === 'error' && line(r.text) === line(t.text)) return { class: 'same' };
  if (r.kind === 'output' && t.kind === 'output' && norm(r.text) === norm(t.text)) return { class: 'same' };
  if (t.kind === 'error' && isUnsupported(line(t.text))) return { class: 'refused', reason: line(t.text) };
  if (r.kind === 'not-run') return { class: 'skipped', reason: r.reason };
  if (r.kind === 'error') {
    const host = reference.hostSpecific?.(line(r.text));
    if (host) return { class: 'skipped', reason: `${reference.label} depends on the host: ${host}` };
    if (isUnsupported(line(r.text))) return { class: 'skipped', reason: `${reference.label} does not implement it: ${line(r.text)}` };
  }
  if (t.kind === 'error') {
    const host = translator.hostSpecific?.(line(t.text));
    if (host) return { class: 'skipped', reason: `${translator.label} depends on the host: ${host}` };
  }
  if (r.kind === 'error' && t.kind === 'error') {
    return { class: 'message', reason: `${reference.label}: ${line(r.text)} | ${translator.label}: ${line(t.text)}` };
  }
  // Left: output and output, or output and an error (crashes and not-run returned above).
  const shown = (o: Outcome) => (o.kind === 'output' ? norm(o.text) : o.kind === 'error' ? `(fails) ${line(o.text)}\n` : '');
  const head = t.kind === 'error' ? `${translator.label} refuses what ${reference.label} accepts: ${line(t.text)}`
    : r.kind === 'error' ? `${translator.label} accepts what ${reference.label} refuses: ${line(r.text)}`
      : 'different output';
  const diff = boundedPatch(reference.label, translator.label, shown(r), shown(t), null);
  return { class: 'differs', reason: head, diff };
}
