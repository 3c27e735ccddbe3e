// Generators for the fuzz test: domain XML built from the corpus, mutated at random.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { globSync } from 'glob';
import { join } from 'node:path';

export function corpus(root: string): string[] {
  const dir = join(root, 'cases');
  return globSync('**/*.xml', { cwd: dir }).sort().map((f) => readFileSync(join(dir, f), 'utf8'));
}

const junk = fc.oneof(
  fc.constantFrom('', ' ', '0', '-1', '0x', '4294967296', '18446744073709551616', 'yes', 'no', 'on', 'off', 'pci', 'ccw',
    "'", '"', '<', '&', '&amp;', '&#0;', '&#x110000;', ']]>', '\u00e9', '\u{1F600}', 'a'.repeat(300),
    // character references and raw characters XML does not allow, and the ones it does
    '&#10;', '&#13;', '&#9;', '&#1;', '&#27;[2J', '&#xD800;', '&#xFFFE;', '&#x9b;', 'a\u0001b', 'a\u0000b', '\uffff', '\r\n',
    'x'.repeat(5000)),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 70000 }).map(String),
);

/** One random edit of the text: replace an attribute value or element text, delete or
 *  duplicate a line, cut the document, or insert stray markup. */
function mutateOnce(xml: string, pick: number, value: string, kind: number): string {
  const lines = xml.split('\n');
  switch (kind % 6) {
    case 0: { // an attribute value
      const attrs = [...xml.matchAll(/=(['"])([^'"]*)\1/g)];
      if (!attrs.length) return xml;
      const m = attrs[pick % attrs.length]!;
      return xml.slice(0, m.index! + 2) + value.replace(/['"]/g, '') + xml.slice(m.index! + 2 + m[2]!.length);
    }
    case 1: { // element text
      const texts = [...xml.matchAll(/>([^<>\n]+)</g)];
      if (!texts.length) return xml;
      const m = texts[pick % texts.length]!;
      return xml.slice(0, m.index! + 1) + value.replace(/</g, '') + xml.slice(m.index! + 1 + m[1]!.length);
    }
    case 2: lines.splice(pick % lines.length, 1); return lines.join('\n');
    case 3: { const i = pick % lines.length; lines.splice(i, 0, lines[i]!); return lines.join('\n'); }
    case 4: return xml.slice(0, pick % (xml.length + 1));
    default: { const i = pick % lines.length; lines.splice(i, 0, `<${value.replace(/[^a-z:-]/gi, '') || 'x'}/>`); return lines.join('\n'); }
  }
}

export function mutatedDomain(cases: string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.nat(cases.length - 1), fc.array(fc.tuple(fc.nat(), junk, fc.nat()), { minLength: 1, maxLength: 4 }))
    .map(([i, edits]) => edits.reduce((xml, [pick, value, kind]) => mutateOnce(xml, pick, value, kind), cases[i]!));
}
