// A time limit for one in-process translation. The translator runs on the caller's
// thread, so it cannot be killed like a process: the stages check the clock as they
// walk the document and its devices, and give up past the deadline. Every stage is
// near-linear in the input's size, so the overshoot is bounded by one step.

/** Thrown when a translation passes its deadline; not a TranslationError: the domain
 *  was not refused, the translator ran out of time. */
export class TranslationTimeout extends Error {
  constructor(readonly ms: number) {
    super(`translation took longer than ${ms} ms`);
    this.name = 'TranslationTimeout';
  }
}

let deadline = Infinity;
let limit = 0;
let count = 0;

/** Run fn with a time limit in milliseconds (none when undefined). */
export function withDeadline<T>(ms: number | undefined, fn: () => T): T {
  const outer = { deadline, limit };
  deadline = ms === undefined ? Infinity : performance.now() + ms;
  limit = ms ?? 0;
  try {
    return fn();
  } finally {
    ({ deadline, limit } = outer);
  }
}

/** Called once per element and device: a look at the clock every 256 calls. */
export function tick(): void {
  if (deadline === Infinity || (++count & 255) !== 0) return;
  if (performance.now() > deadline) throw new TranslationTimeout(limit);
}
