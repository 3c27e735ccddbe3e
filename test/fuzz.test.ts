// Property: whatever the input, the translator returns output or throws a
// TranslationError — never another exception. A short run here; `npm run fuzz` for more.
import { test } from 'uvu';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaps } from '../translator/capabilities.js';
import { isTranslationError, translate, MODES } from '../translator/index.js';
import { corpus, mutatedDomain } from './helpers/fuzz-domains.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const snapshots = ['7.2.0_x86_64', '8.1.0_x86_64', '7.2.0_s390x', '8.1.0_s390x']
  .map((s) => loadCaps(readFileSync(`${root}/capabilities/caps_${s}.xml`, 'utf8'), s));
const runs = Number(process.env.VIRTGOLD_FUZZ_RUNS ?? 300);

test(`mutated domains: output or a translation error (${runs} runs)`, () => {
  fc.assert(
    fc.property(mutatedDomain(corpus(root)), fc.nat(snapshots.length - 1), fc.constantFrom(...MODES), (xml, s, mode) => {
      try {
        const out = translate(mode, xml, snapshots[s]!);
        if (typeof out !== 'string' || !out.endsWith('\n')) throw new Error('output must be newline-terminated text');
      } catch (e) {
        if (!isTranslationError(e)) throw e;
        if (e.message.includes('\n')) throw new Error(`error message spans lines: ${JSON.stringify(e.message)}`);
      }
    }),
    { numRuns: runs, seed: process.env.VIRTGOLD_FUZZ_SEED ? Number(process.env.VIRTGOLD_FUZZ_SEED) : undefined },
  );
});

test.run();
