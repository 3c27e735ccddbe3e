// npm run interop:snapshots offline: what libvirt's harness is fed, how its answers are
// normalized, the excuse classifier on hand-made pairs, and the snapshot header libvirt's
// loader requires (checked here as virQEMUCapsLoadCache checks it, without libvirt).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverSnapshots } from '../harness/cases.js';
import { runBuiltin } from '../harness/judge.js';
import {
  capsForLibvirt, classify, EXCUSES, normalizeHarnessOutcome, withoutPresetAdvice, withStaticVcpus, withVfioDriver,
  type Compared, type Verdict,
} from '../harness/libvirt-tests.js';
import { stripVfToken } from '../harness/libvirt.js';
import { asNativeNics, hasNativeNics, nativeNicTrace, passedToCommandLine } from '../harness/native-nics.js';
import type { Golden, Outcome } from '../harness/types.js';
import { normalizeProbe } from '../scripts/capture-caps.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const read = (rel: string) => readFileSync(join(repo, rel), 'utf8');
const out = (text: string): Outcome => ({ kind: 'output', text });
const err = (text: string): Outcome => ({ kind: 'error', text: `${text}\n` });
const golden = (o: Outcome): Golden => ({ rel: 'golden/x', kind: o.kind as 'output' | 'error', text: (o as { text: string }).text });

/** A reference translator that knows only the inputs it is given. */
const reference = (answers: Record<string, Outcome>) => (xml: string): Outcome =>
  answers[xml] ?? { kind: 'crash', message: `unexpected input ${xml}` };

function compared(c: Partial<Compared> & Pick<Compared, 'golden' | 'libvirt'>): Compared {
  return { mode: 'xml2argv', xml: '<domain/>', reference: reference({}), ...c };
}

const excused = (v: Verdict) => (v.class === 'excused' ? v.excuses : v.class);

// ---- what libvirt is fed ---------------------------------------------------------------

