// Validation against libvirt 9.0.0's RELAX NG domain schema plus virtgold's vf-token
// overlay (schema/domain.rng), with libxml2 compiled to WebAssembly (libxml2-wasm).
//
// libvirt's schema is never copied into the repository: it is read where Debian
// installs it (/usr/share/libvirt/schemas, package libvirt0, which libvirt-clients
// pulls in), or from VIRTGOLD_LIBVIRT_SCHEMAS. libxml2-wasm is imported only when a
// schema is first loaded, so commands that do not validate never pay for it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverCases } from './cases.js';
import { SetupError } from './errors.js';
import { existingGoldens } from './goldens.js';
import { readInside, readInsideBytes } from './confine.js';
import type { Verdict } from './judge.js';
import type { Case, MatrixEntry, Outcome } from './types.js';

/** Where Debian 12 installs libvirt's schemas; the overlay's include names this path. */
export const DEBIAN_SCHEMAS = '/usr/share/libvirt/schemas';
/** virtgold's overlay: libvirt's domain.rng plus <vf-token>. */
export const OVERLAY = fileURLToPath(new URL('../schema/domain.rng', import.meta.url));
/** The schemas' name in messages. */
export const SCHEMA_NAME = "libvirt 9.0.0's domain schema + schema/domain.rng";

export const libvirtSchemaDir = (env: NodeJS.ProcessEnv = process.env) => resolve(env.VIRTGOLD_LIBVIRT_SCHEMAS || DEBIAN_SCHEMAS);

/** Why the schema cannot be loaded from `dir`, or undefined when it can. */
export function schemaUnavailable(dir = libvirtSchemaDir()): string | undefined {
  if (!existsSync(join(dir, 'domain.rng'))) {
    return `libvirt's RELAX NG schema is not installed: ${join(dir, 'domain.rng')} is missing (Debian: apt-get install libvirt-clients; or set VIRTGOLD_LIBVIRT_SCHEMAS to the directory holding domain.rng)`;
  }
  if (!existsSync(OVERLAY)) return `virtgold's schema overlay ${OVERLAY} is missing`;
  return undefined;
}

export interface Schema {
  /** libvirt's schema directory it was built from */
  dir: string;
  /** undefined when the document validates, else one line naming the offending element;
   *  bytes are read as libxml2 reads a file (its XML declaration names the encoding) */
  validate(xml: string | Uint8Array): string | undefined;
  /** whether it validates, without looking for the element to blame */
  valid(xml: string | Uint8Array): boolean;
}

type Lib = typeof import('libxml2-wasm');
let lib: Promise<{ x: Lib; files: InstanceType<Lib['XmlBufferInputProvider']> }> | undefined;
const loaded = new Map<string, Promise<Schema>>();

/** libxml2-wasm, once per process, with an input provider that serves only the schema
 *  files we hand it: documents under validation can make libxml2 read nothing else. */
function libxml2() {
  lib ??= import('libxml2-wasm').then((x) => {
    const files = new x.XmlBufferInputProvider({});
    x.xmlRegisterInputProvider(files);
    return { x, files };
  });
  return lib;
}

/** The schema built from libvirt's files in `dir` (cached). Throws SetupError saying why
 *  when it cannot be had. */
export function loadSchema(dir = libvirtSchemaDir()): Promise<Schema> {
  let s = loaded.get(dir);
  if (!s) {
    s = compile(dir);
    loaded.set(dir, s);
    s.catch(() => loaded.delete(dir)); // a later call may find it installed
  }
  return s;
}

async function compile(dir: string): Promise<Schema> {
  const why = schemaUnavailable(dir);
  if (why) throw new SetupError(why);
  const { x, files } = await libxml2();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.rng'))) files.addBuffer(join(dir, f), readFileSync(join(dir, f)));
  // The overlay names Debian's path; another directory is substituted in memory.
  const overlay = readFileSync(OVERLAY, 'utf8').replace(`href="${DEBIAN_SCHEMAS}/domain.rng"`, `href="${join(dir, 'domain.rng')}"`);
  let validator: InstanceType<Lib['RelaxNGValidator']>;
  const rng = x.XmlDocument.fromString(overlay, { url: OVERLAY });
  try {
    validator = x.RelaxNGValidator.fromDoc(rng);
  } catch (e) {
    throw new SetupError(`cannot compile ${SCHEMA_NAME} from ${dir}: ${firstLine(e)}`);
  } finally {
    rng.dispose();
  }
  return { dir, validate: (xml) => validate(x, validator, xml, true), valid: (xml) => validate(x, validator, xml, false) === undefined };
}

