// Unit tests of <memory model='sgx-epc'> on a QEMU with SGX, which no shipped snapshot
// has (their goldens all end in "sgx epc isn't supported"): the caps' SGX sections, the
// size checks against them, and the command line (-machine sgx-epc.N.*, the EPC backends),
// which agreed with libvirt's test harness on caps with SGX added.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadCaps, type QemuCaps } from '../translator/capabilities.js';
import { translate } from '../translator/index.js';
import { readCaps } from '../harness/io.js';

const SGX = `<sgx supported='yes'><flc>no</flc><sgx1>yes</sgx1><sgx2>no</sgx2><section_size unit='KiB'>524288</section_size>
  <sections><section node='0' size='262144' unit='KiB'/><section node='1' size='32768' unit='KiB'/></sections></sgx></qemuCaps>`;

test('loadCaps reads the SGX sections only where QEMU has sgx-epc', () => {
  const text = readFileSync('capabilities/caps_8.2.0_x86_64.xml', 'utf8').replace('</qemuCaps>', SGX);
  assert.is(loadCaps(text).sgxSections, undefined);
  const withFlag = text.replace("<flag name='kvm'/>", "<flag name='kvm'/><flag name='sgx-epc'/>");
  assert.equal(loadCaps(withFlag).sgxSections, [{ node: 0, sizeKiB: 262144 }, { node: 1, sizeKiB: 32768 }]);
  assert.throws(() => loadCaps(withFlag.replace("node='1' size='32768'", "node='x' size='32768'")), /SGX <section>/);
});

const domain = (epcs: string) => `<domain type='qemu'><name>sgx-unit</name><uuid>c7a5fdbd-edaf-9455-926a-00001a11b001</uuid>
  <maxMemory slots='16' unit='KiB'>1130496</maxMemory><memory unit='KiB'>1048576</memory><vcpu>2</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <cpu><numa><cell id='0' cpus='0' memory='524288' unit='KiB'/><cell id='1' cpus='1' memory='524288' unit='KiB'/></numa></cpu>
  <devices>${epcs}</devices></domain>`;
const epc = (size: number, node: string, nodemask = '') =>
  `<memory model='sgx-epc'>${nodemask ? `<source><nodemask>${nodemask}</nodemask></source>` : ''}<target><size unit='KiB'>${size}</size>${node}</target></memory>`;

test('EPC sections on the command line, and the sizes the host nodes have', () => {
  const base = readCaps('capabilities/caps_8.2.0_x86_64.xml');
  const caps: QemuCaps = { ...base, flags: new Set([...base.flags, 'sgx-epc']), sgxSections: [{ node: 0, sizeKiB: 262144 }, { node: 1, sizeKiB: 32768 }] };
  const out = translate('xml2argv', domain(epc(65536, '<node>1</node>', '0') + epc(16384, '')), caps);
  assert.ok(out.includes('dump-guest-core=off,sgx-epc.0.memdev=memepc0,sgx-epc.0.node=1,sgx-epc.1.memdev=memepc1,sgx-epc.1.node=0 '), out);
  assert.ok(out.includes('-m size=1048576k,slots=16,maxmem=1130496k'), out);
  assert.ok(out.includes(`{"qom-type":"memory-backend-epc","id":"memepc1","prealloc":true,"size":16777216}`), out);
  assert.throws(() => translate('xml2argv', domain(epc(65536, '', '0-1')), caps), /sgx epc size 32768 on host node 1 is less than requested size 65536/);
  assert.throws(() => translate('xml2argv', domain(epc(1024, '', '2')), caps), /unsupported: .*host node 2, beyond the SGX sections/);
  assert.throws(() => translate('xml2argv', domain(epc(1024, '')), { ...caps, sgxSections: [] }), /didn't provide SGX EPC NUMA info/);
});

test.run();
