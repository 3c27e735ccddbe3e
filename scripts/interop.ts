// npm run interop: hold the goldens of the host QEMU's snapshots (7.2.0 on Debian 12) to
// real libvirt 9.0.0. Starts libvirt through scripts/setup-libvirt, then runs those
// entries through the libvirt adapter: `virsh domxml-to-native` (xml2argv) and
// `virsh define` + `dumpxml` (xml2xml). vf-token cases are compared with the token
// removed, against the reference translator's answer on that same input, since libvirt
// 9.0.0 ignores the element. First, every case input (but those marked schemaInvalid)
// and every .xml golden must validate against libvirt 9.0.0's installed RELAX NG schema
// plus virtgold's vf-token overlay (schema/domain.rng).
// Exits 1 on any difference or schema problem, 2 when libvirt cannot be had.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { hostQemuVersions, libvirtAdapter, libvirtUnavailable } from '../harness/libvirt.js';
import { pretty } from '../harness/reporters.js';
import { counts, runSuite } from '../harness/runner.js';
import { checkCorpus, formatCorpusReport, loadSchema } from '../harness/schema.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const setup = `${root}/scripts/setup-libvirt`;

async function main(): Promise<number> {
  const started = await execa(setup, { reject: false, stdio: 'inherit' }).catch((e: Error) => ({ exitCode: 127, message: e.message }));
  const schemaOk = await checkSchema();
  const why = started.exitCode === 0 ? await libvirtUnavailable() : 'scripts/setup-libvirt failed';
  if (why) {
    console.error(`interop: libvirt is not available: ${why}`);
    console.error('interop: run as root on Debian 12 (scripts/setup-libvirt installs and starts it)');
    return 2;
  }
  const host = hostQemuVersions();
  // (The adapter restarts a daemon that domxml-to-native killed: reviveLibvirt.)
  const adapter = libvirtAdapter({ host, vfToken: 'strip' });
  let suite;
  try {
    suite = await runSuite({
      root, filters: { version: [...new Set(host.values())] }, adapter: await adapter, jobs: 1, determinism: false,
      onResult: (r) => { if (r.status === 'pass') console.log(`ok   ${r.name}`); },
    });
  } catch (e) {
    // No probed QEMU, or none with a snapshot here: nothing to hold the goldens to.
    console.error(`interop: ${(e as Error).message}`);
    return 2;
  }
  process.stdout.write(pretty(suite, false, root));
  const c = counts(suite);
  if (!schemaOk) console.error('interop: the schema check failed (above)');
  return c.fail + c.broken + c.stale || !schemaOk ? 1 : 0;
}

/** The corpus against libvirt's schema + the overlay; a missing schema is a failure. */
async function checkSchema(): Promise<boolean> {
  try {
    const report = checkCorpus(root, await loadSchema());
    process.stdout.write(formatCorpusReport(report));
    return report.problems.length === 0;
  } catch (e) {
    console.error(`interop: schema check: ${(e as Error).message}`);
    return false;
  }
}

process.exitCode = await main();
