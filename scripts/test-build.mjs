// The compiled tests of scripts/test.mjs, cached between runs as Jest caches its
// transforms: esbuild's build (and starting esbuild) is a tenth of `npm test`'s wall time,
// and most runs change nothing it compiled. A build is kept in a folder named after a
// digest of its options and of the content of every file it read (esbuild's metafile), so
// a run reuses it only when none of those files changed; any new import shows up as a
// changed importer. Folders are never rewritten (a run may be using one): a stale build
// is left for a later run to remove once it is an hour old.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const HOUR = 3_600_000;

function digest(options, inputs, root) {
  const h = createHash('sha256').update(JSON.stringify(options));
  for (const file of inputs) {
    let bytes;
    try {
      bytes = readFileSync(join(root, file));
    } catch {
      return undefined; // an input is gone: build again
    }
    h.update(`\0${file}\0${bytes.length}\0`).update(bytes);
  }
  return h.digest('hex').slice(0, 16);
}

/** The folder of a build of OPTIONS (esbuild's, without outdir) made from ROOT, built now
 *  unless an earlier run left one of the same sources under CACHE. */
export async function compiledTests(root, cache, name, options) {
  mkdirSync(cache, { recursive: true });
  const record = join(cache, `${name}.json`);
  try {
    const last = JSON.parse(readFileSync(record, 'utf8'));
    if (last.digest === digest(options, last.inputs, root) && statSync(join(cache, last.dir)).isDirectory()) return join(cache, last.dir);
  } catch { /* no usable record: build */ }
  const { build } = await import('esbuild');
  const tmp = mkdtempSync(join(cache, `.${name}-`));
  const { metafile } = await build({ ...options, outdir: tmp, metafile: true });
  const inputs = Object.keys(metafile.inputs).sort();
  const dir = `${name}-${digest(options, inputs, root)}`;
  try {
    renameSync(tmp, join(cache, dir));
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another run built the same meanwhile
  }
  const next = `${record}.${process.pid}`;
  writeFileSync(next, JSON.stringify({ digest: dir.slice(name.length + 1), dir, inputs }));
  renameSync(next, record);
  for (const f of readdirSync(cache)) {
    if (f === dir || !(f.startsWith(`${name}-`) || f.startsWith(`.${name}-`))) continue;
    try {
      if (Date.now() - statSync(join(cache, f)).mtimeMs > HOUR) rmSync(join(cache, f), { recursive: true, force: true });
    } catch { /* removed by another run */ }
  }
  return join(cache, dir);
}
