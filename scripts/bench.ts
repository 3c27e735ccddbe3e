// npm run bench: measures, never asserts. Prints a table and writes reports/bench.json.
//   - in-process translations per second (reference translator, shipped matrix)
//   - `virtgold run` wall time on the shipped matrix and on 1,000 generated domains
//   - command adapter vs worker adapter cost per entry
//   - the worker adapter on 1,250 to 10,000 generated entries: does it scale linearly?
//     (scripts/bench-scale.ts)
//   - real `virsh domxml-to-native` time per case, when libvirt is reachable, and the ratio
//   - `virtgold run` against translators printing 100 MB or hanging: time and peak RSS
//     (scripts/bench-limits.ts)
import { execa } from 'execa';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildMatrix } from '../harness/cases.js';
import { runBuiltin } from '../harness/judge.js';
import { libvirtUnavailable, libvirtXml2Argv, stripVfToken } from '../harness/libvirt.js';
import { benchLimits } from './bench-limits.js';
import { benchScale, generatedDomain } from './bench-scale.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries = buildMatrix(root).map((e) => ({ e, xml: readFileSync(e.case.path, 'utf8') }));

// The translator keeps the parsed trees of recent documents (a case is translated on every
// snapshot, in both modes). `fresh` makes every document of every round a new one (a
// comment after the root), so each translation parses its input: the figure compared
// with virsh below.
function perSecond(fresh: boolean): number {
  for (const { e, xml } of entries) runBuiltin(e.mode, e.snapshot.path, xml); // warm caches
  let n = 0;
  const start = performance.now();
  for (let round = 0; performance.now() - start < 2000; round++) {
    for (const { e, xml } of entries) runBuiltin(e.mode, e.snapshot.path, fresh ? `${xml}<!-- ${round} -->\n` : xml);
    n += entries.length;
  }
  return n / ((performance.now() - start) / 1000);
}

const results: Record<string, number | string> = {};
results['in-process translations/s'] = Math.round(perSecond(true));
results['in-process ms/translation'] = +(1000 / (results['in-process translations/s'] as number)).toFixed(4);
results['in-process translations/s, documents shared by a case\'s entries'] = Math.round(perSecond(false));

let t = performance.now();
await execa('node', [`${root}/bin/virtgold.js`, 'run'], { cwd: root, reject: false });
results['virtgold run, shipped matrix (s)'] = +((performance.now() - t) / 1000).toFixed(2);
results['matrix entries'] = entries.length;
t = performance.now();
await execa('npm', ['test', '--silent'], { cwd: root, reject: false });
results['npm test, shipped matrix (s)'] = +((performance.now() - t) / 1000).toFixed(2);

// A generated corpus of 1,000 domains (variations of the shipped ones), goldens written by
// the reference translator, then the whole matrix timed with `virtgold run`.
const gen = mkdtempSync(join(tmpdir(), 'virtgold-bench-'));
try {
  cpSync(join(root, 'capabilities'), join(gen, 'capabilities'), { recursive: true });
  mkdirSync(join(gen, 'cases'));
  const sources = entries.filter(({ e }) => e.mode === 'xml2xml' && e.snapshot.version === '7.2.0').map(({ xml }) => xml);
  for (let i = 0; i < 1000; i++) writeFileSync(join(gen, 'cases', `gen-${i}.xml`), generatedDomain(sources, i));
  await execa('node', [`${root}/bin/virtgold.js`, 'update', '--root', gen]);
  const n = buildMatrix(gen).length;
  t = performance.now();
  await execa('node', [`${root}/bin/virtgold.js`, 'run', '--root', gen], { reject: false });
  results['virtgold run, 1,000 generated domains (s)'] = +((performance.now() - t) / 1000).toFixed(2);
  results['generated matrix entries'] = n;
} finally {
  rmSync(gen, { recursive: true, force: true });
}

