// `virtgold reduce [--translator… ] [--reference… ] --caps FILE [--mode MODE] [--out
// cases/AREA/NAME.xml] DOMAIN.xml`: the command around harness/reduce.ts. The reduced
// domain goes to stdout, or to a new case (written atomically, never over a file).
import { XMLValidator } from 'fast-xml-parser';
import { readFileSync, linkSync, unlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from './args.js';
import { MODES, type Mode } from '../translator/index.js';
import { builtinAdapterWith } from './adapters.js';
import { domainArch, namedVersion } from './cases.js';
import { at, closeDir, openDir, writeAtomicIn } from './confine.js';
import { SetupError, UsageError } from './errors.js';
import { readCaps } from './io.js';
import { lookupGolden, relStemOf } from './goldens.js';
import { shellQuote } from './failure-context.js';
import { judge, runBuiltin } from './judge.js';
import { findProject } from './project.js';
import { reduce } from './reduce.js';
import { chooseAdapter, timeoutAndJobs } from './run.js';
import type { MatrixEntry, Snapshot } from './types.js';
import { undefineLeftovers } from './virsh.js';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** Where --out puts the case: its folder and name relative to the project, checked. */
export function caseTarget(out: string, root: string, cwd = process.cwd()): { dir: string; name: string; rel: string } {
  const rel = relative(root, resolve(cwd, out)).split('\\').join('/');
  const parts = rel.split('/');
  if (parts[0] !== 'cases' || parts.length < 3 || !rel.endsWith('.xml')) {
    throw new UsageError(`--out must name a new case, cases/AREA/NAME.xml inside the project ${root} (got ${out})`);
  }
  const segments = [...parts.slice(1, -1), parts.at(-1)!.slice(0, -'.xml'.length)];
  if (!segments.every((s) => SEGMENT.test(s)) || segments.at(-1) === 'options') {
    throw new UsageError(`--out: case and folder names use letters, digits, '.', '_', '+', '-' (and a case cannot be called 'options'): ${rel}`);
  }
  return { dir: dirname(rel), name: basename(rel), rel };
}

/** TEXT as ROOT/REL, atomically, refusing to replace anything already there. */
export function writeNewCase(root: string, target: { dir: string; name: string; rel: string }, text: string): void {
  const d = openDir(root, target.dir, true)!;
  const tmp = `.${target.name}.reduce`;
  try {
    writeAtomicIn(d, tmp, text);
    try {
      linkSync(at(d, tmp), at(d, target.name)); // fails when the name is taken, even by a link
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new SetupError(`${target.rel} already exists; reduce writes only new cases`);
      throw e;
    }
  } finally {
    try { unlinkSync(at(d, tmp)); } catch { /* never made */ }
    closeDir(d);
  }
}

/** `--reference golden`: the domain is a case of the project, and its goldens on the
 *  snapshot are what the reference translator gives for it, which then stands in for them
 *  on the smaller domains (a golden exists only for the input it was written for). */
export function checkGoldens(root: string, domain: string, xml: string, snapshot: Snapshot, modes: Mode[]): void {
  const rel = relative(join(root, 'cases'), domain);
  if (rel.startsWith('..') || isAbsolute(rel) || !rel.endsWith('.xml')) throw new UsageError(`--reference golden: the domain must be a case of the project (${join(root, 'cases')}/…)`);
  const name = rel.slice(0, -'.xml'.length).split('\\').join('/');
  let found = 0;
  for (const mode of modes) {
    const relStem = relStemOf(mode, name, snapshot.arch, snapshot.version);
    const entry: MatrixEntry = { case: { name, path: domain, arch: snapshot.arch, options: {} }, snapshot, mode, stem: join(root, relStem), relStem };
    const g = lookupGolden(entry);
    if (typeof g === 'string') continue;
    found++;
    if (!judge(runBuiltin(mode, snapshot.path, xml), g).ok) {
      throw new SetupError(`--reference golden: ${g.rel} is not what the reference translator now gives for cases/${name}.xml (virtgold update --check lists it); reduce needs a translator that stands for the golden on smaller domains`);
    }
  }
  if (!found) throw new SetupError(`--reference golden: cases/${name}.xml has no golden on ${snapshot.arch} ${snapshot.version}${modes.length === 1 ? ` in ${modes[0]}` : ''}`);
}

export async function reduceCommand(argv: string[], cwd = process.cwd()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        translator: { type: 'string' }, 'translator-cmd': { type: 'string' }, 'translator-worker': { type: 'string' },
        reference: { type: 'string' }, 'reference-cmd': { type: 'string' }, 'reference-worker': { type: 'string' },
        caps: { type: 'string' }, mode: { type: 'string' }, out: { type: 'string' }, root: { type: 'string' },
        timeout: { type: 'string' }, 'max-output': { type: 'string' }, 'max-tests': { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('reduce: name one domain file');
  if (!v.caps) throw new UsageError('reduce: --caps FILE is required (the snapshot both sides get)');
  if (v.mode !== undefined && !MODES.includes(v.mode as Mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')} (got '${v.mode}')`);
  const maxTests = v['max-tests'] === undefined ? undefined : Number(v['max-tests']);
  if (maxTests !== undefined && (!Number.isInteger(maxTests) || maxTests < 1)) throw new UsageError('--max-tests takes a positive whole number');
  const limits = timeoutAndJobs({ ...v, jobs: '1' });
  // Checked before anything runs: a reduction can take minutes.
  const target = v.out === undefined ? undefined : caseTarget(v.out, findProject(v.root, cwd), cwd);
  const root = target && findProject(v.root, cwd);
  const domain = resolve(cwd, positionals[0]!);
  let xml: string;
  try {
    xml = readFileSync(domain, 'utf8');
  } catch (e) {
    throw new SetupError(`reduce: cannot read ${positionals[0]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // Reduced as a tree of elements: a document that is not one cannot be.
  const wf = XMLValidator.validate(xml);
  if (wf !== true) throw new SetupError(`reduce: ${positionals[0]} is not well-formed XML (line ${wf.err.line}: ${wf.err.msg}); reduce works on elements and attributes`);
  const capsPath = resolve(cwd, v.caps);
  let snapshot: Snapshot;
  try {
    const caps = readCaps(capsPath);
    snapshot = { arch: caps.arch, version: namedVersion(capsPath, caps.arch) ?? `${caps.version.major}.${caps.version.minor}.0`, path: capsPath };
  } catch (e) {
    throw new SetupError(`--caps: ${(e as Error).message}`);
  }
  const modes = v.mode ? [v.mode as Mode] : MODES;
  const golden = v.reference === 'golden';
  if (golden && (v['reference-cmd'] !== undefined || v['reference-worker'] !== undefined)) throw new UsageError('use one of --reference, --reference-cmd, --reference-worker');
  if (golden) checkGoldens(findProject(v.root, cwd), domain, xml, snapshot, modes);
  const translator = (await chooseAdapter('translator', v, limits)) ?? builtinAdapterWith(limits.timeout);
  const reference = golden ? builtinAdapterWith(limits.timeout) : (await chooseAdapter('reference', v, limits)) ?? builtinAdapterWith(limits.timeout);
  const tty = process.stderr.isTTY === true;
  let result;
  try {
    result = await reduce({
      xml, snapshot, arch: domainArch(xml), modes, translator, reference, maxTests,
      onProgress: tty ? (n, now) => process.stderr.write(`\r${n} tests: ${now.elements} elements, ${now.attributes} attributes\x1b[K`) : undefined,
    });
  } finally {
    if (tty) process.stderr.write('\r\x1b[K');
    await Promise.all([translator.close?.(), reference.close?.()]);
    if (translator.drivesHost || reference.drivesHost) await undefineLeftovers();
  }
  if (target && root) writeNewCase(root, target, result.xml);
  else process.stdout.write(result.xml);
  const n = (s: { elements: number; attributes: number }) => `${s.elements} elements, ${s.attributes} attributes`;
  process.stderr.write([
    `reduced ${positionals[0]} (${result.mode}) from ${n(result.before)} to ${n(result.after)} in ${result.tests} tests${result.cutShort ? ' (stopped at --max-tests: it may reduce further)' : ''}`,
    `disagreement kept: ${result.kind}`,
    `  translator (${translator.name}): ${result.translator}`,
    `  reference (${reference.name}): ${result.reference}`,
    ...(result.diff ? [result.diff.trimEnd()] : []),
    ...(target ? [`wrote ${target.rel} (virtgold update${v.root === undefined ? '' : ` --root ${shellQuote(v.root)}`} --case ${target.rel.slice('cases/'.length, -'.xml'.length)} writes its goldens)`] : []),
  ].join('\n') + '\n');
  return 0;
}
