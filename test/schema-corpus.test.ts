// The shipped corpus against libvirt 9.0.0's schema and the vf-token overlay: every case
// input but those marked schemaInvalid, and every .xml golden. A check of the data, as
// `npm run interop` makes it, kept out of the fast suite: at a few thousand documents it
// costs a second of its time. Skipped, with the reason printed, where the schema is not
// installed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { discoverCases } from '../harness/cases.js';
import { checkCorpus, loadSchema, schemaUnavailable } from '../harness/schema.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const why = schemaUnavailable();

if (why) {
  console.log(`SKIP schema corpus test: ${why}`);
  test.skip('the corpus against libvirt\'s schema', () => {});
} else {
  test('the corpus: every case input but those marked schemaInvalid, and every .xml golden, validates', async () => {
    const r = checkCorpus(repo, await loadSchema());
    assert.equal(r.problems, []);
    const marked = discoverCases(repo).filter((c) => c.options.schemaInvalid);
    assert.is(r.invalidOnPurpose, marked.length);
    assert.ok(marked.length >= 10 && r.goldens > 90 && r.cases > 60);
    assert.ok(marked.some((c) => c.name === 'vf-token/malformed') && !marked.some((c) => c.name === 'vf-token/hostdev'));
  });
}

test.run();
