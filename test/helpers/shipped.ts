// A copy of the shipped project's inputs (cases/, capabilities/, firmware/, host/,
// golden/) for tests that run virtgold on the shipped corpus: a run writes .virtgold/ (the
// last run's record, pending results) into its project, and a test must not write into
// the checkout. Made once per test process (about a second), removed with it.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp.js';

let copy: string | undefined;

/** The copy of REPO's project inputs (REPO: the checkout, as the test file finds it). */
export function shippedProject(repo: string): string {
  if (!copy) {
    copy = tempDir('shipped');
    for (const d of ['cases', 'capabilities', 'firmware', 'host', 'golden']) cpSync(join(repo, d), join(copy, d), { recursive: true });
  }
  return copy;
}
