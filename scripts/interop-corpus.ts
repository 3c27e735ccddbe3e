// npm run interop:corpus: the reference translator against real libvirt 9.0.0 on libvirt's
// own test domains (tests/qemuxml2argvdata of Debian's source package, fetched into a cache
// outside the repository). Runs `virtgold compare --reference libvirt` on the x86_64 and
// s390x domains — the arch of <os><type>, x86_64 when absent, as libvirt picks on this
// host — the arches whose QEMU runs here. Prints the class counts; exits 1 on any
// `differs` or `broken`, 2 when libvirt or the corpus cannot be had.
// Extra arguments go to compare: npm run interop:corpus -- --reporter json:corpus.json
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { main } from '../harness/cli.js';
import { libvirtUnavailable } from '../harness/libvirt.js';
import { libvirtSource } from './libvirt-source.js';

const setup = fileURLToPath(new URL('./setup-libvirt', import.meta.url));
export const CORPUS_ARCHES = ['x86_64', 's390x'];

async function corpus(): Promise<number> {
  const started = await execa(setup, { reject: false, stdio: ['ignore', 'inherit', 'inherit'] }).catch((e: Error) => ({ exitCode: 127, message: e.message }));
  const why = started.exitCode === 0 ? await libvirtUnavailable() : 'scripts/setup-libvirt failed';
  if (why) {
    console.error(`interop:corpus: libvirt is not available: ${why}`);
    return 2;
  }
  let tree: string;
  try {
    tree = await libvirtSource();
  } catch (e) {
    console.error(`interop:corpus: cannot get libvirt's test corpus: ${(e as Error).message}`);
    return 2;
  }
  console.error(`interop:corpus: libvirt's test domains from ${tree}`);
  const args = ['compare', '--reference', 'libvirt', ...CORPUS_ARCHES.flatMap((a) => ['--arch', a]), ...process.argv.slice(2), 'tests/qemuxml2argvdata'];
  const cwd = process.cwd();
  process.chdir(tree); // entries are named tests/qemuxml2argvdata/NAME.xml
  try {
    return await main(args);
  } finally {
    process.chdir(cwd);
  }
}

process.exitCode = await corpus();
