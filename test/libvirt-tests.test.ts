// The libvirt-tests reference offline (no harness built, no process started): which inputs
// its stand-in host cannot judge, how entries are grouped into program runs, and which
// snapshots compare gives each domain (several --caps: those of its arch).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { namedVersion } from '../harness/cases.js';
import { snapshotsOf } from '../harness/compare.js';
import { batches, harnessCannot, type Job } from '../harness/libvirt-tests-adapter.js';
import type { HostProbe } from '../harness/libvirt.js';
import type { CompareInput, MatrixEntry, Mode, Snapshot } from '../harness/types.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const snap = (arch: string, version: string): Snapshot => ({ arch, version, path: join(repo, `capabilities/caps_${version}_${arch}.xml`) });
const x82 = snap('x86_64', '8.2.0');
const x81 = snap('x86_64', '8.1.0');
const s81 = snap('s390x', '8.1.0');
const input = (name: string, arch: string, xml = '<domain/>'): CompareInput => ({ name, path: `/d/${name}.xml`, arch, xml });
const entry = (name: string, snapshot: Snapshot, mode: Mode): MatrixEntry => ({
  case: { name, path: `/d/${name}.xml`, arch: snapshot.arch, options: {} }, snapshot, mode, stem: '', relStem: '',
});

const hostdev = (driver = '') => `<domain><devices><hostdev mode='subsystem' type='pci'>${driver}<source><address bus='0x06'/></source></hostdev></devices></domain>`;

test('the harness judges a PCI hostdev without <driver> only in xml2xml (it forces vfio on a command line)', () => {
  assert.match(harnessCannot('xml2argv', hostdev()) ?? '', /forces vfio on PCI hostdevs without <driver>/);
  assert.is(harnessCannot('xml2xml', hostdev()), undefined);
  assert.is(harnessCannot('xml2argv', hostdev("<driver name='vfio'/>")), undefined);
  assert.match(harnessCannot('xml2argv', "<domain><devices><interface type='hostdev'><source/></interface></devices></domain>") ?? '', /forces vfio/);
  assert.is(harnessCannot('xml2argv', "<domain><devices><hostdev mode='subsystem' type='usb'><source/></hostdev></devices></domain>"), undefined);
});

test('automatic NUMA placement on a command line: the harness presets numad advice', () => {
  for (const xml of ["<domain><vcpu placement='auto'>2</vcpu></domain>", '<domain><numatune><memory mode="strict" placement="auto"/></numatune></domain>']) {
    assert.match(harnessCannot('xml2argv', xml) ?? '', /numad/, xml);
    assert.is(harnessCannot('xml2xml', xml), undefined, xml);
  }
  assert.is(harnessCannot('xml2argv', "<domain><vcpu placement='static'>2</vcpu><memory unit='KiB'>1024</memory></domain>"), undefined);
});

test('vf-token: never judged (libvirt 9.0.0 ignores it); a commented-out cause is no cause', () => {
  const xml = "<domain><devices><hostdev mode='subsystem' type='pci'><driver name='vfio'/><source><address bus='0x06'><vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/></address></source></hostdev></devices></domain>";
  assert.match(harnessCannot('xml2argv', xml) ?? '', /vf-token/);
  assert.match(harnessCannot('xml2xml', xml) ?? '', /vf-token/);
  assert.is(harnessCannot('xml2argv', "<domain><!-- <vcpu placement='auto'>2</vcpu> --><vcpu>2</vcpu></domain>"), undefined);
});

test('one program run per snapshot and mode, entries in order', () => {
  const jobs: Job[] = [
    entry('a', x82, 'xml2argv'), entry('a', x82, 'xml2xml'), entry('b', x82, 'xml2argv'), entry('c', s81, 'xml2argv'), entry('a', x81, 'xml2argv'),
  ].map((e) => ({ entry: e, xml: '<domain/>' }));
  const got = batches(jobs).map((b) => `${b.snapshot.arch}-${b.snapshot.version} ${b.mode}: ${b.entries.map((e) => e.case.name).join(' ')}`);
  assert.equal(got, ['x86_64-8.2.0 xml2argv: a b', 'x86_64-8.2.0 xml2xml: a', 's390x-8.1.0 xml2argv: c', 'x86_64-8.1.0 xml2argv: a']);
});

test('several --caps: each domain runs on those of its arch, one --caps on every domain', () => {
  const o = { caps: [x82, x81, s81], libvirt: false, probes: [] };
  assert.equal(snapshotsOf(input('x', 'x86_64'), o), [x82, x81]);
  assert.equal(snapshotsOf(input('s', 's390x'), o), [s81]);
  assert.is(snapshotsOf(input('p', 'ppc64'), o), 'no --caps of arch ppc64');
  assert.equal(snapshotsOf(input('p', 'ppc64'), { ...o, caps: [x82] }), [x82]);
});

test('with real libvirt, only the --caps that is the probe it would use', () => {
  const probes: HostProbe[] = [{ path: '/var/cache/x.xml', emulator: '/usr/bin/qemu-system-x86_64', arch: 'x86_64', version: '8.1.0' }];
  assert.equal(snapshotsOf(input('x', 'x86_64'), { caps: [x82, x81], libvirt: true, probes }), [x81]);
  assert.match(snapshotsOf(input('x', 'x86_64'), { caps: [x82], libvirt: true, probes }) as string, /^libvirt would use \/usr\/bin\/qemu-system-x86_64 \(x86_64 QEMU 8\.1\.0\), not --caps \(x86_64 QEMU 8\.2\.0\)$/);
  assert.equal(snapshotsOf(input('x', 'x86_64'), { libvirt: true, probes }), [{ arch: 'x86_64', version: '8.1.0', path: '/var/cache/x.xml' }]);
});

test("a snapshot is named by its file where the project's pattern names it (8.1.0, not QEMU's 8.0.50)", () => {
  assert.is(namedVersion(s81.path, 's390x'), '8.1.0');
  assert.is(namedVersion(s81.path, 'x86_64'), undefined);
  assert.is(namedVersion('/var/cache/libvirt/qemu/capabilities/3c76bc41.xml', 'x86_64'), undefined);
});

test.run();
