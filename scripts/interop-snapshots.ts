// npm run interop:snapshots: hold every golden of the snapshots no host here runs (all but
// Debian 12's QEMU 7.2.0, which npm run interop checks against real libvirt) to libvirt
// 9.0.0's own test harness, run on the project's snapshot files: tests/qemuxml2argvtest
// for .args/.err, tests/qemuxml2xmltest for .xml/.err, built from Debian's source package
// by scripts/libvirt-harness.sh into a cache. A difference is either one of the
// contract's excuses (harness/libvirt-tests.ts: each checked, counted and listed by
// name) or a failure. Exit 0: no failure; 1: failures; 2: it cannot run (one line why).
//
//   npm run interop:snapshots [-- --case GLOB --arch ARCH --version V --mode M --keep]
//
// VIRTGOLD_LIBVIRT_TESTS=DIR uses the two programs in DIR instead of building them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { discoverSnapshots, selectEntries } from '../harness/cases.js';
import { lookupGolden } from '../harness/goldens.js';
import { runBuiltin } from '../harness/judge.js';
import { classify, EXCUSES, type Excuse, type Verdict } from '../harness/libvirt-tests.js';
import { harnessDir, runHarness } from '../harness/libvirt-tests-run.js';
import { hasNativeNics } from '../harness/native-nics.js';
import { scratchDir } from '../harness/scratch.js';
import { writeNativeNicInputs } from '../harness/native-nics-run.js';
import { entryName } from '../harness/runner.js';
import { selectionOf } from '../harness/run.js';
import type { MatrixEntry, Mode, Outcome, Snapshot } from '../harness/types.js';

/** Debian 12's QEMU: its snapshots are held to real libvirt by npm run interop. */
const HOST_QEMU = '7.2.0';

class CannotRun extends Error {}

interface Group {
  snapshot: Snapshot;
  mode: Mode;
  entries: MatrixEntry[];
}

interface Checked {
  entry: MatrixEntry;
  verdict: Verdict;
}

function report(checked: Checked[], seconds: number): number {
  const failures = new Map<string, string[]>(); // message → entries (a rejected snapshot fails all its entries alike)
  const excused = new Map<Excuse, string[]>(Object.keys(EXCUSES).map((k) => [k as Excuse, []]));
  let same = 0;
  let excusedEntries = 0;
  for (const { entry, verdict: v } of checked) {
    if (v.class === 'same') same++;
    else if (v.class === 'excused') {
      excusedEntries++;
      for (const x of v.excuses) excused.get(x)!.push(entryName(entry) + (v.excuses.length > 1 ? ` (${v.excuses.join(' + ')})` : ''));
    } else failures.set(v.message, [...(failures.get(v.message) ?? []), entryName(entry)]);
  }
  for (const [message, names] of failures) {
    console.log(`FAIL ${names.length > 1 ? `${names.length} entries: ${names.join(', ')}` : names[0]}\n${message.trimEnd()}\n`);
  }
  for (const [excuse, names] of excused) {
    if (!names.length) continue;
    console.log(`excused by ${excuse} (${EXCUSES[excuse]}): ${names.length}`);
    for (const n of names) console.log(`  ${n}`);
  }
  const failed = [...failures.values()].reduce((n, x) => n + x.length, 0);
  const parts = [...excused].map(([k, v]) => `${k} ${v.length}`).join(', ');
  console.log(`\ninterop:snapshots: checked ${checked.length}: same ${same}, excused ${excusedEntries} (by ${parts}; an entry can need two), failures ${failed} (${seconds.toFixed(1)} s)`);
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const root = fileURLToPath(new URL('..', import.meta.url));
  const { values: v } = parseArgs({
    args: process.argv.slice(2),
    options: {
      case: { type: 'string', multiple: true }, arch: { type: 'string', multiple: true },
      version: { type: 'string', multiple: true }, mode: { type: 'string', multiple: true },
      keep: { type: 'boolean' },
    },
  });
  const sel = selectionOf({ ...v, root });
  const versions = [...new Set(discoverSnapshots(root).map((s) => s.version))].filter((x) => x !== HOST_QEMU);
  sel.filters.version ??= versions;
  if (!versions.length) throw new CannotRun(`no snapshot other than the host QEMU's ${HOST_QEMU} in capabilities/`);
  const { entries, problems } = selectEntries(root, sel.filters);
  if (problems.length) throw new CannotRun(problems.join('; '));

  const dir = await harnessDir((l) => console.log(l));
  // removed at the end and on a signal (folders of killed runs are swept: harness/scratch.ts)
  const scratch = scratchDir('virtgold-snapshots-');
  const work = scratch.path;
  const ids = new Map<string, string>();
  mkdirSync(join(work, 'in'));
  const withNics = new Set<string>(); // cases whose interfaces domxml-to-native rebuilds
  for (const e of entries) {
    if (ids.has(e.case.name)) continue;
    const id = `c${ids.size}`;
    ids.set(e.case.name, id);
    const bytes = readFileSync(e.case.path);
    writeFileSync(join(work, 'in', `${id}.xml`), bytes);
    if (hasNativeNics(bytes.toString('utf8'))) withNics.add(e.case.name);
  }
  const groups = new Map<string, Group>();
  for (const e of entries) {
    const k = `${e.snapshot.path}\0${e.mode}`;
    if (!groups.has(k)) groups.set(k, { snapshot: e.snapshot, mode: e.mode, entries: [] });
    groups.get(k)!.entries.push(e);
  }
  const answers = new Map<MatrixEntry, Outcome | string>();
  const nativeAnswers = new Map<MatrixEntry, Outcome | string>();
  const list = [...groups.values()];
  // two programs at a time: CI machines have 2 cores
  for (let i = 0; i < list.length; i += 2) {
    await Promise.all(list.slice(i, i + 2).map(async (g) => {
      const nicCases = g.mode === 'xml2argv' ? g.entries.filter((e) => withNics.has(e.case.name)).map((e) => ids.get(e.case.name)!) : [];
      const nicIds = await writeNativeNicInputs(dir, work, join(work, 'in'), g.snapshot, nicCases);
      const got = await runHarness(dir, work, join(work, 'in'), g.snapshot, g.mode, [...g.entries.map((e) => ids.get(e.case.name)!), ...nicIds.values()]);
      for (const e of g.entries) {
        answers.set(e, got.get(ids.get(e.case.name)!)!);
        const n = nicIds.get(ids.get(e.case.name)!);
        if (n) nativeAnswers.set(e, got.get(n)!);
      }
    }));
  }
  const checked: Checked[] = entries.map((entry) => ({
    entry,
    verdict: classify({
      mode: entry.mode,
      xml: readFileSync(entry.case.path, 'utf8'),
      golden: lookupGolden(entry),
      libvirt: answers.get(entry)!,
      reference: (xml) => runBuiltin(entry.mode, entry.snapshot.path, xml),
      ...(nativeAnswers.has(entry) ? { libvirtNative: nativeAnswers.get(entry)! } : {}),
    }),
  }));
  const code = report(checked, (performance.now() - t0) / 1000);
  if (v.keep || code) {
    scratch.keep();
    console.log(`libvirt's answers and logs: ${work}`);
  } else scratch.remove();
  return code;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`interop:snapshots: ${(e as Error).message.split('\n')[0]}`);
  process.exitCode = 2;
}
