// npm run interop:corpus: the reference translator against libvirt 9.0.0 on libvirt's own
// test domains (tests/qemuxml2argvdata of Debian's source package, fetched into a cache
// outside the repository), on the x86_64 and s390x domains — the arch of <os><type>,
// x86_64 when absent, as libvirt picks on this host.
//
//   npm run interop:corpus    real libvirt (`virtgold compare --reference libvirt`), on the
//                             project's snapshots of the QEMU it drives here (7.2.0, with
//                             their host facts)
//   npm run interop:corpus8   libvirt's own test harness (`--reference libvirt-tests`), on
//                             every other snapshot in capabilities/ (8.1.0, 8.2.0) of those
//                             arches, each domain on each snapshot of its arch
//
// Prints the class counts; exits 1 on any `differs` or `broken`, 2 when libvirt (or its
// harness) or the corpus cannot be had. Extra arguments go to compare:
// npm run interop:corpus -- --reporter json:corpus.json
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { discoverSnapshots } from '../harness/cases.js';
import { main } from '../harness/cli.js';
import { libvirtUnavailable } from '../harness/libvirt.js';
import { libvirtSource } from './libvirt-source.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const setup = fileURLToPath(new URL('./setup-libvirt', import.meta.url));
export const CORPUS_ARCHES = ['x86_64', 's390x'];
/** Debian 12's QEMU, the one real libvirt drives here: the harness covers the others. */
const HOST_QEMU = '7.2.0';

/** compare's arguments for the reference, or why it cannot run. */
async function referenceArgs(harness: boolean, name: string): Promise<string[] | string> {
  if (harness) {
    const snaps = discoverSnapshots(root).filter((s) => s.version !== HOST_QEMU && CORPUS_ARCHES.includes(s.arch));
    if (!snaps.length) return `no snapshot but ${HOST_QEMU} of ${CORPUS_ARCHES.join(' or ')} in capabilities/`;
    console.error(`${name}: on ${snaps.map((s) => `${s.arch} ${s.version}`).join(', ')}`);
    return ['--reference', 'libvirt-tests', ...snaps.flatMap((s) => ['--caps', s.path])];
  }
  const started = await execa(setup, { reject: false, stdio: ['ignore', 'inherit', 'inherit'] }).catch((e: Error) => ({ exitCode: 127, message: e.message }));
  const why = started.exitCode === 0 ? await libvirtUnavailable() : 'scripts/setup-libvirt failed';
  if (why) return `libvirt is not available: ${why}`;
  // The project's snapshots of the host's QEMU, not libvirt's bare probe files: they carry
  // the host facts (qemu.conf's display and chardev settings, swtpm, …) that libvirt reads
  // from this host and the translator takes from host/.
  const snaps = discoverSnapshots(root).filter((s) => s.version === HOST_QEMU && CORPUS_ARCHES.includes(s.arch));
  if (!snaps.length) return `no ${HOST_QEMU} snapshot of ${CORPUS_ARCHES.join(' or ')} in capabilities/`;
  console.error(`interop:corpus: on ${snaps.map((s) => `${s.arch} ${s.version}`).join(', ')}`);
  return ['--reference', 'libvirt', ...snaps.flatMap((s) => ['--caps', s.path])];
}

async function corpus(argv: string[]): Promise<number> {
  const harness = argv[0] === '--harness';
  const name = harness ? 'interop:corpus8' : 'interop:corpus';
  const reference = await referenceArgs(harness, name);
  if (typeof reference === 'string') {
    console.error(`${name}: ${reference}`);
    return 2;
  }
  let tree: string;
  try {
    tree = await libvirtSource();
  } catch (e) {
    console.error(`${name}: cannot get libvirt's test corpus: ${(e as Error).message}`);
    return 2;
  }
  console.error(`${name}: libvirt's test domains from ${tree}`);
  const args = ['compare', ...reference, ...CORPUS_ARCHES.flatMap((a) => ['--arch', a]), ...argv.slice(harness ? 1 : 0), 'tests/qemuxml2argvdata'];
  const cwd = process.cwd();
  process.chdir(tree); // entries are named tests/qemuxml2argvdata/NAME.xml
  try {
    return await main(args);
  } finally {
    process.chdir(cwd);
  }
}

process.exitCode = await corpus(process.argv.slice(2));
