// npm run bench: measures, never asserts. Prints a table and writes reports/bench.json.
//   - in-process translations per second (reference translator, shipped matrix)
//   - `virtgold run` wall time on the shipped matrix
//   - real `virsh domxml-to-native` time per case, when libvirt is reachable, and the ratio
import { execa } from 'execa';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildMatrix } from '../harness/matrix.js';
import { runBuiltin } from '../harness/suite.js';
import { libvirtUnavailable, libvirtXml2Argv } from '../harness/libvirt.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries = buildMatrix(root).map((e) => ({ e, xml: readFileSync(e.case.path, 'utf8') }));

function perSecond(): number {
  for (const { e, xml } of entries) runBuiltin(e.mode, e.snapshot.path, xml); // warm caches
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < 2000) {
    for (const { e, xml } of entries) runBuiltin(e.mode, e.snapshot.path, xml);
    n += entries.length;
  }
  return n / ((performance.now() - start) / 1000);
}

const results: Record<string, number | string> = {};
results['in-process translations/s'] = Math.round(perSecond());
results['in-process ms/translation'] = +(1000 / (results['in-process translations/s'] as number)).toFixed(4);

let t = performance.now();
await execa('node', [`${root}/bin/virtgold.js`, 'run'], { cwd: root, reject: false });
results['virtgold run, shipped matrix (s)'] = +((performance.now() - t) / 1000).toFixed(2);
results['matrix entries'] = entries.length;

const why = await libvirtUnavailable();
if (why) {
  results['virsh domxml-to-native ms/case'] = `skipped: ${why}`;
} else {
  const cases = entries.filter(({ e, xml }) => e.mode === 'xml2argv' && e.snapshot.version === '7.2.0' && !/type=['"]hostdev['"]/.test(xml));
  t = performance.now();
  for (const { xml } of cases) await libvirtXml2Argv(xml.replace(/<vf-token\b[^>]*\/>/g, ''));
  const virshMs = (performance.now() - t) / cases.length;
  results['virsh domxml-to-native ms/case'] = +virshMs.toFixed(2);
  results['speed-up vs domxml-to-native'] = Math.round(virshMs / (results['in-process ms/translation'] as number));
}

const width = Math.max(...Object.keys(results).map((k) => k.length));
for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(width)}  ${v}`);
mkdirSync(`${root}/reports`, { recursive: true });
writeFileSync(`${root}/reports/bench.json`, JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + '\n');
console.log('written reports/bench.json');
