// Intra-line diffs: within a changed line, which words changed (jsdiff's
// diffWordsWithSpace), for the pretty reporter, review and the html report. A one-
// character change in a 150-character -device line is then seen at a glance. Without
// colour the unified diff is left exactly as it is (still a patch `patch -p0` takes).
import { diffWordsWithSpace } from 'diff';

export interface Part { text: string; changed: boolean }

/** jsdiff gives up beyond this many edits: such lines are shown as wholly changed. */
const MAX_EDITS = 200;

/** The two lines cut into common and changed parts, or undefined when they have too
 *  little in common for that to help (the whole line is then the change). */
export function wordDiff(a: string, b: string): { a: Part[]; b: Part[] } | undefined {
  const parts = diffWordsWithSpace(a, b, { maxEditLength: MAX_EDITS });
  if (!parts) return undefined;
  const left: Part[] = [];
  const right: Part[] = [];
  let common = 0;
  for (const p of parts) {
    if (!p.added) left.push({ text: p.value, changed: p.removed });
    if (!p.removed) right.push({ text: p.value, changed: p.added });
    if (!p.added && !p.removed) common += p.value.trim().length;
  }
  // Less than a third in common: the words would light up nearly everywhere.
  if (common * 3 < Math.max(a.trim().length, b.trim().length)) return undefined;
  return { a: left, b: right };
}

const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const CYAN = '\x1b[36m';
const OFF = '\x1b[39m';
/** Reverse video for the changed words: the line's colour becomes their background. */
const EMPH = '\x1b[7m';
const EMPH_OFF = '\x1b[27m';

const paint = (sign: string, parts: Part[], color: string) =>
  `${color}${sign}${parts.map((p) => (p.changed && p.text.trim() ? `${EMPH}${p.text}${EMPH_OFF}` : p.text)).join('')}${OFF}`;

/** A unified diff (or a message holding one) coloured for a terminal: removed lines red,
 *  added green, hunk headers cyan, and in each run of removed lines followed by added
 *  ones, the i-th removed and i-th added line paired, their changed words reversed.
 *  Without colour the text is returned as it is. */
export function colorDiff(text: string, color: boolean): string {
  if (!color) return text;
  const lines = text.split('\n');
  const out: string[] = [];
  const isDel = (l: string | undefined) => l !== undefined && l.startsWith('-') && !l.startsWith('---');
  const isAdd = (l: string | undefined) => l !== undefined && l.startsWith('+') && !l.startsWith('+++');
  for (let i = 0; i < lines.length;) {
    const l = lines[i]!;
    if (isDel(l)) {
      let j = i;
      while (isDel(lines[j])) j++;
      let k = j;
      while (isAdd(lines[k])) k++;
      const dels = lines.slice(i, j);
      const adds = lines.slice(j, k);
      const pairs = dels.map((d, n) => (adds[n] === undefined ? undefined : wordDiff(d.slice(1), adds[n]!.slice(1))));
      out.push(...dels.map((d, n) => (pairs[n] ? paint('-', pairs[n]!.a, RED) : `${RED}${d}${OFF}`)));
      out.push(...adds.map((a, n) => (pairs[n] ? paint('+', pairs[n]!.b, GREEN) : `${GREEN}${a}${OFF}`)));
      i = k;
      continue;
    }
    out.push(isAdd(l) ? `${GREEN}${l}${OFF}` : l.startsWith('@@') ? `${CYAN}${l}${OFF}` : l);
    i++;
  }
  return out.join('\n');
}

/** Whether a stream gets colour: a terminal, unless NO_COLOR is set. (Not FORCE_COLOR:
 *  test runners such as uvu set it for their own output, and every child would inherit it.) */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return !env.NO_COLOR && stream.isTTY === true;
}
