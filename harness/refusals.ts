// virtgold's own refusals: `unsupported: <what> is not implemented by the virtgold
// translator`. Such a golden records what the reference translator does not do yet, not
// what libvirt does: every translator but the reference one skips it with this reason,
// and `update` says how many of the goldens it wrote are such refusals.
import type { Adapter, Golden } from './types.js';

export const isVirtgoldRefusal = (errText: string) => /^unsupported: .* is not implemented by the virtgold translator\s*$/.test(errText);

/** The one reason all such skips share (so that reports group them). */
export const OWN_REFUSAL = "the golden is virtgold's own `unsupported` refusal, not a claim about libvirt";

/** Why ADAPTER is not held to EXPECTED, when that is virtgold's own refusal. */
export function ownRefusalSkip(adapter: Adapter, expected: Golden | string | undefined): string | undefined {
  if (adapter.reference || typeof expected !== 'object') return undefined;
  return expected.kind === 'error' && isVirtgoldRefusal(expected.text) ? OWN_REFUSAL : undefined;
}