const firstLine = (e: unknown) => {
  const d = (e as { details?: { message: string }[] }).details;
  return (d?.[0]?.message ?? (e as Error).message ?? String(e)).trim().split('\n')[0]!;
};

/** Whether the document validates; a document that is not even XML counts as invalid. */
function valid(x: Lib, v: InstanceType<Lib['RelaxNGValidator']>, doc: InstanceType<Lib['XmlDocument']>): boolean {
  try {
    v.validate(doc);
    return true;
  } catch (e) {
    if (e instanceof x.XmlValidateError) return false;
    throw e;
  }
}

function validate(x: Lib, v: InstanceType<Lib['RelaxNGValidator']>, xml: string | Uint8Array, explain: boolean): string | undefined {
  let doc: InstanceType<Lib['XmlDocument']>;
  try {
    doc = typeof xml === 'string' ? x.XmlDocument.fromString(xml) : x.XmlDocument.fromBuffer(xml);
  } catch (e) {
    const d = (e as { details?: { message: string; line: number }[] }).details?.[0];
    return `not well-formed XML${d ? ` at line ${d.line}: ${d.message.trim()}` : `: ${firstLine(e)}`}`;
  }
  try {
    v.validate(doc);
    return undefined;
  } catch (e) {
    if (!(e instanceof x.XmlValidateError)) throw e;
    return explain ? culprit(x, v, typeof xml === 'string' ? xml : Buffer.from(xml).toString('utf8')) ?? libxml2Says(e.details) : 'invalid';
  } finally {
    doc.dispose();
  }
}

// Past this many elements the search below would take long; libxml2's own words then.
const SEARCH_LIMIT = 400;

/** libxml2 reports a bad child of an <interleave> (most of libvirt's schema) only as
 *  "Extra element devices in interleave" on an ancestor. To name the element itself,
 *  find the last element whose removal makes the document valid (so the second of two
 *  <vf-token>s, and the <driver> rather than its <hostdev>), then the attribute whose
 *  removal does. Runs only on invalid documents: one parse and validation per try. */
