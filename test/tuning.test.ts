// Unit tests of the rules of domain/bitmap.ts and domain/numatune.ts that no golden
// reaches.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatBitmap, parseBitmap } from '../translator/domain/bitmap.js';
import { parseNumatune } from '../translator/domain/numatune.js';
import type { DomainDef } from '../translator/model.js';
import { parseXml } from '../translator/xml/tree.js';
import { Writer } from '../translator/xml/writer.js';
import { formatNumatune } from '../translator/domain/numatune.js';
import { defaultHugepageKiB, hugepageMemPath } from '../translator/domain/hugetlbfs.js';
import { loadHostFacts } from '../translator/domain/host-facts.js';
import { checkHostNodes } from '../translator/domain/memory.js';
import type { QemuCaps } from '../translator/capabilities.js';
import { anyErrorMessage } from './helpers/errors.js';

const err = anyErrorMessage;

test('bitmaps: libvirt’s syntax, limits and canonical form', () => {
  assert.equal(parseBitmap('0-3,^1,7, 9 - 10'), [0, 2, 3, 7, 9, 10]);
  assert.equal(parseBitmap(' 5'), [5]);
  assert.equal(parseBitmap('1,^1'), []);
  assert.equal(parseBitmap('16383'), [16383]);
  for (const bad of ['', ' ', '16384', '3-1', '^1-2', '1,,2', 'a', '1-', '-1', '1 2', '0x1']) {
    assert.is(err(() => parseBitmap(bad)), `invalid argument: Failed to parse bitmap '${bad}'`);
  }
  assert.is(formatBitmap([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
  assert.is(formatBitmap([]), '');
});

function numatune(xml: string, cells: number, placement: 'static' | 'auto' = 'static'): DomainDef {
  const def = { vcpu: { max: 2, placement } } as DomainDef;
  parseNumatune(parseXml(`<domain>${xml}</domain>`), def, cells);
  return def;
}

test('<memnode>: per guest cell, with libvirt’s checks', () => {
  const def = numatune("<numatune><memory mode='interleave' nodeset='0-1'/><memnode cellid='1' nodeset='2'/><memnode cellid='0' mode='preferred' nodeset='0,^0,3'/></numatune>", 2);
  const w = new Writer();
  formatNumatune(w, def);
  assert.is(w.text(), "<numatune>\n  <memory mode='interleave' nodeset='0-1'/>\n  <memnode cellid='0' mode='preferred' nodeset='3'/>\n  <memnode cellid='1' mode='strict' nodeset='2'/>\n</numatune>\n");
  assert.is(err(() => numatune("<numatune><memnode cellid='0' nodeset='0'/></numatune>", 0)), "XML error: Element 'memnode' is invalid without any guest NUMA cells");
  assert.is(err(() => numatune("<numatune><memnode cellid='2' nodeset='0'/></numatune>", 2)), "XML error: Argument 'cellid' in memnode element must correspond to existing guest's NUMA cell");
  assert.is(err(() => numatune("<numatune><memnode cellid='0' nodeset='0'/><memnode cellid='0' nodeset='1'/></numatune>", 1)), 'XML error: Multiple memnode elements with cellid 0');
  assert.is(err(() => numatune("<numatune><memnode cellid='0'/></numatune>", 1)), 'XML error: Missing required nodeset attribute in memnode element');
  assert.is(err(() => numatune("<numatune><memory mode='restrictive' nodeset='0'/><memnode cellid='0' nodeset='0'/></numatune>", 1)),
    "XML error: 'restrictive' mode is required in memnode element when mode is 'restrictive' in memory element");
  assert.is(err(() => numatune("<numatune><memory placement='auto'/><memnode cellid='0' nodeset='0'/></numatune>", 1)),
    'unsupported configuration: Per-node binding is not compatible with automatic NUMA placement.');
  assert.is(err(() => numatune("<numatune><memnode cellid='0' nodeset='1,^1'/></numatune>", 1)), "unsupported configuration: Invalid value of 'nodeset': 1,^1");
  // Automatic vCPU placement implies automatic memory placement.
  assert.equal(numatune('', 0, 'auto').numatune, { mode: 'strict', placement: 'auto' });
});

test('host facts: hugetlbfs mounts, read strictly', () => {
  const { hugetlbfs } = loadHostFacts('{"hugetlbfs":[{"path":"/a","sizeKiB":2048},{"path":"/b","sizeKiB":1048576,"default":true}]}', 'h.json');
  assert.is(defaultHugepageKiB(hugetlbfs), 1048576);
  assert.is(defaultHugepageKiB(hugetlbfs!.slice(0, 1)), 2048);
  assert.is(hugepageMemPath(hugetlbfs, 2048, 'dom'), '/a/libvirt/qemu/-1-dom');
  assert.is(err(() => hugepageMemPath(hugetlbfs, 4096, 'dom')), 'internal error: Unable to find any usable hugetlbfs mount for 4096 KiB');
  assert.is(err(() => defaultHugepageKiB([])), 'internal error: hugetlbfs filesystem is not mounted or disabled by administrator config');
  assert.match(err(() => defaultHugepageKiB(undefined)), /^unsupported: .*carries no hugetlbfs mounts/);
  assert.equal(loadHostFacts('{}', 'h.json'), {});
  // the host's online NUMA nodes, which a <numatune> nodeset must name
  assert.is(err(() => checkHostNodes({ hostNumaNodes: [0] } as QemuCaps, [0, 2])), 'unsupported configuration: NUMA node 2 is unavailable');
  assert.match(err(() => checkHostNodes({} as QemuCaps, [0])), /^unsupported: .*carries no host NUMA nodes/);
  assert.is(err(() => checkHostNodes({} as QemuCaps, undefined)), 'no error');
  assert.equal(loadHostFacts('{"numaNodes":[0,1]}', 'h.json'), { numaNodes: [0, 1] });
  for (const bad of ['[]', '{"hugetlbfs":{}}', '{"numaNodes":[-1]}', '{"numaNodes":"0"}', '{"hugetlbfs":[{"path":"rel","sizeKiB":1}]}', '{"hugetlbfs":[{"path":"/a","sizeKiB":0}]}', 'nope']) {
    assert.match(err(() => loadHostFacts(bad, 'h.json')), /^h\.json: /);
  }
  // <vsock>'s CID and descriptor: domxml-to-native's (the CID kept) or the test harness's
  assert.equal(loadHostFacts('{"vsock":{"autoCid":null,"vhostfd":-1}}', 'h.json'), { vsock: { autoCid: null, vhostfd: -1 } });
  assert.equal(loadHostFacts('{"vsock":{"autoCid":42,"vhostfd":6789}}', 'h.json'), { vsock: { autoCid: 42, vhostfd: 6789 } });
  for (const bad of ['{"vsock":{}}', '{"vsock":{"autoCid":-1,"vhostfd":3}}', '{"vsock":{"autoCid":3,"vhostfd":-2}}', '{"vsock":[]}', '{"vsock":null}']) {
    assert.match(err(() => loadHostFacts(bad, 'h.json')), /^h\.json: "vsock" is not/);
  }
});

test.run();
