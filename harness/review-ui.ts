// The interactive walk of `virtgold review`, in the manner of `cargo insta review`: each
// item shown with its context and diff, then one key: a accept, r reject, s skip, A accept
// all the rest, R reject all the rest, q quit. Ctrl-C stops at once (exit 130) and
// changes nothing further; any other key says which keys there are.
import { colorDiff } from './intraline.js';

export interface ReviewItem {
  /** e.g. "update golden/xml2argv/…", "pending xml2argv domain/minimal x86_64-7.2.0" */
  title: string;
  /** lines shown above the diff (case, snapshot, translator, …) */
  context: string[];
  /** a unified diff, its "===" line and file headers included or not */
  diff: string;
  accept(): void;
  reject(): void;
}

/** Read one answer: a single key on a terminal (raw mode), a line otherwise. */
export function keyReader(input: NodeJS.ReadStream): { next: () => Promise<string>; close: () => void } {
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
    // An escape sequence (an arrow key) is one key, not three.
    if (raw) for (const ch of chunk.startsWith('\x1b') ? [chunk] : chunk) push(ch);
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

export const PROMPT = 'a accept   r reject   s skip   A accept all   R reject all   q quit > ';
export const KEYS_HELP = 'keys: a accept, r reject, s skip (leave it for later), A accept this and all the rest, R reject this and all the rest, q quit (Ctrl-C: stop at once)';

const paint = (on: boolean) => (code: number, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** Walk ITEMS; the exit status: 0 when done or quit, 130 on Ctrl-C. */
export async function walk(items: ReviewItem[], input: NodeJS.ReadStream, output: NodeJS.WriteStream, color: boolean): Promise<number> {
  const c = paint(color);
  const keys = keyReader(input);
  let accepted = 0;
  let rejected = 0;
  let skipped = 0;
  let all: 'a' | 'r' | undefined;
  const tally = () => `${accepted} accepted, ${rejected} rejected, ${skipped} skipped`;
  try {
    for (const [i, item] of items.entries()) {
      output.write(`\n${c(1, `[${i + 1}/${items.length}] ${item.title}`)}\n`);
      for (const l of item.context) output.write(`${l}\n`);
      const diff = item.diff.startsWith('===') ? item.diff.split('\n').slice(1).join('\n') : item.diff;
      output.write(`${colorDiff(diff.replace(/\n$/, ''), color)}\n`);
      let answer: 'a' | 'r' | 's' | undefined = all;
      while (!answer) {
        output.write(PROMPT);
        const k = await keys.next();
        output.write('\n');
        if (k === 'a' || k === 'r' || k === 's') answer = k;
        else if (k === 'A' || k === 'R') answer = all = k === 'A' ? 'a' : 'r';
        else if (k === '\u0003') {
          output.write(`interrupted: ${tally()}, ${items.length - i} left as they are\n`);
          return 130;
        } else if (k === 'q' || k === '\u0004') {
          output.write(`stopped: ${tally()}, ${items.length - i} left as they are\n`);
          return 0;
        } else {
          output.write(`${k === '' ? 'no key' : `unknown key '${[...k].map((ch) => (ch < ' ' ? `^${String.fromCharCode(ch.charCodeAt(0) + 64)}` : ch)).join('')}'`}; ${KEYS_HELP}\n`);
        }
      }
      if (answer === 'a') {
        item.accept();
        accepted++;
        output.write(`${c(32, 'accepted')} ${item.title}\n`);
      } else if (answer === 'r') {
        item.reject();
        rejected++;
        output.write(`${c(33, 'rejected')} ${item.title}\n`);
      } else {
        skipped++;
        output.write(`${c(36, 'skipped')} ${item.title}\n`);
      }
    }
  } finally {
    keys.close();
  }
  output.write(`${tally()}\n`);
  return 0;
}