test('the snapshot fed to libvirt loses the vf-token flag and nothing else', () => {
  const withFlag = discoverSnapshots(repo).filter((s) => readFileSync(s.path, 'utf8').includes("<flag name='vfio-pci.vf-token'/>"));
  assert.equal(withFlag.map((s) => s.version).sort(), ['8.1.0', '8.1.0', '8.2.0']);
  for (const s of discoverSnapshots(repo)) {
    const text = readFileSync(s.path, 'utf8');
    const fed = capsForLibvirt(text);
    assert.not.match(fed, /<flag name=['"]vfio-pci\.vf-token/, s.path);
    const lines = text.split('\n').filter((l) => !/<flag name='vfio-pci\.vf-token'\/>/.test(l));
    assert.is(fed, lines.join('\n'), s.path);
  }
  assert.is(capsForLibvirt("<qemuCaps>\n  <flag name='vfio-pci'/>\n  <flag name=\"vfio-pci.vf-token\" />\n</qemuCaps>\n"), "<qemuCaps>\n  <flag name='vfio-pci'/>\n</qemuCaps>\n");
});

/** What virQEMUCapsLoadCache() requires before it reads flags, and in what form. */
function loaderProblems(text: string, arch: string): string[] {
  const el = (name: string) => new RegExp(`^  <${name}>([^<]*)</${name}>$`, 'm').exec(text)?.[1];
  const problems: string[] = [];
  if (el('emulator') !== `/usr/bin/qemu-system-${arch}`) problems.push(`emulator is not /usr/bin/qemu-system-${arch}`);
  for (const n of ['selfctime', 'selfvers', 'qemuctime', 'version', 'kvmVersion', 'microcodeVersion']) {
    if (!/^\d+$/.test(el(n) ?? '')) problems.push(`missing or non-numeric <${n}>`);
  }
  if (el('arch') !== arch) problems.push(`arch is not ${arch}`);
  return problems;
}

test('every shipped snapshot has the header libvirt 9.0.0\'s loader requires', () => {
  const snapshots = discoverSnapshots(repo);
  assert.is(snapshots.length, 5);
  for (const s of snapshots) assert.equal(loaderProblems(readFileSync(s.path, 'utf8'), s.arch), [], s.path);
});

test('the header values are the neutral ones of libvirt\'s test data', () => {
  for (const s of discoverSnapshots(repo)) {
    const text = readFileSync(s.path, 'utf8');
    for (const n of ['qemuctime', 'selfctime', 'selfvers', 'kvmVersion']) assert.match(text, `\n  <${n}>0</${n}>\n`, `${s.path} ${n}`);
  }
});

test('capture-caps keeps that header with neutral values, keeps QEMU\'s host CPU expansion and drops the host-specific rest', () => {
  const probe = [
    '<qemuCaps>',
    '  <emulator>/usr/bin/qemu-system-s390x</emulator>',
    '  <qemuctime>1795946904</qemuctime>',
    '  <qemumoddirmtime>1795946902</qemumoddirmtime>',
    '  <selfctime>1795946902</selfctime>',
    '  <selfvers>9000000</selfvers>',
    "  <flag name='vfio-pci'/>",
    '  <version>7002022</version>',
    '  <kvmVersion>0</kvmVersion>',
    '  <microcodeVersion>16777317</microcodeVersion>',
    '  <hostCPUSignature>AuthenticAMD, AMD EPYC</hostCPUSignature>',
    '  <package>Debian 1:7.2+dfsg-7</package>',
    '  <kernelVersion>6.1.0 #1 SMP</kernelVersion>',
    "  <cpudata arch='x86'>",
    "    <cpuid eax_in='0x00000000'/>",
    '  </cpudata>',
    '  <arch>s390x</arch>',
    "  <hostCPU type='kvm' model='base' migratability='yes'>",
    "    <property name='x' type='boolean' value='true'/>",
    '  </hostCPU>',
    '</qemuCaps>',
    '',
  ].join('\n');
  const n = normalizeProbe(probe);
  assert.equal(loaderProblems(n, 's390x'), []);
  assert.is(n, [
    '<qemuCaps>',
    '  <emulator>/usr/bin/qemu-system-s390x</emulator>',
    '  <qemuctime>0</qemuctime>',
    '  <selfctime>0</selfctime>',
    '  <selfvers>0</selfvers>',
    "  <flag name='vfio-pci'/>",
    '  <version>7002022</version>',
    '  <kvmVersion>0</kvmVersion>',
    '  <microcodeVersion>0</microcodeVersion>',
    '  <package>Debian 1:7.2+dfsg-7</package>',
    '  <arch>s390x</arch>',
    "  <hostCPU type='kvm' model='base' migratability='yes'>",
    "    <property name='x' type='boolean' value='true'/>",
    '  </hostCPU>',
    '</qemuCaps>',
    '',
  ].join('\n'));
});

// ---- normalization -------------------------------------------------------------------

test('the harness home /tmp/lib/domain--1-NAME reads as /var/lib/libvirt/qemu/domain--1-NAME', () => {
  const args = read('golden/xml2argv/domain/minimal.x86_64-8.1.0.args');
  assert.match(args, '/var/lib/libvirt/qemu/domain--1-minimal');
  const harness = args.replaceAll('/var/lib/libvirt/qemu/domain--1-', '/tmp/lib/domain--1-');
  assert.is.not(harness, args);
  assert.equal(normalizeHarnessOutcome('xml2argv', out(harness)), out(args));
});

test('only the home is normalized: other /tmp paths, errors and xml2xml stay as written', () => {
  const text = "LC_ALL=C \\\nHOME=/tmp/lib/domain--1-a \\\n/usr/bin/qemu-system-x86_64 \\\n-name guest=a \\\n-x /tmp/lib/other \\\n-y /tmp/libdomain--1-a\n";
  const n = normalizeHarnessOutcome('xml2argv', out(text));
  assert.equal(n, out("LC_ALL=C \\\nHOME=/var/lib/libvirt/qemu/domain--1-a \\\nUSER=test \\\nLOGNAME=test \\\n/usr/bin/qemu-system-x86_64 \\\n-name guest=a \\\n-x /tmp/lib/other \\\n-y /tmp/libdomain--1-a\n"));
  assert.equal(normalizeHarnessOutcome('xml2argv', err('no /tmp/lib/domain--1-a here')), err('no /tmp/lib/domain--1-a here'));
  assert.equal(normalizeHarnessOutcome('xml2xml', out('<x>/tmp/lib/domain--1-a</x>\n')), out('<x>/tmp/lib/domain--1-a</x>\n'));
});

test("a parse error names the file the harness read as libvirt names a string it is handed, on virsh's one line", () => {
  const harness = "/tmp/virtgold-snapshots-x/in/c7.xml:4: xmlParseCharRef: invalid xmlChar value 7\n  <title>bell&#7;</title>\n-----------------^\n";
  assert.equal(normalizeHarnessOutcome('xml2argv', { kind: 'error', text: harness }), { kind: 'error', text: '(domain_definition):4: xmlParseCharRef: invalid xmlChar value 7\n' });
  assert.equal(normalizeHarnessOutcome('xml2xml', { kind: 'error', text: 'unknown on_reboot action: bogus\u009bx\nsecond line\n' }), { kind: 'error', text: 'unknown on_reboot action: bogus\\u009bx\n' });
});

test("the harness's NUMA mock refuses a node the way libvirt's own function does", () => {
  assert.equal(normalizeHarnessOutcome('xml2argv', err('internal error: Mock: no numa node set is available at bit 999')), err('unsupported configuration: NUMA node 999 is unavailable'));
  assert.equal(normalizeHarnessOutcome('xml2argv', err('internal error: Mock: something else')), err('internal error: Mock: something else'));
});

test('withVfioDriver gives PCI hostdevs without <driver> the vfio driver, and nothing else', () => {
  const pci = "<hostdev mode='subsystem' type='pci'><source/></hostdev>";
  assert.is(withVfioDriver(pci), "<hostdev mode='subsystem' type='pci'><driver name='vfio'/><source/></hostdev>");
  assert.is(withVfioDriver("<interface type=\"hostdev\">\n<mac address='52:54:00:00:00:01'/></interface>"), "<interface type=\"hostdev\"><driver name='vfio'/>\n<mac address='52:54:00:00:00:01'/></interface>");
  for (const same of [
    "<hostdev mode='subsystem' type='pci'><driver name='vfio'/><source/></hostdev>",
    "<hostdev mode='subsystem' type='pci'><source/><driver name='kvm'/></hostdev>",
    "<hostdev mode='subsystem' type='usb'><source/></hostdev>",
    "<interface type='network'><source network='default'/></interface>",
  ]) assert.is(withVfioDriver(same), same);
});

test('withStaticVcpus and withoutPresetAdvice touch only the numad cause and its trace', () => {
  assert.is(withStaticVcpus("<vcpu placement='auto'>2</vcpu><numatune><memory placement='auto'/></numatune>"), "<vcpu placement='static'>2</vcpu><numatune><memory placement='auto'/></numatune>");
  assert.is(withStaticVcpus('<vcpu>2</vcpu>'), '<vcpu>2</vcpu>');
  assert.is(withoutPresetAdvice(`-object '{"qom-type":"memory-backend-ram","id":"pc.ram","size":1,"host-nodes":[0,1,2,3],"policy":"bind"}'`), `-object '{"qom-type":"memory-backend-ram","id":"pc.ram","size":1}'`);
  assert.is(withoutPresetAdvice('"host-nodes":[0,1],"policy":"bind"'), '"host-nodes":[0,1],"policy":"bind"');
});

// ---- the classifier on hand-made pairs ------------------------------------------------

test('same: equal output, or the same error', () => {
  assert.is(excused(classify(compared({ golden: golden(out('a\n')), libvirt: out('a\n') }))), 'same');
  assert.is(excused(classify(compared({ golden: golden(err('internal error: x')), libvirt: err('internal error: x') }))), 'same');
});

test('failure: any difference without a cause in the input, with the diff', () => {
  const v = classify(compared({ golden: golden(out('a\n')), libvirt: out('b\n') }));
  assert.is(v.class, 'failure');
  assert.match((v as { message: string }).message, /^-a$/m);
  assert.match((v as { message: string }).message, /^\+b$/m);
  assert.is(classify(compared({ golden: golden(err('x')), libvirt: err('y') })).class, 'failure');
  assert.is(classify(compared({ golden: golden(err('x')), libvirt: out('x\n') })).class, 'failure');
});

test('failure: no answer from the harness, or no golden', () => {
  assert.equal(classify(compared({ golden: golden(out('a\n')), libvirt: "libvirt's loader rejects capabilities/x: missing emulator" })), { class: 'failure', message: "libvirt's loader rejects capabilities/x: missing emulator" });
  assert.equal(classify(compared({ golden: 'no golden: golden/x.args', libvirt: out('a\n') })), { class: 'failure', message: 'no golden: golden/x.args' });
});

test('unsupported: only virtgold\'s own refusal', () => {
  assert.equal(excused(classify(compared({ golden: golden(err('unsupported: <disk> is not implemented by the virtgold translator')), libvirt: out('a\n') }))), ['unsupported']);
  assert.is(classify(compared({ golden: golden(err('unsupported configuration: x')), libvirt: out('a\n') })).class, 'failure');
});

const token = "<hostdev mode='subsystem' type='pci'><driver name='vfio'/><source><address bus='0x06'><vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/></address></source></hostdev>";

test('vf-token: libvirt must answer as virtgold does without the token', () => {
  const xml = `<domain>${token}</domain>`;
  const ref = reference({ [stripVfToken(xml)]: out('without\n') });
  assert.equal(excused(classify(compared({ xml, golden: golden(out('with\n')), libvirt: out('without\n'), reference: ref }))), ['vf-token']);
  assert.equal(excused(classify(compared({ mode: 'xml2xml', xml, golden: golden(err('XML error: malformed vf-token uuid')), libvirt: out('without\n'), reference: ref }))), ['vf-token']);
  const v = classify(compared({ xml, golden: golden(out('with\n')), libvirt: out('something else\n'), reference: ref }));
  assert.is(v.class, 'failure');
  assert.match((v as { message: string }).message, 'vf-token do not account for it');
});

test('hostdev-vfio: xml2argv only, held to virtgold with the vfio driver added', () => {
  const xml = "<domain><hostdev mode='subsystem' type='pci'><source/></hostdev></domain>";
  const ref = reference({ [withVfioDriver(xml)]: out('vfio\n') });
  const g = golden(err("internal error: invalid PCI passthrough type 'default'"));
  assert.equal(excused(classify(compared({ xml, golden: g, libvirt: out('vfio\n'), reference: ref }))), ['hostdev-vfio']);
  assert.is(classify(compared({ xml, golden: g, libvirt: out('other\n'), reference: ref })).class, 'failure');
  assert.is(classify(compared({ mode: 'xml2xml', xml, golden: g, libvirt: out('vfio\n'), reference: ref })).class, 'failure');
});

test('numad: only where the golden is libvirt\'s numad refusal; the preset binding is its only trace', () => {
  const xml = "<domain><vcpu placement='auto'>1</vcpu></domain>";
  const refusal = golden(err('internal error: Advice from numad is needed in case of automatic numa placement'));
  const ref = reference({ [withStaticVcpus(xml)]: out(`-object '{"id":"pc.ram","size":1}'\n`) });
  const lv = out(`-object '{"id":"pc.ram","size":1,"host-nodes":[0,1,2,3],"policy":"bind"}'\n`);
  assert.equal(excused(classify(compared({ xml, golden: refusal, libvirt: lv, reference: ref }))), ['numad']);
  assert.is(classify(compared({ xml, golden: refusal, libvirt: out(`-object '{"id":"pc.ram","size":2,"host-nodes":[0,1,2,3],"policy":"bind"}'\n`), reference: ref })).class, 'failure');
  assert.is(classify(compared({ xml, golden: golden(err('internal error: other')), libvirt: lv, reference: ref })).class, 'failure');
  assert.is(classify(compared({ mode: 'xml2xml', xml, golden: refusal, libvirt: lv, reference: ref })).class, 'failure');
});

test('two causes in one input: both removed, both named', () => {
  const xml = "<domain><vcpu placement='auto'>1</vcpu><hostdev mode='subsystem' type='pci'><source/></hostdev></domain>";
  const refusal = golden(err('internal error: Advice from numad is needed in case of automatic numa placement'));
  const ref = reference({ [withStaticVcpus(withVfioDriver(xml))]: err('unsupported configuration: ports') });
  assert.equal(excused(classify(compared({ xml, golden: refusal, libvirt: err('unsupported configuration: ports'), reference: ref }))), ['hostdev-vfio', 'numad']);
});

test('a reference translator that crashes is a failure, not an excuse', () => {
  const xml = `<domain>${token}</domain>`;
  const v = classify(compared({ xml, golden: golden(out('a\n')), libvirt: out('b\n'), reference: () => ({ kind: 'crash', message: 'TypeError: boom' }) }));
  assert.is(v.class, 'failure');
  assert.match((v as { message: string }).message, 'crashed');
});

test('on the shipped corpus: the no-driver case is excused by the real reference translator', () => {
  const snap = discoverSnapshots(repo).find((s) => s.version === '8.1.0' && s.arch === 'x86_64')!;
  const xml = read('cases/hostdev/no-driver.xml');
  const lv = runBuiltin('xml2argv', snap.path, withVfioDriver(xml));
  assert.is(lv.kind, 'output');
  const g = golden(err("internal error: invalid PCI passthrough type 'default'"));
  assert.is(read('golden/xml2argv/hostdev/no-driver.x86_64-8.1.0.err'), (g as { text: string }).text);
  assert.equal(excused(classify({ mode: 'xml2argv', xml, golden: g, libvirt: lv, reference: (x) => runBuiltin('xml2argv', snap.path, x) })), ['hostdev-vfio']);
});

test('asNativeNics rebuilds interfaces as domxml-to-native does: type ethernet, the first mac, model, script and boot order', () => {
  const xml = "<domain><devices><interface type='network'><source network='default'/><mac address='52:54:00:00:00:01'/><model type='virtio'/><driver queues='4'/><boot order='1' loadparm='x'/><address type='pci' slot='0x10'/></interface>" +
    "<interface type='hostdev'><source/></interface><interface type='user'/><!-- <interface type='bridge'/> --></devices></domain>";
  assert.is(asNativeNics(xml), "<domain><devices><interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/><boot order='1'/></interface>" +
    "<interface type='hostdev'><source/></interface><interface type='ethernet'></interface></devices></domain>");
  assert.ok(hasNativeNics(xml));
  assert.not.ok(hasNativeNics("<domain><devices><interface type='hostdev'><source/></interface></devices></domain>"));
});

test('native-nics: the harness on the rebuilt input stands for the input once its answer reached the command line', () => {
  const xml = "<domain><interface type='bridge'><source bridge='br0'/><boot order='2'/></interface></domain>";
  const nic = `-netdev '{"type":"tap","fd":"3","vhost":true,"vhostfd":"44","id":"hostnet0"}' \\\n-device '{"driver":"rtl8139","netdev":"hostnet0","id":"net0","mac":"52:54:00:00:00:01","bootindex":2,"bus":"pci.0","addr":"0x2"}'\n`;
  const want = `-netdev '{"type":"tap","fd":"-1","id":"hostnet0"}' \\\n-device '{"driver":"rtl8139","netdev":"hostnet0","id":"net0","mac":"52:54:00:00:00:01","bus":"pci.0","addr":"0x2"}'\n`;
  const g = golden(out(want));
  for (const lv of [err('internal error: Missing bridge name'), out('-netdev x\n')]) {
    assert.equal(excused(classify(compared({ xml, golden: g, libvirt: lv, libvirtNative: out(nic) }))), ['native-nics']);
  }
  // a refusal before the command line is libvirt's answer, not a host NIC's
  assert.is(classify(compared({ xml, golden: g, libvirt: err('unsupported configuration: x'), libvirtNative: out(nic) })).class, 'failure');
  // another bootindex is a difference
  assert.is(classify(compared({ xml, golden: g, libvirt: out('a\n'), libvirtNative: out(nic.replace('"bootindex":2', '"bootindex":3')) })).class, 'failure');
  // a crash counts only for null/vds interfaces
  assert.not.ok(passedToCommandLine("libvirt's qemuxml2argvtest was killed by SIGSEGV on it", xml));
  assert.ok(passedToCommandLine("libvirt's qemuxml2argvtest was killed by SIGSEGV on it", "<interface type='null'/>"));
  assert.is(nativeNicTrace(xml, nic), want.replace(/^-netdev .*? \\$/m, "-netdev '(value not compared: domxml-to-native uses a placeholder tap)' \\"));
});

test('every excuse is described', () => {
  assert.equal(Object.keys(EXCUSES).sort(), ['hostdev-vfio', 'native-nics', 'numad', 'unsupported', 'vf-token']);
});

test.run();
