// Unit tests of the CPU and NUMA module where a rule has no golden: inputs on which
// libvirt 9.0.0 corrupts its own heap (kept out of the corpus, whose oracles run every
// case), the bitmap syntax, the generated CPU map against libvirt's installed one, and
// x86 host-model's decoding on host CPU data of other vendors than the snapshots'.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaps } from '../translator/capabilities.js';
import { formatBitmap, parseBitmap } from '../translator/domain/bitmap.js';
import { X86_FEATURES, X86_MODELS } from '../translator/domain/cpu-map.js';
import { X86_MODEL_DATA } from '../translator/domain/cpu-map-data.js';
import { translate } from '../translator/index.js';
import { err } from './helpers/errors.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const caps = loadCaps(readFileSync(`${repo}/capabilities/caps_8.2.0_x86_64.xml`, 'utf8'), 'caps_8.2.0_x86_64.xml');

const numaDomain = (cell0: string) => `<domain type='qemu'><name>d</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu><numa>${cell0}<cell id='1' cpus='1' memory='131072'/></numa></cpu></domain>`;


test('numa: any invalid <distances> is refused, never answered (libvirt writes past its cell array)', () => {
  for (const d of ['', "<sibling id='0' value='11'/>", "<sibling id='1' value='10'/>", "<sibling id='2' value='30'/>",
    "<sibling id='1'/>", "<sibling value='20'/>", "<sibling id='1' value='256'/>"]) {
    const m = err(() => translate('xml2xml', numaDomain(`<cell id='0' cpus='0' memory='131072'><distances>${d}</distances></cell>`), caps));
    assert.match(m, /^unsupported: an invalid NUMA <distances>/, d);
  }
});

test('numa: virBitmapParse syntax and virBitmapFormat', () => {
  assert.equal(parseBitmap(' 0-3 , ^2, 7', 16384), [0, 1, 3, 7]);
  assert.equal(parseBitmap('5,1-2', 16384), [1, 2, 5]);
  for (const bad of ['', ' ', '1-', '3-1', '^1-2', 'a', '1,,2', '16384', '-1']) {
    assert.throws(() => parseBitmap(bad, 16384), (e: Error) => e.message === `invalid argument: Failed to parse bitmap '${bad}'`, bad);
  }
  assert.is(formatBitmap([0, 1, 2, 4, 6, 7]), '0-2,4,6-7');
});

test('cpu map: the generated table matches libvirt\'s installed x86 CPU map', () => {
  const dir = '/usr/share/libvirt/cpu_map';
  if (!existsSync(`${dir}/x86_features.xml`)) return; // libvirt not installed here
  const features = [...readFileSync(`${dir}/x86_features.xml`, 'utf8').matchAll(/<feature name='([^']+)'/g)].map((m) => m[1]!);
  assert.equal([...X86_FEATURES].sort(), [...new Set(features)].sort());
  assert.ok(X86_MODELS.has('qemu64') && X86_MODELS.has('EPYC'));
  assert.equal(X86_MODELS.get('EPYC'), ['monitor']);
  // the decoding data lists the same models, in the same (the map's) order
  assert.equal([...X86_MODEL_DATA.keys()], [...X86_MODELS.keys()]);
  assert.equal(X86_MODEL_DATA.get('EPYC')?.signatures, [{ family: 23, model: 1 }]);
});


// x86 host-model's decoding on Intel host CPU data (the 7.2.0 snapshot's, made Intel):
// the expected lines are what libvirt 9.0.0's test harness printed for the same data.
const ON = ['hle', 'rtm', 'avx2', 'fma', 'bmi1', 'bmi2', 'invpcid', 'movbe', 'f16c', 'rdrand', 'pcid', 'x2apic', 'tsc-deadline',
  'avx', 'xsave', 'aes', 'popcnt', 'sse4.2', 'sse4.1', 'ssse3', 'pclmulqdq', 'erms', 'smep', 'fsgsbase', 'vmx'];
