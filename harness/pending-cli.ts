// `virtgold accept [FILTERS]` / `virtgold reject [FILTERS]`: act on the pending results
// a failing `run` kept (harness/pending.ts) without asking, holding the update lock.
// The filters are run's: --case GLOB (or GLOB alone), --mode, --arch, --version.
import { parseArgs } from './args.js';
import { isFiltered, describeFilters } from './filters.js';
import { acceptPending, listPending, orphaned, PENDING_DIR, projectMatrix, rejectPending } from './pending.js';
import { locked, selectionOf, SELECTION_OPTIONS, withPositionals } from './run.js';

export async function pendingCommand(command: 'accept' | 'reject', argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: SELECTION_OPTIONS });
  const sel = selectionOf(withPositionals(values, positionals));
  return locked(sel.root, async () => {
    const pending = listPending(sel.root, sel.filters);
    const within = isFiltered(sel.filters) ? ` matching ${describeFilters(sel.filters)}` : '';
    if (!pending.length) {
      process.stdout.write(`no pending result${within} (a failing virtgold run keeps them in ${PENDING_DIR}/)\n`);
      return 0;
    }
    const all = command === 'accept' ? projectMatrix(sel.root) : [];
    let done = 0;
    let refused = 0;
    for (const p of pending) {
      if (command === 'reject') {
        rejectPending(sel.root, p);
        process.stdout.write(`rejected  ${p.rel}\n`);
        done++;
        continue;
      }
      const gone = orphaned(p, all);
      if (gone) {
        process.stderr.write(`virtgold: ${p.rel}: ${gone}\n`);
        refused++;
        continue;
      }
      acceptPending(sel.root, p);
      process.stdout.write(`accepted  ${p.golden}\n`);
      done++;
    }
    process.stdout.write(`${done} ${command === 'accept' ? 'accepted' : 'rejected'}${refused ? `, ${refused} refused` : ''}${within}\n`);
    return refused ? 1 : 0;
  });
}
