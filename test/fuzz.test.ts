// Property: whatever the input, the translator returns output or throws a
// TranslationError — never another exception. A short run here; `npm run fuzz` for more.
import { test } from 'uvu';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaps } from '../translator/capabilities.js';
import { MAX_MESSAGE } from '../translator/errors.js';
import { isTranslationError, translate, MODES } from '../translator/index.js';
import { corpus, mutatedDomain } from './helpers/fuzz-domains.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const snapshots = ['7.2.0_x86_64', '8.1.0_x86_64', '7.2.0_s390x', '8.1.0_s390x']
  .map((s) => loadCaps(readFileSync(`${root}/capabilities/caps_${s}.xml`, 'utf8'), s));
const runs = Number(process.env.VIRTGOLD_FUZZ_RUNS ?? 200);

test(`mutated domains: output or a translation error (${runs} runs)`, () => {
  fc.assert(
    fc.property(mutatedDomain(corpus(root)), fc.nat(snapshots.length - 1), fc.constantFrom(...MODES), (xml, s, mode) => {
      try {
        const out = translate(mode, xml, snapshots[s]!);
        if (typeof out !== 'string' || !out.endsWith('\n')) throw new Error('output must be newline-terminated text');
        // What libxml2 would refuse never comes out (libvirt's output is well-formed XML).
        if (/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/.test(out)) throw new Error(`output carries a character XML does not allow: ${JSON.stringify(out.slice(0, 200))}`);
      } catch (e) {
        if (!isTranslationError(e)) throw e;
        // One bounded, printable line.
        if (/[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(e.message)) throw new Error(`error message is not one printable line: ${JSON.stringify(e.message)}`);
        if ([...e.message].length > MAX_MESSAGE + 40) throw new Error(`error message of ${e.message.length} characters`);
      }
    }),
    { numRuns: runs, seed: process.env.VIRTGOLD_FUZZ_SEED ? Number(process.env.VIRTGOLD_FUZZ_SEED) : undefined },
  );
});

test.run();
