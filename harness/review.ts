// `virtgold review`: walk through the pending results a failing `run` kept
// (harness/pending.ts) and accept or reject each, in the manner of `cargo insta review`;
// with none pending, through every golden that `update` would change. A translator named
// on the command line (`review --translator-cmd X`) always means the latter: what
// `update` with that translator would change, pending results or not. Accepted changes
// are written atomically as they are accepted; rejected ones leave the golden as it is.
import { relative } from 'node:path';
import { readInside } from './confine.js';
import { boundedPatch } from './diff.js';
import { contextLines } from './failure-context.js';
import { removeGolden, writeGolden } from './goldens.js';
import { wantsColor } from './intraline.js';
import { acceptPending, goldenNow, listPending, orphaned, projectMatrix, rejectPending, type Pending } from './pending.js';
import { walk, type ReviewItem } from './review-ui.js';
import { plural } from './summary.js';
import { plan, type UpdateOptions } from './update.js';

/** `replaces`: the golden of the other kind this one takes the place of (removed with it) */
interface Change { path: string; before?: string; after?: string; replaces?: string }

/** `o.adapter`, `o.translatorFlag`: the translator named on the command line, if any, and
 *  how it was named (`--translator-cmd X`), for messages. */
export async function review(o: UpdateOptions & { translatorFlag?: string }, input = process.stdin, output = process.stdout): Promise<number> {
  const color = wantsColor(output);
  const pending = listPending(o.root, o.filters);
  if (o.adapter) {
    if (pending.length) {
      output.write(`${plural(pending.length, 'pending result')} left as they are (\`virtgold review\` without a translator walks them)\n`);
    }
    return reviewUpdate(o, input, output, color);
  }
  if (pending.length) return walk(pendingItems(o.root, pending, output), input, output, color);
  return reviewUpdate(o, input, output, color);
}

/** Each pending result as an item: its input, snapshot, translator and run, the diff from
 *  the golden it would replace. One that no entry produces any more is said, not offered. */
function pendingItems(root: string, pending: Pending[], output: NodeJS.WriteStream): ReviewItem[] {
  const all = projectMatrix(root);
  const items: ReviewItem[] = [];
  for (const p of pending) {
    const gone = orphaned(p, all);
    if (gone) {
      output.write(`${p.rel}: ${gone} (virtgold reject --case ${p.case})\n`);
      continue;
    }
    const now = goldenNow(root, p);
    const m = p.meta;
    const context = contextLines({
      input: m?.input ?? `cases/${p.case}.xml`,
      snapshot: m?.snapshot ?? `(${p.arch}-${p.version})`,
      golden: p.golden + (now && now.rel !== p.golden ? ` (replacing ${now.rel})` : now ? '' : ' (new)'),
      translator: m?.adapter ?? '(unknown: no metadata)',
      reproduce: m?.command ?? '(unknown)',
    });
    if (m?.when) context.push(`  run:        ${m.when}`);
    items.push({
      title: `${p.mode} ${p.case} ${p.arch}-${p.version}`,
      context,
      diff: boundedPatch(`${now?.rel ?? p.golden} (golden)`, `${p.rel} (pending)`, now?.text ?? '', p.text, null),
      accept: () => acceptPending(root, p),
      reject: () => rejectPending(root, p),
    });
  }
  return items;
}

const GOLDEN = /^golden\/(xml2argv|xml2xml)\/(.+)\.([A-Za-z0-9_]+)-(\d+\.\d+\.\d+)\.(?:args|xml|err)$/;

/** What an update of golden REL comes from: its case, snapshot, and the translator. */
function updateContext(rel: string, adapter = 'builtin (the reference translator)'): string[] {
  const m = GOLDEN.exec(rel);
  if (!m) return [];
  const [, mode, name, arch, version] = m as unknown as [string, string, string, string, string];
  const caps = `capabilities/caps_${version}_${arch}.xml`;
  return [`  case:       cases/${name}.xml`, `  snapshot:   ${caps}`, `  translator: ${adapter}`,
    ...(adapter.startsWith('builtin') ? [`  reproduce:  npx virtgold ${mode} --caps ${caps} cases/${name}.xml`] : [])];
}

/** No pending results: what `update` would change, each accepted or rejected. */
async function reviewUpdate(o: UpdateOptions & { translatorFlag?: string }, input: NodeJS.ReadStream, output: NodeJS.WriteStream, color: boolean): Promise<number> {
  const root = o.root;
  const p = await plan({ ...o, prune: true });
  const changes: Change[] = [
    ...p.writes.map((w) => ({ path: w.path, before: readInside(root, w.replaces ?? w.path), after: w.text, replaces: w.replaces })),
    ...p.removals.map((r) => ({ path: r, before: readInside(root, r) })),
  ];
  for (const x of p.report.crashed) output.write(`${color ? '\x1b[31mCRASHED\x1b[0m' : 'CRASHED'} ${x.golden}: ${x.message} (nothing to review)\n`);
  const update = `virtgold update --prune${o.translatorFlag ? ` ${o.translatorFlag}` : ''}`;
  if (!changes.length) {
    output.write(o.adapter ? `no golden would change (\`${update}\`)\n` : 'nothing pending, and no golden would change\n');
    return p.report.crashed.length ? 1 : 0;
  }
  output.write(`${o.adapter ? 'reviewing' : 'nothing pending: reviewing'} what \`${update}\` would change\n`);
  const items = changes.map((ch): ReviewItem => {
    const rel = relative(root, ch.path);
    const was = ch.replaces ? relative(root, ch.replaces) : rel;
    const what = ch.replaces ? `replace ${was} by` : ch.after === undefined ? 'remove' : ch.before === undefined ? 'create' : 'update';
    return {
      title: `${what} ${rel}`,
      context: updateContext(rel, o.adapter?.name),
      diff: boundedPatch(`${was} (now)`, `${rel} (new)`, ch.before ?? '', ch.after ?? '', null),
      accept: () => (ch.after === undefined ? removeGolden(root, ch.path) : writeGolden(root, ch.path, ch.after, ch.replaces)),
      reject: () => undefined,
    };
  });
  const code = await walk(items, input, output, color);
  return code || (p.report.crashed.length ? 1 : 0);
}
