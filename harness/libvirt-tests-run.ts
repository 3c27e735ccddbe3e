// Running libvirt 9.0.0's own test programs (tests/qemuxml2argvtest, tests/qemuxml2xmltest,
// in the record mode of scripts/libvirt-harness.patch) on many domains at once: one
// process per (snapshot, mode) for a whole batch, since starting one costs far more than
// a domain. Used by npm run interop:snapshots (the 8.x goldens) and by the libvirt-tests
// adapter (virtgold compare on any domains).
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInProgress, guarded, guardOf, guardProblem } from './harness-lock.js';
import { capsForLibvirt, normalizeHarnessOutcome } from './libvirt-tests.js';
import type { Mode, Outcome, Snapshot } from './types.js';

export const HARNESS_PROGRAMS: Record<Mode, { bin: string; ext: string }> = {
  xml2argv: { bin: 'qemuxml2argvtest', ext: 'args' },
  xml2xml: { bin: 'qemuxml2xmltest', ext: 'xml' },
};

/** The harness cannot be had or run at all (not one domain's problem). */
export class HarnessUnavailable extends Error {}

const buildScript = fileURLToPath(new URL('../scripts/libvirt-harness.sh', import.meta.url));

/** The directory of the two test programs: $VIRTGOLD_LIBVIRT_TESTS, or built (and cached)
 *  by scripts/libvirt-harness.sh now, its progress on stderr. */
export async function harnessDir(log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  const given = process.env.VIRTGOLD_LIBVIRT_TESTS;
  if (given) return given;
  const t0 = performance.now();
  const r = await execa(buildScript, { reject: false, stdin: 'ignore', stdout: 'pipe', stderr: ['pipe', 'inherit'] });
  if (r.exitCode !== 0) {
    // its last line says why
    const why = r.stderr.trimEnd().split('\n').pop()?.replace(/^libvirt-harness: /, '') || `exit ${r.exitCode ?? r.signal}`;
    throw new HarnessUnavailable(`cannot build libvirt 9.0.0's test harness: ${why}`);
  }
  const dir = r.stdout.trim();
  guardOf(dir); // the build this process uses: its programs refuse to run another one
  log(`libvirt 9.0.0's test harness ready (${((performance.now() - t0) / 1000).toFixed(1)} s): ${dir}`);
  return dir;
}

/** A program's allowance: a start, then a little per domain (it takes milliseconds each). */
const timeoutFor = (n: number) => 120_000 + 1_000 * n;

/** libvirt's answer for each of `ids` (domains already in `inDir` as ID.xml) on one
 *  snapshot in one mode, normalized as the goldens are laid out; or why there is none.
 *  A program that dies on a domain (signal, timeout) costs that domain only: the rest of
 *  the batch is run again without it. Raw answers and logs stay under `work`. */
export async function runHarness(dir: string, work: string, inDir: string, snapshot: Snapshot, mode: Mode, ids: string[], sub: string = mode): Promise<Map<string, Outcome | string>> {
  const { bin, ext } = HARNESS_PROGRAMS[mode];
  const base = join(work, `${snapshot.arch}-${snapshot.version}`);
  mkdirSync(base, { recursive: true });
  // A folder of its own per call (SUB-XXXXXX: its answers, its copy of the snapshot, its
  // logs): calls may overlap, and an answer file already there would be compared, not
  // written. Nothing is shared with another call, or another process: the programs keep
  // their own state in folders they make with mkdtemp.
  const own = mkdtempSync(join(base, `${sub}-`));
  const out = join(own, 'out');
  mkdirSync(out);
  const caps = join(own, 'caps.xml');
  writeFileSync(caps, capsForLibvirt(readFileSync(snapshot.path, 'utf8')));
  const rel = `capabilities/caps_${snapshot.version}_${snapshot.arch}.xml`;
  const results = new Map<string, Outcome | string>();
  let left = ids;
  const guard = guardOf(dir);
  if (guard && (await buildInProgress(guard))) console.error(`libvirt-tests: waiting for a build of libvirt's test harness to finish (${guard.lock} is held)`);
  const program = guard ? guarded(guard, join(dir, bin)) : { file: join(dir, bin), args: [] };
  for (let round = 0; left.length; round++) {
    const r = await execa(program.file, program.args, {
      reject: false, stdin: 'ignore', all: true, cwd: own, timeout: timeoutFor(left.length),
      env: {
        VIRTGOLD_CASES: left.join(' '), VIRTGOLD_CAPS: caps, VIRTGOLD_ARCH: snapshot.arch,
        VIRTGOLD_IN: inDir, VIRTGOLD_OUT: out, VIR_TEST_REGENERATE_OUTPUT: '1',
      },
    });
    const log = join(own, `${sub}${round ? `.${round}` : ''}.log`);
    writeFileSync(log, r.all ?? '');
    const refused = guard && guardProblem(guard, r.exitCode, dir);
    if (refused) throw new HarnessUnavailable(refused);
    if (r.failed && r.exitCode === undefined && !r.signal && !r.timedOut) {
      throw new HarnessUnavailable(`${bin} could not run: ${(r as { shortMessage?: string }).shortMessage ?? r.message}`);
    }
    const rejected = /^VIRTGOLD-CAPS: (.*)$/m.exec(r.all ?? '')?.[1];
    const answer = (id: string): Outcome | undefined => {
      const file = (x: string) => join(out, `${id}.${x}`);
      if (existsSync(file(ext))) return normalizeHarnessOutcome(mode, { kind: 'output', text: readFileSync(file(ext), 'utf8') });
      if (existsSync(file('err'))) return normalizeHarnessOutcome(mode, { kind: 'error', text: readFileSync(file('err'), 'utf8') });
      return undefined;
    };
    const died = r.signal || r.timedOut ? (r.timedOut ? 'timed out' : `was killed by ${r.signal}`) : undefined;
    // The domains are done in order: the first without an answer is the one it died on.
    const at = died && !rejected ? left.findIndex((id) => !answer(id)) : -1;
    for (const [i, id] of left.entries()) {
      if (at >= 0 && i > at) break;
      const a = rejected ? undefined : answer(id);
      if (rejected) results.set(id, `libvirt's loader rejects ${rel}: ${rejected}`);
      else if (a) results.set(id, a);
      else if (i === at) results.set(id, `libvirt's ${bin} ${died} on it (log: ${log})`);
      else results.set(id, `libvirt's ${bin} recorded no answer (exit ${r.exitCode ?? r.signal}; log: ${log})`);
    }
    left = at >= 0 ? left.slice(at + 1) : [];
  }
  return results;
}
