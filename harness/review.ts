// `virtgold review`: walk through every golden that would change and accept or reject
// it, one at a time, in the manner of `cargo insta review`. Accepted changes are written
// atomically as they are accepted; rejected ones leave the golden as it is.
import { relative } from 'node:path';
import { readInside } from './confine.js';
import { boundedPatch } from './diff.js';
import { removeGolden, writeGolden } from './goldens.js';
import { plan, type UpdateOptions } from './update.js';

/** `replaces`: the golden of the other kind this one takes the place of (removed with it) */
interface Change { path: string; before?: string; after?: string; replaces?: string }

const color = (on: boolean) => (code: number, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** Read one answer: a single key on a terminal (raw mode), a line otherwise. */
function keyReader(input: NodeJS.ReadStream): { next: () => Promise<string>; close: () => void } {
  const raw = input.isTTY === true;
  if (raw) input.setRawMode(true);
  input.setEncoding('utf8');
  const queue: string[] = [];
  let waiting: ((k: string) => void) | undefined;
  let ended = false;
  let pending = '';
  const push = (k: string) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(k);
    } else queue.push(k);
  };
  input.on('data', (chunk: string) => {
    if (raw) for (const ch of chunk) push(ch);
    else {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        push(pending.slice(0, nl).trim());
        pending = pending.slice(nl + 1);
      }
    }
  });
  input.on('end', () => {
    ended = true;
    push('q');
  });
  input.resume();
  return {
    next: () => (queue.length ? Promise.resolve(queue.shift()!) : ended ? Promise.resolve('q') : new Promise((r) => (waiting = r))),
    close: () => {
      if (raw) input.setRawMode(false);
      input.pause();
    },
  };
}

export async function review(o: UpdateOptions, input = process.stdin, output = process.stdout): Promise<number> {
  const root = o.root;
  const c = color(output.isTTY === true && !process.env.NO_COLOR);
  const p = await plan({ ...o, prune: true });
  const changes: Change[] = [
    ...p.writes.map((w) => ({ path: w.path, before: readInside(root, w.replaces ?? w.path), after: w.text, replaces: w.replaces })),
    ...p.removals.map((r) => ({ path: r, before: readInside(root, r) })),
  ];
  for (const x of p.report.crashed) output.write(`${c(31, 'CRASHED')} ${x.golden}: ${x.message} (nothing to review)\n`);
  if (!changes.length) {
    output.write('no golden would change\n');
    return p.report.crashed.length ? 1 : 0;
  }
  const keys = keyReader(input);
  let accepted = 0;
  let rejected = 0;
  let all: 'a' | 'r' | undefined;
  try {
    for (const [i, ch] of changes.entries()) {
      const rel = relative(root, ch.path);
      const was = ch.replaces ? relative(root, ch.replaces) : rel;
      const what = ch.replaces ? `replace ${was} by` : ch.after === undefined ? 'remove' : ch.before === undefined ? 'create' : 'update';
      output.write(`\n${c(1, `[${i + 1}/${changes.length}] ${what} ${rel}`)}\n`);
      const diff = boundedPatch(`${was} (now)`, `${rel} (new)`, ch.before ?? '', ch.after ?? '');
      output.write(diff.split('\n').slice(1).map((l) =>
        l.startsWith('+') && !l.startsWith('+++') ? c(32, l) : l.startsWith('-') && !l.startsWith('---') ? c(31, l) : l).join('\n') + '\n');
      let answer: string | undefined = all;
      while (!answer) {
        output.write('a accept   r reject   A accept all   R reject all   q quit > ');
        const k = await keys.next();
        output.write('\n');
        if (k === 'a' || k === 'r') answer = k;
        else if (k === 'A' || k === 'R') answer = all = k === 'A' ? 'a' : 'r';
        else if (k === 'q' || k === '\u0003' || k === '\u0004') {
          output.write(`stopped: ${accepted} accepted, ${rejected} rejected, ${changes.length - i} left as they are\n`);
          return 0;
        }
      }
      if (answer === 'a') {
        if (ch.after === undefined) removeGolden(root, ch.path);
        else writeGolden(root, ch.path, ch.after, ch.replaces);
        accepted++;
        output.write(`${c(32, 'accepted')} ${rel}\n`);
      } else {
        rejected++;
        output.write(`${c(33, 'rejected')} ${rel}\n`);
      }
    }
  } finally {
    keys.close();
  }
  output.write(`${accepted} accepted, ${rejected} rejected\n`);
  return 0;
}