const OFF = ['svm', 'npt', 'vgif', 'svme-addr-chk', '3dnowext', '3dnow', 'mmxext', 'misalignsse', 'sse4a', 'abm', 'cr8legacy',
  'pku', 'la57', 'pks', 'vaes', 'clzero', 'xsaveerptr', 'topoext', 'osvw', 'fxsr-opt', 'cmp-legacy', '3dnowprefetch', 'lahf-lm'];
const AVX512 = ['avx512f', 'avx512dq', 'avx512cd', 'avx512bw', 'avx512vl', 'avx512vnni', 'clflushopt', 'clwb', 'pku', 'spec-ctrl',
  'ssbd', 'md-clear', 'arch-capabilities', 'xsavec', 'xsaves'];
function intelCaps(model: number, stepping: number, extra: string[] = []) {
  const c = loadCaps(readFileSync(`${repo}/capabilities/caps_7.2.0_x86_64.xml`, 'utf8'), 'caps_7.2.0_x86_64.xml');
  for (const h of c.hostCpus) {
    Object.assign(h.values, { vendor: 'GenuineIntel', family: 6, model, stepping });
    for (const p of h.props) {
      if ([...ON, ...extra].includes(p.name)) p.value = true;
      if (OFF.includes(p.name) && p.migratable !== false) p.value = false;
    }
  }
  return c;
}
const hostModel = (type: string) => `<domain type='${type}'><name>d</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory>524288</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><cpu mode='host-model'/></domain>`;
const cpuLine = (type: string, c: ReturnType<typeof loadCaps>) => translate('xml2argv', hostModel(type), c).split('\n').find((l) => l.startsWith('-cpu '))!.replace(/ \\$/, '');

test('x86 host-model: broken TSX dropped (Haswell, family 6 model 60) before choosing the model', () => {
  assert.is(cpuLine('qemu', intelCaps(60, 3)), '-cpu Haswell-noTSX,acpi=on,ss=on,monitor=on,vmx=on,f16c=on,rdrand=on,hypervisor=on,arat=on,mpx=on,adx=on,smap=on,pcommit=on,clflushopt=on,clwb=on,umip=on,xsaveopt=on,xgetbv1=on,pdpe1gb=on,pcid=off,x2apic=off,tsc-deadline=off,invpcid=off,lahf-lm=off');
});

test('x86 host-model: a model whose signature (with steppings) matches the host wins', () => {
  const c = intelCaps(85, 7, AVX512);
  assert.is(cpuLine('qemu', c), '-cpu Cascadelake-Server,acpi=on,ss=on,monitor=on,vmx=on,hypervisor=on,pcommit=on,umip=on,md-clear=on,arch-capabilities=on,xsaves=on,vme=off,pcid=off,x2apic=off,tsc-deadline=off,hle=off,invpcid=off,rtm=off,avx512f=off,avx512dq=off,rdseed=off,avx512cd=off,avx512bw=off,avx512vl=off,avx512vnni=off,spec-ctrl=off,ssbd=off,xsavec=off,lahf-lm=off,abm=off,3dnowprefetch=off');
  assert.is(cpuLine('kvm', c), '-cpu Cascadelake-Server,vmx=on,hypervisor=on,tsc-adjust=on,umip=on,gfni=on,md-clear=on,arch-capabilities=on,xsaves=on,rdctl-no=on,skip-l1dfl-vmentry=on,mds-no=on,pschange-mc-no=on,pni=off,pclmulqdq=off,ssse3=off,fma=off,pcid=off,sse4.1=off,sse4.2=off,movbe=off,popcnt=off,aes=off,xsave=off,avx=off,f16c=off,rdrand=off,fsgsbase=off,bmi1=off,hle=off,avx2=off,smep=off,bmi2=off,erms=off,invpcid=off,rtm=off,mpx=off,avx512f=off,avx512dq=off,rdseed=off,adx=off,smap=off,avx512cd=off,avx512bw=off,avx512vl=off,pku=off,avx512vnni=off,spec-ctrl=off,ssbd=off,xsaveopt=off,xsavec=off,xgetbv1=off,pdpe1gb=off,rdtscp=off,lahf-lm=off,abm=off,3dnowprefetch=off');
});

test.run();
