// The harness's input for domxml-to-native's interfaces (harness/native-nics.ts), made
// with the harness itself: the input defined by qemuxml2xmltest (every device has its
// address then, as when domxml-to-native rebuilds the interfaces), with its interfaces
// rebuilt. qemuxml2argvtest then gives the rebuilt interfaces the first free addresses,
// after every other device, as qemuProcessPrepareDomain does for domxml-to-native.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHarness } from './libvirt-tests-run.js';
import { asNativeNics } from './native-nics.js';
import type { Snapshot } from './types.js';

/** For each id (an input ID.xml in inDir): the id of its rebuilt input, written beside it,
 *  where the harness could define the input. */
export async function writeNativeNicInputs(dir: string, work: string, inDir: string, snapshot: Snapshot, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!ids.length) return out;
  const tag = `${snapshot.arch}_${snapshot.version.replace(/\W/g, '_')}`;
  // copies under their own names: an answer file of the same name would be compared, not written
  for (const id of ids) copyFileSync(join(inDir, `${id}.xml`), join(inDir, `${id}d${tag}.xml`));
  const defined = await runHarness(dir, work, inDir, snapshot, 'xml2xml', ids.map((id) => `${id}d${tag}`), 'native-nics-define');
  for (const id of ids) {
    const a = defined.get(`${id}d${tag}`);
    if (a === undefined || typeof a === 'string' || a.kind !== 'output') continue;
    const nid = `${id}n${tag}`;
    writeFileSync(join(inDir, `${nid}.xml`), asNativeNics(a.text));
    out.set(id, nid);
  }
  return out;
}
