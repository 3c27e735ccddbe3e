// libvirt 9.0.0's own test harness as a translator (`--reference libvirt-tests`): the oracle
// of the snapshots no host here runs (8.1.0, 8.2.0), on any domains and any snapshot file.
// Its answers come in batches (harness/libvirt-tests-run.ts): `prepare` runs the whole
// set up front, one program per (snapshot, mode), and `translate` only looks them up.
// Where the harness's stand-in host answers what real libvirt would not (it forces vfio on
// PCI hostdevs without <driver>, it presets numad's advice, it cannot know <vf-token>), the
// entry is skipped with that reason: its answer says nothing about the input.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCaseBytes } from './cases.js';
import { excuseNetdev } from './libvirt.js';
import { isVirtgoldRefusal, OWN_REFUSAL } from './refusals.js';
import { hasNativeNics, nativeNicTrace, passedToCommandLine } from './native-nics.js';
import { writeNativeNicInputs } from './native-nics-run.js';
import { withVfioDriver } from './libvirt-tests.js';
import { HARNESS_PROGRAMS, harnessDir, HarnessUnavailable, runHarness } from './libvirt-tests-run.js';
import { scratchDir } from './scratch.js';
import type { Adapter, MatrixEntry, Outcome, Snapshot } from './types.js';

export const LIBVIRT_TESTS_NAME = "libvirt-tests (libvirt 9.0.0's qemuxml2argvtest/qemuxml2xmltest)";

