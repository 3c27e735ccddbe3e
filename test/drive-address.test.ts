// virDomainDiskInsert's order, kept without libvirt's scan of the whole list per disk:
// the inserter must give exactly the order of the rule applied disk after disk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { diskInserter, diskNameToIndex } from '../translator/stages/drive-address.js';

type D = { bus?: string; dst?: string; n: number };

/** The rule as libvirt states it: before the first disk of its bus with a higher index,
 *  else after the last disk of its bus, else at the end. */
function naive(disks: D[]): D[] {
  const list: D[] = [];
  for (const d of disks) {
    let at = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      const o = list[i]!;
      if (o.bus !== d.bus) continue;
      if (o.dst !== undefined && d.dst !== undefined && diskNameToIndex(o.dst) > diskNameToIndex(d.dst)) at = i;
      else if (at === -1) at = i + 1;
    }
    list.splice(at === -1 ? list.length : at, 0, d);
  }
  return list;
}

const disk = fc.record({
  bus: fc.constantFrom(undefined, 'virtio', 'ide', 'scsi'),
  dst: fc.constantFrom(undefined, 'vda', 'vdb', 'vdc', 'hda', 'hdb', 'sdaa', 'sdz', 'xyz', 'vd1'),
});

test('disks keep the order of libvirt\'s insertion rule, disk after disk', () => {
  fc.assert(fc.property(fc.array(disk, { maxLength: 30 }), (raw) => {
    const disks: D[] = raw.map((d, n) => ({ ...(d.bus && { bus: d.bus }), ...(d.dst && { dst: d.dst }), n }));
    const ins = diskInserter<D>();
    for (const d of disks) ins.add(d);
    assert.equal(ins.list().map((d) => d.n), naive(disks).map((d) => d.n));
  }), { numRuns: 300 });
});

test('examples: a lower target goes before the higher ones of its bus only', () => {
  const ins = diskInserter<D>();
  const add = (bus: string, dst: string, n: number) => ins.add({ bus, dst, n });
  add('virtio', 'vdc', 0);
  add('ide', 'hda', 1);
  add('virtio', 'vda', 2);
  add('virtio', 'vdd', 3);
  add('ide', 'hdb', 4);
  assert.equal(ins.list().map((d) => d.n), [2, 0, 3, 1, 4]);
});

test.run();
