// `virtgold coverage [--root DIR] [--reporter pretty|json[:FILE]]… [AREA…]`: the table of
// harness/coverage.ts, with the uncovered names of each area listed.
import { XMLValidator } from 'fast-xml-parser';
import { parseArgs } from './args.js';
import { discoverCases } from './cases.js';
import { readInside } from './confine.js';
import { coverageOf, documentAreas, domainGrammar, loadGrammar, schemaAreas, type AreaCoverage, type Areas } from './coverage.js';
import { SetupError, UsageError } from './errors.js';
import { matchGlob } from './filters.js';
import { findProject } from './project.js';
import { writeReport, type ReporterSpec } from './run.js';
import { libvirtSchemaDir, schemaUnavailable } from './schema.js';

const pct = (covered: number, total: number) => (total ? `${Math.floor((100 * covered) / total)}%` : '-');

export function formatCoverage(rows: AreaCoverage[], cases: number, skipped: string[], dir: string): string {
  const cells = rows.map((r) => [r.area, `${r.elements.covered.length}/${r.elements.total}`, pct(r.elements.covered.length, r.elements.total),
    `${r.attributes.covered.length}/${r.attributes.total}`, pct(r.attributes.covered.length, r.attributes.total)]);
  const sum = (f: (r: AreaCoverage) => number) => rows.reduce((n, r) => n + f(r), 0);
  const [ec, et, ac, at] = [sum((r) => r.elements.covered.length), sum((r) => r.elements.total), sum((r) => r.attributes.covered.length), sum((r) => r.attributes.total)];
  const all = [['area', 'elements', '', 'attributes', ''], ...cells, ['total', `${ec}/${et}`, pct(ec, et), `${ac}/${at}`, pct(ac, at)]];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [`${cases} case inputs against libvirt's domain schema (${dir})${skipped.length ? `; ${skipped.length} not well-formed, left out` : ''}`, '', ...all.map(line), '', 'uncovered:'];
  for (const r of rows) {
    const names = [...r.elements.uncovered.map((e) => `<${e}>`), ...r.attributes.uncovered];
    if (names.length) out.push(`  ${r.area}: ${names.join(' ')}`);
  }
  return `${out.join('\n')}\n`;
}

export async function coverageCommand(argv: string[], cwd = process.cwd()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { root: { type: 'string' }, reporter: { type: 'string', multiple: true } } });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  const reporters: ReporterSpec[] = (v.reporter ?? ['pretty']).map((spec) => {
    const [name, ...file] = spec.split(':');
    if (name !== 'pretty' && name !== 'json') throw new UsageError(`coverage: unknown reporter '${name}' (pretty or json)`);
    return file.length ? { name, file: file.join(':') } : { name };
  });
  const root = findProject(v.root, cwd);
  const dir = libvirtSchemaDir();
  const why = schemaUnavailable(dir);
  if (why) throw new SetupError(`coverage: ${why}`);
  const schema = schemaAreas(loadGrammar(domainGrammar(dir)));
  const corpus: Areas = new Map();
  const skipped: string[] = [];
  const cases = discoverCases(root);
  for (const c of cases) {
    // The cases that are not well-formed on purpose (cases/xml/) say nothing about the schema.
    const xml = readInside(root, c.path) ?? '';
    if (XMLValidator.validate(xml) !== true) skipped.push(c.name);
    else documentAreas(xml, schema, corpus);
  }
  let rows = coverageOf(schema, corpus);
  if (positionals.length) {
    rows = rows.filter((r) => positionals.some((p) => matchGlob(p, r.area) || r.area === p || r.area.startsWith(`${p}/`)));
    if (!rows.length) throw new SetupError(`coverage: no area matches ${positionals.join(', ')} (areas: ${coverageOf(schema, corpus).map((r) => r.area).join(', ')})`);
  }
  for (const r of reporters) {
    const text = r.name === 'json'
      ? `${JSON.stringify({ schema: dir, cases: cases.length, notWellFormed: skipped, areas: rows }, null, 2)}\n`
      : formatCoverage(rows, cases.length, skipped, dir);
    writeReport(r, text);
  }
  return 0;
}
