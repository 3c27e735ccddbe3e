// The words every reporter shares: plurals, stale goldens relative to the project, and
// the summary line, in which passed + failed + skipped is the number of entries.
import { relative } from 'node:path';
import { OWN_REFUSAL } from './refusals.js';
import { counts, type SuiteResult } from './runner.js';

/** "1 entry", "2 entries". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A stale golden as every reporter shows it: relative to the project root. */
export const staleName = (s: SuiteResult, p: string) => (s.root ? relative(s.root, p) : p);

/** passed + failed + skipped is the number of entries; stale goldens are counted apart. */
export const summaryLine = (s: SuiteResult) => {
  const c = counts(s);
  const own = s.results.filter((r) => r.status === 'skip' && r.message === OWN_REFUSAL).length;
  return `${c.pass} passed, ${c.fail + c.broken} failed, ${c.skip} skipped` +
    (own ? ` (${own} of them virtgold's own \`unsupported\` refusal${own === 1 ? '' : 's'})` : '') +
    (c.stale ? `; ${plural(c.stale, 'stale golden')}` : '');
};
