// npm run interop: hold the 7.2.0 goldens to real libvirt 9.0.0 (Debian 12).
// Starts libvirt through scripts/setup-libvirt, then for every case on a 7.2.0
// snapshot compares the golden with `virsh domxml-to-native` (xml2argv) and with
// `virsh define` + `dumpxml` (xml2xml). vf-token cases are compared with the token
// removed, since libvirt 9.0.0 ignores it. Exits non-zero on any difference, and
// when libvirt cannot be had.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildMatrix, type MatrixEntry } from '../harness/matrix.js';
import { isVirtgoldRefusal, libvirtCannot, stripVfToken, libvirtUnavailable, libvirtXml2Argv, libvirtXml2Xml, type LibvirtResult } from '../harness/libvirt.js';
import { patch, readGolden, runBuiltin, type Outcome } from '../harness/suite.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const LIBVIRT_QEMU = '7.2.0';


function expectedFor(entry: MatrixEntry, xml: string): { outcome: Outcome; from: string } {
  if (/<vf-token\b/.test(xml)) {
    return { outcome: runBuiltin(entry.mode, entry.snapshot.path, stripVfToken(xml)), from: 'virtgold, vf-token removed' };
  }
  const golden = readGolden(entry);
  if (!golden) return { outcome: { kind: 'crash', message: 'no golden (run npm run update-golden)' }, from: '-' };
  return { outcome: { kind: golden.kind, text: golden.text }, from: golden.rel };
}

function skipReason(entry: MatrixEntry, xml: string, expected: Outcome): string | undefined {
  if (expected.kind === 'error' && isVirtgoldRefusal(expected.text)) return `virtgold refuses it on purpose: ${expected.text.trim()}`;
  return libvirtCannot(entry.mode, xml);
}

async function ensureDaemon(): Promise<void> {
  // domxml-to-native can kill libvirt 9.0.0's daemon; bring it back for the next case.
  if (await libvirtUnavailable()) await execa(`${root}/scripts/setup-libvirt`, { stdio: 'inherit' });
}

async function main(): Promise<number> {
  const setup = await execa(`${root}/scripts/setup-libvirt`, { reject: false, stdio: 'inherit' }).catch((e: Error) => ({ exitCode: 127, message: e.message }));
  const why = setup.exitCode === 0 ? await libvirtUnavailable() : 'scripts/setup-libvirt failed';
  if (why) {
    console.error(`interop: libvirt is not available: ${why}`);
    console.error('interop: run as root on Debian 12 (scripts/setup-libvirt installs and starts it)');
    return 2;
  }
  const entries = buildMatrix(root).filter((e) => e.snapshot.version === LIBVIRT_QEMU);
  let passed = 0, failed = 0, skipped = 0;
  for (const entry of entries) {
    const label = `${entry.mode} ${entry.case.name} ${entry.snapshot.arch}-${entry.snapshot.version}`;
    const xml = readFileSync(entry.case.path, 'utf8');
    const { outcome, from } = expectedFor(entry, xml);
    const reason = skipReason(entry, xml, outcome);
    if (reason) {
      skipped++;
      console.log(`skip ${label}: ${reason}`);
      continue;
    }
    await ensureDaemon();
    const input = stripVfToken(xml);
    const lv: LibvirtResult = entry.mode === 'xml2argv' ? await libvirtXml2Argv(input) : await libvirtXml2Xml(input);
    const theirs = lv.ok ? lv.output : `${lv.error}\n`;
    const ours = outcome.kind === 'crash' ? `(${outcome.message})\n` : outcome.text;
    const sameKind = lv.ok === (outcome.kind === 'output');
    if (sameKind && ours === theirs) {
      passed++;
      console.log(`ok   ${label}`);
    } else {
      failed++;
      console.log(`FAIL ${label} (expected: ${from})\n${patch(label, ours, theirs).replace('(actual)', '(libvirt 9.0.0)')}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
