// `virtgold run` / `virtgold update`: the harness from the command line.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { MODES, type Mode } from '../translator/index.js';
import { UsageError } from './cli.js';
import { buildMatrix, type Filters } from './matrix.js';
import { checkIdempotent, judge, runMatrix, staleGoldens } from './suite.js';
import { formatUpdateReport, updateGoldens } from './update.js';

export function parseFilters(argv: string[]): { filters: Filters; root: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        case: { type: 'string' },
        arch: { type: 'string' },
        version: { type: 'string' },
        mode: { type: 'string' },
        root: { type: 'string' },
      },
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.mode !== undefined && !MODES.includes(v.mode as Mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}`);
  const filters: Filters = {};
  if (v.case) filters.case = v.case;
  if (v.arch) filters.arch = v.arch;
  if (v.version) filters.version = v.version;
  if (v.mode) filters.mode = v.mode as Mode;
  return { filters, root: resolve(v.root ?? process.cwd()) };
}

export async function runCommand(command: 'run' | 'update', argv: string[]): Promise<number> {
  const { filters, root } = parseFilters(argv);
  if (command === 'update') {
    const report = updateGoldens(root, filters);
    process.stdout.write(formatUpdateReport(report));
    return report.crashed.length ? 1 : 0;
  }
  let failed = 0;
  let passed = 0;
  for (const { entry, outcome } of runMatrix(root, filters)) {
    const name = `${entry.mode} ${entry.case.name} ${entry.snapshot.arch}-${entry.snapshot.version}`;
    const bad = [judge(entry, outcome), checkIdempotent(entry, outcome)].filter((v) => !v.ok);
    for (const v of bad) process.stdout.write(`FAIL ${name}\n${v.message}\n`);
    if (bad.length) failed++;
    else passed++;
  }
  if (!filters.case && !filters.arch && !filters.version && !filters.mode) {
    for (const p of staleGoldens(root, buildMatrix(root))) {
      failed++;
      process.stdout.write(`FAIL stale golden ${p}: no case produces it (npm run update-golden removes it)\n`);
    }
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}
