// `virtgold compare` in-process: the classifier on hand-made pairs (every class, and which
// class wins when several apply), libvirt's host-specific errors, how a domain finds its
// snapshot, and a compare of the reference translator with itself over the shipped cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XMLValidator } from 'fast-xml-parser';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinAdapter } from '../harness/adapters.js';
import { classify, type Side } from '../harness/classify.js';
import { compareAll, findInputs, probeFor } from '../harness/compare.js';
import { compareCounts, compareJson, comparePretty, compareSuite } from '../harness/compare-report.js';
import { excuseNetdev } from '../harness/libvirt.js';
import { hostReason } from '../harness/libvirt-host.js';
import { junit, tap } from '../harness/reporters.js';
import type { Adapter, CompareInput, SideOutcome } from '../harness/types.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

const out = (text: string): SideOutcome => ({ kind: 'output', text });
const err = (text: string): SideOutcome => ({ kind: 'error', text: `${text}\n` });
const crash = (message: string): SideOutcome => ({ kind: 'crash', message });
const notRun = (reason: string): SideOutcome => ({ kind: 'not-run', reason });
const tr = (outcome: SideOutcome, extra: Partial<Side> = {}): Side => ({ label: 'translator (t)', outcome, ...extra });
// A reference that behaves like real libvirt: netdev excused, host errors recognized.
const lv = (outcome: SideOutcome): Side => ({ label: 'reference (libvirt)', outcome, normalize: excuseNetdev, hostSpecific: hostReason });

const ARGS = 'LC_ALL=C \\\n/usr/bin/qemu-system-x86_64 \\\n-name guest=a \\\n-netdev tap,fd=3,id=hostnet0\n';
const UNSUPPORTED = "unsupported: <devices><disk> is not implemented by the virtgold translator";
const HUGEPAGES = 'internal error: hugetlbfs filesystem is not mounted or disabled by administrator config';

test('same: equal output, equal after the contract\'s normalization, the same error', () => {
  assert.equal(classify(tr(out(ARGS)), lv(out(ARGS))), { class: 'same' });
  assert.is(classify(tr(out(ARGS.replace('fd=3', 'fd=42'))), lv(out(ARGS))).class, 'same', '-netdev values are excused');
  assert.equal(classify(tr(err('XML error: x')), lv(err('XML error: x'))), { class: 'same' });
});

test('refused: the translator declares it does not implement this, whatever the reference says', () => {
  for (const r of [out(ARGS), err('XML error: bad'), err(HUGEPAGES), notRun('no probe')]) {
    assert.equal(classify(tr(err(UNSUPPORTED)), lv(r)), { class: 'refused', reason: UNSUPPORTED });
  }
  // libvirt's own "unsupported configuration: …" is an answer, not a declaration.
  assert.is(classify(tr(err('unsupported configuration: no')), lv(out(ARGS))).class, 'differs');
});

test('differs: other output, or one side accepts what the other refuses for a reason a translator can see', () => {
  const d = classify(tr(out(ARGS.replace('guest=a', 'guest=b'))), lv(out(ARGS)));
  assert.is(d.class, 'differs');
  assert.is(d.reason, 'different output');
  assert.match(d.diff!, /^--- reference \(libvirt\)$/m);
  assert.match(d.diff!, /^-\s*-name guest=a/m);
  assert.match(d.diff!, /^\+\s*-name guest=b/m);
  const refuses = classify(tr(err('XML error: Exactly one cell')), lv(out(ARGS)));
  assert.is(refuses.class, 'differs');
  assert.match(refuses.reason!, /^translator \(t\) refuses what reference \(libvirt\) accepts: XML error: Exactly one cell$/);
  const accepts = classify(tr(out(ARGS)), lv(err('XML error: missing TPM device backend')));
  assert.is(accepts.class, 'differs');
  assert.match(accepts.reason!, /accepts what reference \(libvirt\) refuses: XML error: missing TPM device backend/);
});

test('message: both refuse, with different messages', () => {
  const m = classify(tr(err('internal error: zPCI uid 4660 is already reserved')), lv(err('internal error: zPCI uid 11064 is already reserved')));
  assert.is(m.class, 'message');
  assert.match(m.reason!, /reference \(libvirt\): internal error: zPCI uid 11064 .* \| translator \(t\): internal error: zPCI uid 4660/);
});

test('broken: a side crashed, hung or broke its protocol, before anything else', () => {
  assert.equal(classify(tr(crash('killed by SIGSEGV')), lv(out(ARGS))), { class: 'broken', reason: 'translator (t): killed by SIGSEGV' });
  assert.equal(classify(tr(out(ARGS)), lv(crash('virsh did not answer'))), { class: 'broken', reason: 'reference (libvirt): virsh did not answer' });
  assert.is(classify(tr(crash('timed out')), lv(err(HUGEPAGES))).class, 'broken');
  assert.is(classify(tr(err(UNSUPPORTED)), lv(crash('x'))).class, 'broken');
});

