// The commands that hints name must work where the user is: `npm run update-golden` exists
// only in virtgold's own checkout, and there it writes the reference translator's answers.
// A project of one's own (a tool author's corpus, --root) gets the commands that work in
// it, and none that would overwrite its goldens with the reference translator's.
import { realpathSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

let home: string | undefined;

/** Is ROOT virtgold's own checkout (where `npm run update-golden` is its script)? */
export function isVirtgoldCorpus(root: string): boolean {
  try {
    home ??= realpathSync(fileURLToPath(new URL('..', import.meta.url)));
    return realpathSync(root) === home;
  } catch {
    return false;
  }
}

/** What to do about an entry that has no golden yet (the run keeps its result as pending). */
export const missingGoldenHint = (root: string) =>
  isVirtgoldCorpus(root) ? 'npm run update-golden writes it; virtgold accept makes this run\'s result the golden'
    : 'virtgold accept makes this run\'s result the golden';

/** What to do about a golden that no case produces any more. */
export const staleHint = (root: string) => (isVirtgoldCorpus(root) ? 'npm run update-golden removes it' : 'delete it');

/** Commands printed for a project found with --root from outside it need that --root too:
 *  the note saying so (none when the working directory is inside the project). */
export function rootNote(root: string, cwd = process.cwd()): string[] {
  const inside = relative(root, cwd);
  if (!inside.startsWith('..') && !isAbsolute(inside)) return [];
  const shown = relative(cwd, root);
  const name = shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : root;
  const word = /^[\w@%+=:,./-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`;
  return [`  (from here, each of these with --root ${word})`];
}
