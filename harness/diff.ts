// Diffs bounded in time and memory, whatever a translator printed: the common prefix and
// suffix are cut off first (a linear scan), only the changed region in between is diffed
// line by line (with jsdiff's edit-length cap), a region too large for that is shown as
// replaced, and what is shown is capped in lines, characters per line and in all. Pure.
import { formatPatch, structuredPatch, type StructuredPatch } from 'diff';

/** Changed regions larger than this (lines on either side) are not diffed line by line. */
export const MAX_DIFF_LINES = 5_000;
/** jsdiff gives up beyond this many edits (its cost is lines × edits). */
const MAX_EDITS = 1_000;
/** Lines of a diff shown, characters of each, and characters in all. */
export const MAX_SHOWN_LINES = 400;
export const MAX_LINE_CHARS = 1_000;
export const MAX_SHOWN_CHARS = 64 * 1024;

/** Of a failing output, what a run keeps for its reports (the html page, compare's json):
 *  every entry of a run may print up to --max-output, which must not add up in memory. */
export const MAX_KEPT_CHARS = 256 * 1024;

export function keptText(text: string): string {
  if (text.length <= MAX_KEPT_CHARS) return text;
  const cut = text.lastIndexOf('\n', MAX_KEPT_CHARS) + 1 || MAX_KEPT_CHARS;
  // Copied, not sliced: a slice would keep the whole text alive.
  return Buffer.from(`${text.slice(0, cut)}… [${text.length - cut} more characters not kept]\n`).toString();
}

/** Index of the first line start at or after which a and b differ (common prefix, whole lines). */
function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === a.length && i === b.length) return i;
  return a.lastIndexOf('\n', i - 1) + 1;
}

/** Length of the common suffix made of whole lines, not overlapping the prefix. */
function commonSuffix(a: string, b: string, prefix: number): number {
  const n = Math.min(a.length, b.length) - prefix;
  let k = 0;
  while (k < n && a.charCodeAt(a.length - 1 - k) === b.charCodeAt(b.length - 1 - k)) k++;
  // Back to a line boundary: the suffix must start right after a newline in both.
  while (k > 0 && a.charCodeAt(a.length - k - 1) !== 10) k--;
  return k;
}

/** Number of lines in s (a last line without newline counts). */
export function countLines(s: string, from = 0, to = s.length): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return to > from && s.charCodeAt(to - 1) !== 10 ? n + 1 : n;
}

/** Up to `max` lines of s[from, to), each without its newline. */
export function takeLines(s: string, from: number, to: number, max: number): string[] {
  const out: string[] = [];
  let i = from;
  while (i < to && out.length < max) {
    const nl = s.indexOf('\n', i);
    const end = nl < 0 || nl >= to ? to : nl;
    out.push(s.slice(i, end));
    i = end + 1;
  }
  return out;
}

/** The last `max` lines before `to` (from `from` on), each without its newline. */
function lastLines(s: string, from: number, to: number, max: number): { start: number; lines: string[] } {
  let start = to;
  for (let n = 0; n < max && start > from; n++) start = s.lastIndexOf('\n', start - 2) + 1;
  start = Math.max(start, from);
  return { start, lines: takeLines(s, start, to, max) };
}

interface Budget { lines: number; chars: number }

/** The first lines that fit the budget (which they use up). */
function fit(lines: string[], budget: Budget): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (budget.lines <= 0 || budget.chars < l.length) break;
    out.push(l);
    budget.lines--;
    budget.chars -= l.length + 1;
  }
  return out;
}

const clip = (line: string) =>
  line.length <= MAX_LINE_CHARS ? line : `${line.slice(0, MAX_LINE_CHARS)}… [${line.length - MAX_LINE_CHARS} more characters]`;

export interface Region {
  /** common lines before and after the changed region */
  prefixLines: number;
  /** [start, end) of the changed region in each text */
  a: [number, number];
  b: [number, number];
}

/** Where two texts differ: one region, between their common prefix and suffix lines. */
export function changedRegion(a: string, b: string): Region {
  const p = commonPrefix(a, b);
  const s = commonSuffix(a, b, p);
  return { prefixLines: countLines(a, 0, p), a: [p, a.length - s], b: [p, b.length - s] };
}

/**
 * A unified diff of a and b, like jsdiff's createTwoFilesPatch, but bounded: at most
 * MAX_SHOWN_LINES lines of MAX_LINE_CHARS characters, and a changed region too big to
 * diff line by line shown as removed-then-added, with how much was left out.
 */
export function boundedPatch(oldName: string, newName: string, a: string, b: string, headers: string | null = null, context = 3): string {
  // jsdiff writes a tab after each name when headers are given ('' included), none with
  // null: a header line ending in a tab is noise (and trips editors and linters).
  const header = headers ?? undefined;
  const head = { oldFileName: oldName, newFileName: newName, oldHeader: header, newHeader: header, hunks: [] } as unknown as StructuredPatch;
  if (a === b) return formatPatch(head);
  const r = changedRegion(a, b);
  const before = lastLines(a, 0, r.a[0], context);
  const afterA = takeLines(a, r.a[1], a.length, context);
  const oldLines = countLines(a, r.a[0], r.a[1]);
  const newLines = countLines(b, r.b[0], r.b[1]);
  const firstLine = r.prefixLines - before.lines.length + 1;

  if (oldLines <= MAX_DIFF_LINES && newLines <= MAX_DIFF_LINES) {
    // Diff the region with its context only, then put the hunks back where they belong.
    const ctxEndA = r.a[1] + afterA.reduce((n, l) => n + l.length + 1, 0);
    const sa = a.slice(before.start, Math.min(ctxEndA, a.length));
    const sb = b.slice(before.start, Math.min(r.b[1] + (ctxEndA - r.a[1]), b.length));
    const p = structuredPatch(oldName, newName, sa, sb, header, header, { context, maxEditLength: MAX_EDITS });
    if (p) {
      const budget = { lines: MAX_SHOWN_LINES, chars: MAX_SHOWN_CHARS };
      const hunks = [];
      for (const h of p.hunks) {
        if (budget.lines <= 0 || budget.chars <= 0) break;
        const lines = fit(h.lines.slice(0, budget.lines).map((l) => l[0] + clip(l.slice(1))), budget);
        if (lines.length < h.lines.length) lines.push(`\\ … ${h.lines.length - lines.length} more lines of this diff not shown`);
        hunks.push({ ...h, oldStart: h.oldStart + firstLine - 1, newStart: h.newStart + firstLine - 1, lines });
      }
      return formatPatch({ ...head, hunks });
    }
  }
  // Too big to diff line by line: the whole region as replaced, its start and end shown.
  const half = Math.floor((MAX_SHOWN_LINES - 2 * context) / 2);
  const shown = (s: string, [from, to]: [number, number], total: number, sign: string) => {
    const lines = fit(takeLines(s, from, to, half).map((l) => sign + clip(l)), { lines: half, chars: MAX_SHOWN_CHARS / 2 });
    if (total > lines.length) lines.push(`\\ … ${total - lines.length} more ${sign === '-' ? 'removed' : 'added'} lines not shown`);
    return lines;
  };
  const lines = [
    ...before.lines.map((l) => ` ${clip(l)}`),
    ...shown(a, r.a, oldLines, '-'),
    ...shown(b, r.b, newLines, '+'),
    ...afterA.map((l) => ` ${clip(l)}`),
  ];
  const ctx = before.lines.length + afterA.length;
  return formatPatch({ ...head, hunks: [{ oldStart: firstLine, oldLines: oldLines + ctx, newStart: firstLine, newLines: newLines + ctx, lines }] });
}