test('skipped: the reference was not asked, failed because of the host, or does not implement it', () => {
  assert.equal(classify(tr(out(ARGS)), lv(notRun('libvirt has probed no ppc64 QEMU on this host'))), { class: 'skipped', reason: 'libvirt has probed no ppc64 QEMU on this host' });
  const host = classify(tr(out(ARGS)), lv(err(HUGEPAGES)));
  assert.is(host.class, 'skipped');
  assert.is(host.reason, `reference (libvirt) depends on the host: hugepages on the host: ${HUGEPAGES}`);
  assert.is(classify(tr(err('XML error: x')), lv(err('Secret not found: no secret with matching uuid \'0a81\''))).class, 'skipped');
  const builtinRef: Side = { label: 'reference (builtin)', outcome: err(UNSUPPORTED) };
  assert.equal(classify(tr(out(ARGS)), builtinRef), { class: 'skipped', reason: `reference (builtin) does not implement it: ${UNSUPPORTED}` });
  // Real libvirt as the translator under test: its host failures are skipped too.
  assert.is(classify(lv(err(HUGEPAGES)), { label: 'reference (builtin)', outcome: out(ARGS) }).class, 'skipped');
  assert.is(classify(tr(notRun('libvirt 9.0.0 has no vf-token support')), lv(out(ARGS))).class, 'skipped');
});

test("libvirt's errors: the host's resources are host-specific, what the input or the probe file says is not", () => {
  for (const e of [HUGEPAGES, "Secret not found: no secret with matching usage 'mycluster_myname'", 'unsupported configuration: NUMA node 1 is unavailable',
    "operation failed: Unable to find any firmware to satisfy 'efi'", "cannot open directory '/dev/dri': No such file or directory",
    "unsupported configuration: TPM version '2.0' is not supported", 'internal error: Advice from numad is needed in case of automatic numa placement',
    'the CPU is incompatible with host CPU: Host CPU does not provide required features: rtm', "Storage pool not found: no storage pool with matching name 'pool-disk'",
    'unsupported configuration: spice TLS port set in XML configuration, but TLS is disabled in qemu.conf', 'End of file while reading data: Input/output error']) {
    assert.ok(hostReason(e), e);
  }
  for (const e of ['XML error: missing TPM device backend', 'hugepages: node 1 not found', 'missing target information for device /dev/HostVG/QEMUGuest1',
    "unsupported configuration: Emulator '/usr/bin/qemu-system-s390x' does not support virt type 'kvm'", "unsupported configuration: sgx epc isn't supported by this QEMU binary",
    "unsupported configuration: CPU mode 'host-passthrough' for x86_64 qemu domain on x86_64 host is not supported by hypervisor"]) {
    assert.is(hostReason(e), undefined, e);
  }
});

const input = (xml: string, arch = 'x86_64'): CompareInput => ({ name: 'd.xml', path: '/d.xml', arch, xml });
const probes = [
  { path: '/c/x86.xml', emulator: '/usr/bin/qemu-system-x86_64', arch: 'x86_64', version: '7.2.0' },
  { path: '/c/i386.xml', emulator: '/usr/bin/qemu-system-i386', arch: 'i686', version: '7.2.0' },
];

test("a domain's snapshot: the probe of its <emulator>, else of its arch; none is a reason", () => {
  assert.is((probeFor(input('<domain><devices><emulator>/usr/bin/qemu-system-i386</emulator></devices></domain>'), probes) as { path: string }).path, '/c/i386.xml');
  assert.is((probeFor(input('<domain><os><type arch="x86_64">hvm</type></os></domain>'), probes) as { path: string }).path, '/c/x86.xml');
  assert.match(probeFor(input('<domain><devices><emulator>/usr/libexec/qemu-kvm</emulator></devices></domain>'), probes) as string, /no probe file for emulator \/usr\/libexec\/qemu-kvm/);
  assert.match(probeFor(input('<domain/>', 'ppc64'), probes) as string, /probed no ppc64 QEMU/);
});

test('builtin against itself on the shipped cases: same or refused, reporters agree', async () => {
  const caps = { arch: 'x86_64', version: '7.2.0', path: join(repo, 'capabilities/caps_7.2.0_x86_64.xml') };
  // Three areas of the shipped cases (hostdevs among them, which the mangling touches).
  const inputs = findInputs(['cases/domain', 'cases/hostdev', 'cases/kvm'], repo, ['x86_64']);
  assert.ok(inputs.length > 20);
  assert.ok(inputs.every((i) => i.name.startsWith('cases/') && i.arch === 'x86_64'));
  // A copy of builtin that mangles one field, so that some entries differ.
  const mangled: Adapter = { name: 'mangled', translate: async (e, xml) => {
    const o = await builtinAdapter.translate(e, xml);
    return o.kind === 'output' ? { kind: 'output', text: o.text.replace('"driver":"vfio-pci"', '"driver":"vfio-pcx"') } : o;
  } };
  const run = await compareAll({ translator: mangled, reference: builtinAdapter, inputs, modes: ['xml2argv', 'xml2xml'], caps: [caps], probes: [], libvirt: false, jobs: 4 });
  const c = compareCounts(run);
  assert.equal(Object.keys(c), ['same', 'refused', 'differs', 'message', 'broken', 'skipped']);
  assert.is(run.results.length, inputs.length * 2);
  assert.ok(c.same > 20 && c.differs > 0);
  assert.is(c.message + c.broken + c.skipped, 0);
  assert.ok(run.results.filter((r) => r.class === 'differs').every((r) => r.mode === 'xml2argv' && /vfio-pcx/.test(r.diff!)));
  const j = JSON.parse(compareJson(run));
  assert.equal(Object.keys(j), ['counts', 'entries']);
  assert.equal(j.counts, c);
  assert.is(j.entries.length, run.results.length);
  const p = comparePretty(run);
  assert.match(p, new RegExp(`^differs +${c.differs}$`, 'm'));
  assert.match(p, /^DIFFERS xml2argv cases\/hostdev\//m);
  const s = compareSuite(run);
  assert.is((tap(s).match(/^not ok /gm) ?? []).length, c.differs);
  assert.is(XMLValidator.validate(junit(s)), true);
});

test.run();