function culprit(x: Lib, v: InstanceType<Lib['RelaxNGValidator']>, xml: string): string | undefined {
  const tryWith = <T>(edit: (els: InstanceType<Lib['XmlElement']>[]) => T): { ok: boolean; got: T } => {
    const doc = x.XmlDocument.fromString(xml);
    try {
      const got = edit(doc.find('//*') as InstanceType<Lib['XmlElement']>[]);
      return { ok: valid(x, v, doc), got };
    } finally {
      doc.dispose();
    }
  };
  const count = tryWith((els) => els.length).got;
  if (count > SEARCH_LIMIT) return undefined;
  for (let i = count - 1; i > 0; i--) {
    const removed = tryWith((els) => {
      const el = els[i]!;
      const what = { name: el.name, line: el.line, path: pathOf(el), attrs: el.attrs.map((a) => ({ name: a.name, value: a.value })) };
      el.remove();
      return what;
    });
    if (!removed.ok) continue;
    const { name, line, path, attrs } = removed.got;
    const tag = `<${[name, ...attrs.map((a) => `${a.name}='${clip(a.value)}'`)].join(' ')}>`;
    const where = `${tag} at line ${line} (${path})`;
    const bad = attrs.findIndex((_, j) => tryWith((els) => els[i]!.attrs[j]!.remove()).ok);
    if (bad >= 0) return `${where}: attribute ${attrs[bad]!.name} is not allowed there or its value is invalid`;
    return `${where}: not allowed there, or an attribute or child of it is missing, extra or malformed`;
  }
  return undefined;
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}...` : s).replace(/[\r\n\t]/g, ' ');

/** An element's path: /domain/devices/hostdev[2]/source/address. */
function pathOf(el: { name: string; parent: unknown }): string {
  const parts: string[] = [];
  for (let e = el as InstanceType<Lib['XmlElement']> | null; e; e = e.parent) {
    if (!e.parent) {
      parts.unshift(e.name);
      break;
    }
    const same = (e.parent.find('*') as InstanceType<Lib['XmlElement']>[]).filter((s) => s.name === e!.name);
    parts.unshift(same.length > 1 ? `${e.name}[${same.findIndex((s) => s.isSameNode(e!)) + 1}]` : e.name);
  }
  return `/${parts.join('/')}`;
}

/** libxml2's most specific message: the last one that names a place. */
function libxml2Says(details: { message: string; line: number; xpath?: string }[]): string {
  const d = [...details].reverse().find((m) => m.xpath) ?? details[0];
  if (!d) return 'does not validate';
  return `does not validate: ${d.message.trim()}${d.xpath ? ` (${d.xpath}${d.line ? `, line ${d.line}` : ''})` : ''}`;
}

/** A case input against the schema, taking its schemaInvalid mark into account:
 *  undefined when all is as it should be, else the problem in one line. */
export function checkCaseInput(schema: Schema, c: Case, xml: string | Uint8Array): string | undefined {
  const rel = `cases/${c.name}.xml`;
  if (c.options.schemaInvalid !== undefined) {
    return schema.valid(xml) ? `${rel} is marked schemaInvalid ("${c.options.schemaInvalid}") but validates against ${SCHEMA_NAME}; remove the mark` : undefined;
  }
  const why = schema.validate(xml);
  return why && `${rel}: ${why} (if that is on purpose, say why in its options: "schemaInvalid": "…")`;
}

export interface CorpusReport {
  cases: number;
  /** cases marked schemaInvalid that are indeed invalid */
  invalidOnPurpose: number;
  goldens: number;
  problems: string[];
  ms: number;
}

/** Every case input (except those invalid on purpose) and every .xml golden of the
 *  project against the schema (npm run interop, and the fast test suite). */
export function checkCorpus(root: string, schema: Schema): CorpusReport {
  const start = performance.now();
  const problems: string[] = [];
  const cases = discoverCases(root);
  let invalidOnPurpose = 0;
  for (const c of cases) {
    const p = checkCaseInput(schema, c, readInsideBytes(root, c.path) ?? '');
    if (p) problems.push(p);
    else if (c.options.schemaInvalid !== undefined) invalidOnPurpose++;
  }
  const goldens = existingGoldens(root).filter((p) => p.endsWith('.xml'));
  for (const g of goldens) {
    const why = schema.validate(readInside(root, g) ?? '');
    if (why) problems.push(`${relative(root, g)}: ${why}`);
  }
  return { cases: cases.length, invalidOnPurpose, goldens: goldens.length, problems, ms: performance.now() - start };
}

export const formatCorpusReport = (r: CorpusReport) =>
  `${r.problems.map((p) => `FAIL schema: ${p}\n`).join('')}schema: ${r.cases} case inputs (${r.invalidOnPurpose} invalid on purpose) and ${r.goldens} .xml goldens against ${SCHEMA_NAME} in ${(r.ms / 1000).toFixed(2)} s: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}\n`;

/** For `run --schema`: the entry's input (once per case) and its xml2xml output. */
export function schemaCheck(schema: Schema): (entry: MatrixEntry, xml: string, outcome: Outcome) => Verdict {
  const inputs = new Map<string, string | undefined>();
  return (entry, xml, outcome) => {
    if (!inputs.has(entry.case.path)) inputs.set(entry.case.path, checkCaseInput(schema, entry.case, xml));
    const input = inputs.get(entry.case.path);
    if (input) return { ok: false, message: `schema: input ${input}` };
    if (entry.mode !== 'xml2xml' || outcome.kind !== 'output') return { ok: true };
    const why = schema.validate(outcome.text);
    return why ? { ok: false, message: `schema: xml2xml output: ${why}` } : { ok: true };
  };
}
