// Selecting entries: --case globs on case paths, --arch, --version, --mode. Each
// filter may be given several times; the values of one filter combine as a union.
import { UsageError } from './errors.js';
import type { Filters, Mode } from './types.js';

/** Shell-style glob → RegExp source. `*` and `?` stay inside one path segment, `**`
 *  crosses segments (`**` + `/` also matches no folder at all); `[…]` and `{a,b}` as in sh. */
function globSource(pattern: string): string {
  let re = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[' || c === ']') re += c;
    else if (c === '{') { re += '(?:'; depth++; }
    else if (c === '}' && depth > 0) { re += ')'; depth--; }
    else if (c === ',' && depth > 0) re += '|';
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return re;
}

const compiled = new Map<string, RegExp>();

/** Does a --case pattern match a case path? A pattern without `/` matches the last
 *  segment at any depth (`minimal` matches `domain/minimal`), as in .gitignore; a
 *  pattern with `/` matches the whole path (`hostdev/*`, `**` + `/vf-token*`). */
export function matchGlob(pattern: string, name: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const body = globSource(pattern);
    try {
      re = new RegExp(pattern.includes('/') ? `^${body}$` : `^(?:.*/)?${body}$`);
    } catch {
      throw new UsageError(`--case: invalid pattern '${pattern}'`);
    }
    compiled.set(pattern, re);
  }
  return re.test(name);
}

const anyOf = <T>(list: T[] | undefined, test: (v: T) => boolean) => !list?.length || list.some(test);

export const caseSelected = (f: Filters, name: string) => anyOf(f.case, (p) => matchGlob(p, name));

export function selected(f: Filters, e: { case: string; arch: string; version: string; mode: Mode }): boolean {
  return caseSelected(f, e.case) && anyOf(f.arch, (a) => a === e.arch) && anyOf(f.version, (v) => v === e.version) &&
    anyOf(f.mode, (m) => m === e.mode);
}

export const isFiltered = (f: Filters) => Object.values(f).some((v) => (v as unknown[] | undefined)?.length);

/** The filters as they were typed, for messages. */
export function describeFilters(f: Filters): string {
  return (['case', 'arch', 'version', 'mode'] as const)
    .flatMap((k) => (f[k] ?? []).map((v) => `--${k} ${/^[\w.+-]+$/.test(v) ? v : `'${v}'`}`)).join(' ');
}