/** Automatic NUMA placement (<vcpu> or <numatune><memory>): libvirt asks numad for advice. */
const AUTO_PLACEMENT = /<(?:vcpu|memory)\b[^>]*\bplacement\s*=\s*(['"])auto\1/;

/** Why the harness's answer says nothing about this input, if it does not. */
export function harnessCannot(mode: MatrixEntry['mode'], xml: string): string | undefined {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  if (/<vf-token\b/.test(text)) return 'libvirt 9.0.0 has no vf-token support';
  if (mode !== 'xml2argv') return undefined;
  if (withVfioDriver(text) !== text) {
    return "libvirt's harness forces vfio on PCI hostdevs without <driver> (real libvirt's domxml-to-native refuses them)";
  }
  if (AUTO_PLACEMENT.test(text)) return "libvirt's harness presets numad's advice for automatic placement (real libvirt asks numad on the host)";
  return undefined;
}

/** The harness's answer on an input with rebuilt interfaces, in the goldens' terms. */
const traced = (a: Outcome | string, xml: string): Outcome | string =>
  typeof a !== 'string' && a.kind === 'output' ? { kind: 'output', text: nativeNicTrace(xml, a.text) } : a;

export interface Job {
  entry: MatrixEntry;
  xml: string;
}

const keyOf = (e: MatrixEntry) => `${e.snapshot.path}\0${e.mode}\0${e.case.path}`;

/** Groups of jobs for one program run each: same snapshot, same mode. */
export function batches(jobs: Job[]): { snapshot: Snapshot; mode: MatrixEntry['mode']; entries: MatrixEntry[] }[] {
  const groups = new Map<string, { snapshot: Snapshot; mode: MatrixEntry['mode']; entries: MatrixEntry[] }>();
  for (const { entry } of jobs) {
    const k = `${entry.snapshot.path}\0${entry.mode}`;
    if (!groups.has(k)) groups.set(k, { snapshot: entry.snapshot, mode: entry.mode, entries: [] });
    groups.get(k)!.entries.push(entry);
  }
  return [...groups.values()];
}

/** libvirt's test harness; `dir` holds its two programs (default: $VIRTGOLD_LIBVIRT_TESTS,
 *  or built into the cache now by scripts/libvirt-harness.sh). */
export async function libvirtTestsAdapter(dir?: string): Promise<Adapter> {
  const programs = dir ?? (await harnessDir());
  for (const { bin } of Object.values(HARNESS_PROGRAMS)) {
    if (!existsSync(join(programs, bin))) throw new HarnessUnavailable(`libvirt's test harness: no ${bin} in ${programs}`);
  }
  // removed by close(), and on a signal; kept (and shown) when the harness was in trouble
  const scratch = scratchDir('virtgold-libvirt-tests-');
  const work = scratch.path;
  const inDir = join(work, 'in');
  mkdirSync(inDir);
  const ids = new Map<string, string>(); // domain file → its name for the harness
  const answers = new Map<string, Promise<Outcome>>();
  // snapshot, mode, id → the harness's answer on the rebuilt input: xml2argv's only (an
  // xml2xml entry given it was answered with a command line)
  const nativeOf = new Map<string, Outcome | string>();
  const nativeKey = (snapshot: Snapshot, mode: MatrixEntry['mode'], id: string) => `${snapshot.path}\0${mode}\0${id}`;
  let troubled = false;

  const idOf = (e: MatrixEntry): string => {
    let id = ids.get(e.case.path);
    if (!id) {
      id = `d${ids.size}`;
      ids.set(e.case.path, id);
      writeFileSync(join(inDir, `${id}.xml`), readCaseBytes(e)); // its bytes: libvirt judges their encoding
    }
    return id;
  };

  const prepare = async (jobs: Job[]): Promise<void> => {
    const todo = jobs.filter((j) => !answers.has(keyOf(j.entry)) && !harnessCannot(j.entry.mode, j.xml));
    const xmlOf = new Map(todo.map((j) => [keyOf(j.entry), j.xml]));
    const list = batches(todo);
    const runs = new Map<string, Promise<Map<string, Outcome | string>>>();
    // two programs at a time: CI machines have 2 cores
    const lane: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
    for (const [i, g] of list.entries()) {
      // domxml-to-native rebuilds the interfaces: the harness also gets the input rebuilt so
      // (harness/native-nics*.ts), and its answer there stands for the input's
      const nicCases = g.mode === 'xml2argv' ? g.entries.filter((e) => hasNativeNics(xmlOf.get(keyOf(e))!)).map(idOf) : [];
      const run = lane[i % 2]!.then(async () => {
        const nicIds = await writeNativeNicInputs(programs, work, inDir, g.snapshot, nicCases);
        const got = await runHarness(programs, work, inDir, g.snapshot, g.mode, [...g.entries.map(idOf), ...nicIds.values()]);
        for (const [id, nid] of nicIds) nativeOf.set(nativeKey(g.snapshot, g.mode, id), got.get(nid)!);
        return got;
      });
      lane[i % 2] = run.catch(() => undefined);
      runs.set(`${g.snapshot.path}\0${g.mode}`, run);
    }
    for (const g of list) {
      const run = runs.get(`${g.snapshot.path}\0${g.mode}`)!;
      for (const e of g.entries) {
        answers.set(keyOf(e), run.then((m) => {
          const native = nativeOf.get(nativeKey(g.snapshot, g.mode, idOf(e)));
          const xml = xmlOf.get(keyOf(e))!;
          const orig = m.get(idOf(e))!;
          const a = native !== undefined && passedToCommandLine(orig, xml) ? traced(native, xml) : orig;
          if (typeof a !== 'string') return a;
          troubled = true;
          return { kind: 'crash', message: a } satisfies Outcome;
        }, (err: Error) => {
          troubled = true;
          return { kind: 'crash', message: err.message } satisfies Outcome;
        }));
      }
    }
    await Promise.all(runs.values()).catch(() => undefined);
  };

  return {
    name: LIBVIRT_TESTS_NAME,
    skip(entry, xml, expected) {
      // run: a golden that is virtgold's own refusal is no claim about libvirt
      if (expected?.kind === 'error' && isVirtgoldRefusal(expected.text)) return OWN_REFUSAL;
      return harnessCannot(entry.mode, xml);
    },
    prepare,
    // -netdev values: domxml-to-native's are placeholders (see excuseNetdev)
    normalize: (entry, text) => (entry.mode === 'xml2argv' ? excuseNetdev(text) : text),
    async translate(entry, xml) {
      if (!answers.has(keyOf(entry))) await prepare([{ entry, xml }]); // one at a time: slow, but right
      return answers.get(keyOf(entry))!;
    },
    async close() {
      if (troubled) {
        scratch.keep();
        console.error(`libvirt-tests: libvirt's raw answers and logs: ${work}`);
      } else scratch.remove();
    },
  };
}
