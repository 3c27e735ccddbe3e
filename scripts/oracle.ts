// Ad-hoc check while developing: translate each given domain with the reference
// translator and with real libvirt, and show a diff where they differ.
// usage: node --import tsx scripts/oracle.ts CAPS.xml DOMAIN.xml...
import { readFileSync } from 'node:fs';
import { createTwoFilesPatch } from 'diff';
import { libvirtXml2Argv, libvirtXml2Xml } from '../harness/libvirt.js';
import { translate, isTranslationError } from '../translator/index.js';
import { readCaps } from '../harness/io.js';
const [capsPath, ...files] = process.argv.slice(2);
const caps = readCaps(capsPath!);
let bad = 0;
for (const f of files) {
  const xml = readFileSync(f, 'utf8');
  for (const mode of ['xml2argv', 'xml2xml'] as const) {
    let ours: string;
    try { ours = translate(mode, xml, caps); } catch (e) { if (!isTranslationError(e)) throw e; ours = 'ERROR: ' + e.message + '\n'; }
    const lv = mode === 'xml2argv' ? await libvirtXml2Argv(xml) : await libvirtXml2Xml(xml);
    const theirs = lv.ok ? lv.output : 'ERROR: ' + lv.error + '\n';
    if (ours === theirs) console.log(`OK   ${f} ${mode}`);
    else { bad++; console.log(`DIFF ${f} ${mode}\n` + createTwoFilesPatch('virtgold', 'libvirt', ours, theirs)); }
  }
}
process.exitCode = bad ? 1 : 0;
