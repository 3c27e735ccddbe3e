// The data the harness passes around: cases, snapshots, matrix entries, filters, what a
// translator made of an entry, the golden it is held to, and the translator interface.
import type { Mode } from '../translator/index.js';

export type { Mode };

export interface Snapshot {
  arch: string;
  version: string;
  path: string;
}

export interface CaseOptions {
  /** restrict to these snapshot versions (e.g. ["8.1.0"]) */
  versions?: string[];
  /** restrict to these modes */
  modes?: Mode[];
  /** why xml2xml output is not a fixed point for this case (real libvirt's isn't either) */
  notIdempotent?: string;
  /** why the input does not validate against libvirt's schema + the vf-token overlay on
   *  purpose (libvirt's parser is laxer than its schema, or the case tests a refusal) */
  schemaInvalid?: string;
}

export interface Case {
  /** the path under cases/ without .xml, e.g. "hostdev/vfio" */
  name: string;
  path: string;
  arch: string;
  options: CaseOptions;
}

export interface MatrixEntry {
  case: Case;
  snapshot: Snapshot;
  mode: Mode;
  /** golden file stem, without extension: <root>/golden/<mode>/<case>.<arch>-<version> */
  stem: string;
  /** the same, relative to the project root */
  relStem: string;
}

/** Each list is a union: an entry is selected when it matches any value of every list given. */
export interface Filters {
  case?: string[];
  arch?: string[];
  version?: string[];
  mode?: Mode[];
}

/** What a translator made of one entry. */
export type Outcome =
  | { kind: 'output'; text: string }
  | { kind: 'error'; text: string } // a translation error: compared with an .err golden
  | { kind: 'crash'; message: string }; // a bug: never written as a golden

/** What an outcome is held to: a golden file, or what an adapter puts in its place. */
export interface Golden {
  /** where it comes from: golden/<mode>/<case>.<arch>-<version>.<ext>, or a description */
  rel: string;
  kind: 'output' | 'error';
  text: string;
}

/** A translator under test. */
export interface Adapter {
  name: string;
  /** the reference translator itself: held to its own `unsupported` refusals, which every
   *  other translator skips (harness/refusals.ts) */
  reference?: boolean;
  /** whether the runner also checks that xml2xml output is a fixed point (reference translator) */
  checksIdempotence?: boolean;
  /** what the entry is compared with when not its golden file; a string says why there is nothing */
  expected?(entry: MatrixEntry, xml: string): Golden | string | undefined;
  /** undefined: run it; a string: skip this entry, with that reason */
  skip?(entry: MatrixEntry, xml: string, expected: Golden | undefined): string | undefined;
  translate(entry: MatrixEntry, xml: string): Promise<Outcome>;
  /** all the entries it will be asked, before the first: for a translator that answers in
   *  batches (libvirt's test harness); translate still works without it */
  prepare?(jobs: { entry: MatrixEntry; xml: string }[]): Promise<void>;
  /** real libvirt: only the snapshots of the host's QEMU, one call at a time */
  drivesHost?: boolean;
  /** applied to both sides before comparing: what the contract excuses for this translator */
  normalize?(entry: MatrixEntry, text: string): string;
  /** why a translation error of this translator depends on the host rather than on the
   *  input and snapshot (a missing file, device, secret, firmware, …), if it does */
  hostSpecific?(errorText: string): string | undefined;
  /** problems found after an entry was answered (a worker answering it twice): the
   *  runner marks those entries broken once all are done */
  lateProblems?(): LateProblem[];
  close?(): Promise<void>;
}

export interface LateProblem {
  entry: MatrixEntry;
  message: string;
}

// ---- virtgold compare ----

/** The class of one (input, direction) in a compare (harness/classify.ts decides). */
export type Class = 'same' | 'refused' | 'differs' | 'message' | 'broken' | 'skipped';

/** One side of a compare: its outcome, or why it was not asked. */
export type SideOutcome = Outcome | { kind: 'not-run'; reason: string };

export interface Verdict {
  class: Class;
  /** refused: the translator's words; skipped, broken, differs: why; message: both messages */
  reason?: string;
  /** differs: a unified diff, reference first */
  diff?: string;
}

export interface CompareInput {
  /** as shown: the path relative to the working directory, or absolute outside it */
  name: string;
  path: string;
  arch: string;
  xml: string;
}

export interface CompareResult extends Verdict {
  input: CompareInput;
  mode: Mode;
  /** the snapshot both sides got; undefined when there is none for this domain */
  snapshot?: Snapshot;
  translator?: SideOutcome;
  reference?: SideOutcome;
  ms: number;
  /** time each side took (where the time of a compare goes) */
  sideMs?: { translator: number; reference: number };
}

export interface CompareRun {
  translator: string;
  reference: string;
  results: CompareResult[];
  /** time each side took answering in batches before the first entry (libvirt's harness) */
  batchMs?: { translator: number; reference: number };
  ms: number;
}