// Inputs near the 4 MiB input limit, made of one device repeated (in the orders that
// once made stages quadratic or worse): each stage must stay near-linear in the size.
{
  const caps = `${root}/capabilities/caps_7.2.0_x86_64.xml`;
  const dom = (devices: string) => `<domain type='qemu'><name>big</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid><memory>219136</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>${devices}</devices></domain>`;
  const fill = (one: (i: number) => string) => {
    const parts: string[] = [];
    let size = 300;
    for (let i = 0; size < 4 * 1024 * 1024 - 300; i++) {
      const p = one(i);
      size += Buffer.byteLength(p);
      parts.push(p);
    }
    parts.pop();
    return dom(parts.join(''));
  };
  // sda, …, sdz, sdaa, …: libvirt's disk names for index i
  const diskName = (i: number): string => (i < 26 ? '' : diskName(Math.floor(i / 26) - 1)) + String.fromCharCode(97 + (i % 26));
  const disk = (dev: string) => `<disk type='file' device='disk'><source file='/i/${dev}.img'/><target dev='${dev}' bus='virtio'/></disk>`;
  const big: [string, string][] = [
    ['unindexed USB controllers', fill(() => "<controller type='usb' model='piix3-uhci'/>")],
    ['USB controllers, indexes descending', fill((i) => `<controller type='usb' index='${1_000_000 - i}' model='piix3-uhci'/>`)],
    ['audio backends', fill((i) => `<audio id='${i + 1}' type='none'/>`)],
    ['virtio disks', fill((i) => disk(`vd${diskName(i)}`))],
    ['virtio disks, targets descending', fill((i) => disk(`vd${diskName(200_000 - i)}`))],
    ['PS/2 inputs', fill(() => "<input type='mouse' bus='ps2'/>")],
  ];
  for (const [what, xml] of big) {
    const start = performance.now();
    for (const mode of ['xml2xml', 'xml2argv'] as const) runBuiltin(mode, caps, xml);
    results[`4 MiB of ${what}, both modes (ms)`] = Math.round(performance.now() - start);
  }
}

// The cost of the out-of-process adapters, per entry, with the reference translator behind them.
const perEntry = async (args: string[], filter: string[]) => {
  const m = buildMatrix(root, { case: [filter[1]!] }).length;
  const start = performance.now();
  await execa('node', [`${root}/bin/virtgold.js`, 'run', ...filter, '--no-determinism', '--jobs', '1', ...args], { cwd: root, reject: false });
  return (performance.now() - start) / m;
};
const cmdMs = await perEntry(['--translator-cmd', `node ${root}/bin/virtgold.js {mode} --caps {caps} {input}`], ['--case', '{hostdev/vfio*,vf-token/*}']);
const workerMs = await perEntry(['--translator-worker', `node ${root}/bin/virtgold.js worker`], ['--case', '*']);
results['command adapter ms/entry'] = +cmdMs.toFixed(2);
results['worker adapter ms/entry'] = +workerMs.toFixed(2);
results['worker vs command speed-up'] = +(cmdMs / workerMs).toFixed(1);
Object.assign(results, await benchScale(root));

const why = await libvirtUnavailable();
if (why) {
  results['virsh domxml-to-native ms/case'] = `skipped: ${why}`;
} else {
  const cases = entries.filter(({ e, xml }) => e.mode === 'xml2argv' && e.snapshot.version === '7.2.0' && !/type=['"]hostdev['"]/.test(xml));
  t = performance.now();
  for (const { xml } of cases) await libvirtXml2Argv(stripVfToken(xml));
  const virshMs = (performance.now() - t) / cases.length;
  results['virsh domxml-to-native ms/case'] = +virshMs.toFixed(2);
  results['speed-up vs domxml-to-native'] = Math.round(virshMs / (results['in-process ms/translation'] as number));
}

Object.assign(results, await benchLimits(root));

const width = Math.max(...Object.keys(results).map((k) => k.length));
for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(width)}  ${v}`);
mkdirSync(`${root}/reports`, { recursive: true });
writeFileSync(`${root}/reports/bench.json`, JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + '\n');
console.log('written reports/bench.json');
