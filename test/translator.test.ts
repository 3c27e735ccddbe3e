// Unit tests of the translator stages, independent of the golden corpus.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaps, findMachine, CapsError } from '../translator/capabilities.js';
import { parseDomain } from '../translator/stages/parse.js';
import { unitScale } from '../translator/domain/units.js';
import { translate } from '../translator/index.js';
import { TranslationError } from '../translator/errors.js';
import { normalizeNativeArgv } from '../harness/libvirt.js';
import { shellWords } from '../harness/shell-words.js';
import { err } from './helpers/errors.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const capsText = (v: string, arch = 'x86_64') => readFileSync(`${repo}/capabilities/caps_${v}_${arch}.xml`, 'utf8');
const caps72 = loadCaps(capsText('7.2.0'), 'caps_7.2.0_x86_64.xml');
const caps81 = loadCaps(capsText('8.1.0'), 'caps_8.1.0_x86_64.xml');
const caps81s = loadCaps(capsText('8.1.0', 's390x'), 'caps_8.1.0_s390x.xml');

function domain(devices: string, arch = 'x86_64', machine = arch === 's390x' ? 's390-ccw-virtio' : 'pc'): string {
  return `<domain type='qemu'><name>d</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
<memory>219136</memory><os><type arch='${arch}' machine='${machine}'>hvm</type></os>
<devices>${devices}</devices></domain>`;
}
const hostdev = (token: string) => `<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/>
<source><address domain='0x0000' bus='0x06' slot='0x12' function='0x5'>${token}</address></source></hostdev>`;


// ---- capability snapshots ----

test('caps: shipped snapshots expose version, arch, flags, machines, CPU models', () => {
  assert.equal([caps72.version.major, caps72.version.minor], [7, 2]);
  assert.is(caps72.arch, 'x86_64');
  assert.ok(caps72.flags.has('vfio-pci'));
  assert.not.ok(caps72.flags.has('vfio-pci.vf-token'));
  assert.ok(caps81.flags.has('vfio-pci.vf-token'));
  assert.ok(caps81s.flags.has('vfio-pci.vf-token'));
  const pc = findMachine(caps72, 'tcg', 'pc')!;
  assert.is(pc.name, 'pc-i440fx-7.2');
  assert.ok(pc.isDefault);
  assert.is(pc.maxCpus, 255);
  assert.is(pc.defaultCPU, 'qemu64-x86_64-cpu');
  assert.is(pc.defaultRAMid, 'pc.ram');
  assert.is(findMachine(caps81, 'tcg', 'pc')!.name, 'pc-i440fx-8.1');
  assert.ok(caps72.machines.some((m) => m.deprecated));
  assert.ok(caps72.cpuModels.some((c) => c.name === 'qemu64' && c.typename === 'qemu64-x86_64-cpu'));
  assert.is(findMachine(caps81s, 'tcg', 's390-ccw-virtio')!.name, 's390-ccw-virtio-8.1');
});

test('caps: a file that is not a capabilities file is refused clearly', () => {
  assert.throws(() => loadCaps('<domain/>', 'x.xml'), (e: Error) => e instanceof CapsError && /root element is <domain>/.test(e.message));
  assert.throws(() => loadCaps('not xml at all <', 'y.xml'), (e: Error) => e instanceof CapsError && /y\.xml: not a QEMU capabilities file/.test(e.message));
  assert.throws(() => loadCaps('<qemuCaps><arch>x86_64</arch></qemuCaps>', 'z.xml'), /missing or invalid <version>/);
});

// ---- vf-token ----

test('vf-token: parsed, lower-cased, formatted inside the source address', () => {
  const xml = translate('xml2xml', domain(hostdev("<vf-token uuid='A0B1C2D3-E4F5-0617-2839-4A5B6C7D8E9F'/>")), caps81);
  assert.match(xml, /<address domain='0x0000' bus='0x06' slot='0x12' function='0x5'>\n {10}<vf-token uuid='a0b1c2d3-e4f5-0617-2839-4a5b6c7d8e9f'\/>\n {8}<\/address>/);
});

test('vf-token: on the command line directly after "host"', () => {
  const args = translate('xml2argv', domain(hostdev("<vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/>")), caps81);
  assert.match(args, /-device '\{"driver":"vfio-pci","host":"0000:06:12\.5","vf-token":"00112233-4455-6677-8899-aabbccddeeff","id":"hostdev0",/);
});

test('vf-token: also on <interface type="hostdev"> and on s390x zpci', () => {
  const net = `<interface type='hostdev' managed='yes'><mac address='52:54:00:00:00:01'/><driver name='vfio'/>
<source><address type='pci' domain='0x0000' bus='0x07' slot='0x10' function='0x1'><vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/></address></source></interface>`;
  assert.match(translate('xml2argv', domain(net), caps81), /"host":"0000:07:10\.1","vf-token":"00112233-4455-6677-8899-aabbccddeeff"/);
  const s390 = translate('xml2argv', domain(hostdev("<vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/>"), 's390x'), caps81s);
  assert.match(s390, /"driver":"zpci","uid":1,"fid":0,"target":"hostdev0","id":"zpci1"\}' \\\n-device '\{"driver":"vfio-pci","host":"0000:06:12\.5","vf-token":/);
});

test('vf-token: malformed, missing, duplicated, or without vfio is an XML error naming vf-token', () => {
  for (const [token, re] of [
    ["<vf-token uuid='0011223-4455-6677-8899-aabbccddeeff'/>", /^XML error: malformed vf-token uuid/],
    ["<vf-token uuid='00112233445566778899aabbccddeeff'/>", /^XML error: malformed vf-token uuid/],
    ["<vf-token uuid=''/>", /^XML error: malformed vf-token uuid ''/],
    ['<vf-token/>', /^XML error: missing 'uuid' attribute in <vf-token>/],
    ["<vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/><vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/>", /^XML error: only one <vf-token>/],
  ] as const) {
    assert.match(err(() => translate('xml2xml', domain(hostdev(token)), caps81)), re);
  }
  const kvm = hostdev("<vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/>").replace("name='vfio'", "name='kvm'");
  assert.match(err(() => translate('xml2xml', domain(kvm), caps81)), /^XML error: vf-token requires <driver name='vfio'\/>/);
});

test('vf-token: refused without the vfio-pci.vf-token capability', () => {
  const xml = domain(hostdev("<vf-token uuid='00112233-4455-6677-8899-aabbccddeeff'/>"));
  assert.is(err(() => translate('xml2xml', xml, caps72)), 'unsupported configuration: vf-token is not supported by this QEMU binary');
  assert.is(err(() => translate('xml2argv', xml, caps72)), 'unsupported configuration: vf-token is not supported by this QEMU binary');
});

// ---- parsing details ----

test('memory units scale like libvirt (KB is 1000, KiB is 1024, rounded up to KiB)', () => {
  assert.is(unitScale('KB', 1024), 1000);
  assert.is(unitScale('k', 1024), 1024);
  assert.is(unitScale('GiB', 1024), 1024 ** 3);
  assert.is(unitScale('b', 1024), 1);
  assert.is(unitScale(undefined, 1024), 1024);
  assert.throws(() => unitScale('XB', 1024), /unknown suffix 'XB'/);
  const d = parseDomain(domain('').replace('<memory>219136</memory>', "<memory unit='b'>1025</memory>"));
  assert.is(d.memory.totalKiB, 2);
});

test('unknown elements are ignored, known but unimplemented ones are refused by name', () => {
  assert.ok(translate('xml2xml', domain('<gizmo/>').replace('<os>', '<frob/><os>'), caps72));
  assert.is(err(() => translate('xml2xml', domain("<lease/>"), caps72)), 'unsupported: <devices><lease> is not implemented by the virtgold translator');
  assert.match(err(() => translate('xml2xml', domain('', 'x86_64', 'isapc'), caps72)), /^unsupported: machine type 'isapc'/);
  assert.match(err(() => translate('xml2xml', domain('').replace("type='qemu'", "type='xen'"), caps72)), /^unsupported: <domain type='xen'>/);
});

test('invalid device and domain types get libvirt\'s own errors, not "unsupported"', () => {
  assert.is(err(() => translate('xml2xml', domain("<input type='joystick'/>"), caps72)), "unsupported configuration: unknown input device type 'joystick'");
  assert.is(err(() => translate('xml2xml', domain("<input type='mouse' bus='serial'/>"), caps72)), "unsupported configuration: unknown input bus type 'serial'");
  assert.is(err(() => translate('xml2xml', domain("<hostdev mode='xyz'/>"), caps72)), "unsupported configuration: unknown hostdev mode 'xyz'");
  assert.is(err(() => translate('xml2xml', domain('').replace("type='qemu'", "type='xyz'"), caps72)), 'unsupported configuration: invalid domain type xyz');
  // xen is a domain type libvirt 9.0.0 knows (another driver's): not implemented, not invalid;
  // hvf the qemu driver knows, and a Linux QEMU has no accelerator for.
  assert.match(err(() => translate('xml2xml', domain('').replace("type='qemu'", "type='xen'"), caps72)), /^unsupported: <domain type='xen'>/);
  assert.match(err(() => translate('xml2xml', domain('').replace("type='qemu'", "type='hvf'"), caps72)), /does not support virt type 'hvf'$/);
});

test('a domain whose <emulator> is not the binary the snapshot was probed from is refused, not guessed', () => {
  assert.is(caps72.emulator, '/usr/bin/qemu-system-x86_64');
  const withEmulator = (e: string) => domain('').replace('<devices>', `<devices><emulator>${e}</emulator>`);
  assert.match(translate('xml2argv', withEmulator('/usr/bin/qemu-system-x86_64'), caps72), /^\/usr\/bin\/qemu-system-x86_64 \\$/m);
  for (const e of ['X=/path', '/usr/local/bin/qemu-system-x86_64']) {
    assert.match(err(() => translate('xml2argv', withEmulator(e), caps72)), /^unsupported: <emulator>.* other than the snapshot's \/usr\/bin\/qemu-system-x86_64/);
  }
});

test('the domain arch must match the snapshot', () => {
  assert.match(err(() => translate('xml2xml', domain('', 's390x'), caps72)), /^unsupported: <type arch='s390x'> with the capabilities in .* which are for arch 'x86_64' is not implemented/);
  assert.is(err(() => translate('xml2xml', domain('', 'foo'), caps72)), 'unsupported configuration: Unknown architecture foo');
});

test('names longer than 20 characters are shortened in per-domain paths, commas doubled in -name', () => {
  const args = translate('xml2argv', domain('').replace('<name>d</name>', '<name>a,very-long-domain-name-here</name>'), caps72);
  assert.match(args, /HOME=\/var\/lib\/libvirt\/qemu\/domain--1-a,very-long-domain-n \\/);
  assert.match(args, /-name 'guest=a,,very-long-domain-name-here,debug-threads=on' \\|-name guest=a,,very-long-domain-name-here,debug-threads=on \\/);
});

// ---- .args quoting ----

// ---- libvirt output normalization ----

test('domxml-to-native output is normalized to the .args layout', () => {
  const line = "LC_ALL=C PATH=/usr/local/bin:/usr/bin HOME=/var/lib/libvirt/qemu/domain--1-x XDG_DATA_HOME=/h/.local/share " +
    "/usr/bin/qemu-system-x86_64 -name guest=x,debug-threads=on -S -object '{\"a\":\"it'\\''s\"}' " +
    '-chardev socket,id=charmonitor,path=/var/lib/libvirt/qemu/domain--1-x/monitor.sock,server=on,wait=off -no-acpi';
  assert.equal(shellWords("a 'b c' 'it'\\''s'"), ['a', 'b c', "it's"]);
  assert.is(normalizeNativeArgv(line), [
    'LC_ALL=C', 'PATH=/bin', 'HOME=/var/lib/libvirt/qemu/domain--1-x', 'USER=test', 'LOGNAME=test', 'XDG_DATA_HOME=/h/.local/share',
    '/usr/bin/qemu-system-x86_64', '-name guest=x,debug-threads=on', '-S', `-object '{"a":"it'\\''s"}'`,
    '-chardev socket,id=charmonitor,fd=1729,server=on,wait=off', '-no-acpi',
  ].join(' \\\n') + '\n');
});

test('documents the XML validator lets through are still XML errors (found by fuzzing)', () => {
  assert.match(err(() => translate('xml2xml', '<on/', caps72)), /^XML error: domain XML is not well-formed/);
  assert.match(err(() => translate('xml2xml', '<!DOCTYPE d [<!ENTITY a "b">]><domain/>', caps72)), /DOCTYPE and entity declarations are not accepted/);
});

test('inputs over the size limit are refused before parsing', async () => {
  const { MAX_XML_BYTES } = await import('../translator/xml/tree.js');
  const big = domain('').replace('<devices>', `<devices><!--${'x'.repeat(MAX_XML_BYTES)}-->`);
  assert.match(err(() => translate('xml2xml', big, caps72)), /^XML error: domain XML is larger than the \d+ byte limit$/);
});

test('the monitor socket path is normalized even when the name has commas', () => {
  const line = '/usr/bin/qemu-system-x86_64 -chardev socket,id=charmonitor,path=/var/lib/libvirt/qemu/domain--1-a,,b/monitor.sock,server=on,wait=off';
  assert.match(normalizeNativeArgv(line), /-chardev socket,id=charmonitor,fd=1729,server=on,wait=off\n$/);
});

test('guest RAM sizes beyond 2^53 bytes are exact', () => {
  const args = translate('xml2argv', domain('').replace('<memory>219136</memory>', "<memory unit='EiB'>1</memory>"), caps72);
  assert.match(args, /"size":1152921504606846976\}/);
});

// ---- layout: the registry and the stage order tables ----

test('every stage order table lists every device kind exactly once', async () => {
  const orders = await import('../translator/stages/order.js');
  const { KINDS } = await import('../translator/devices/registry.js');
  const kinds = Object.keys(KINDS).sort();
  const tables = Object.entries(orders).filter(([k]) => k.endsWith('_ORDER'));
  assert.ok(tables.length >= 6, 'the order tables are exported');
  for (const [name, table] of tables) assert.equal([...(table as string[])].sort(), kinds, name);
});

test('each kind declares its own element; refused elements are not implemented ones', async () => {
  const { KINDS } = await import('../translator/devices/registry.js');
  const elements = Object.values(KINDS).map((k) => k.element);
  assert.is(new Set(elements).size, elements.length);
  for (const el of elements) {
    const xml = domain(`<${el} bogus-attribute='1'/>`);
    const message = (() => { try { translate('xml2xml', xml, caps72); return ''; } catch (e) { return (e as Error).message; } })();
    assert.not.match(message, new RegExp(`<devices><${el}> is not implemented`), el);
  }
});

test('every capability flag the translator reads is spelt as some shipped snapshot spells it', async () => {
  const { CAPS_FLAGS } = await import('../translator/capabilities.js');
  const { readdirSync } = await import('node:fs');
  const all = new Set(readdirSync(`${repo}/capabilities`).filter((f) => f.endsWith('.xml'))
    .flatMap((f) => [...loadCaps(readFileSync(`${repo}/capabilities/${f}`, 'utf8'), f).flags]));
  // flags no shipped snapshot has, as libvirt spells them (its tests' caps_7.0.0.x86_64.xml)
  const unshipped = new Set(['sgx-epc']);
  for (const flag of CAPS_FLAGS) assert.ok(all.has(flag) !== unshipped.has(flag), flag);
});

test('stage order: an address clash is found before the vCPU limit, a boot order clash before both', () => {
  const two = (extra: string) => hostdev('').replace('</hostdev>', `${extra}</hostdev>`) + hostdev('').replace("bus='0x06'", "bus='0x07'").replace('</hostdev>', `${extra}</hostdev>`);
  const at5 = "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>";
  const vcpus = (xml: string) => xml.replace('<memory>', '<vcpu>300</vcpu><memory>');
  assert.is(err(() => translate('xml2xml', vcpus(domain(two(at5))), caps72)), 'XML error: Attempted double use of PCI Address 0000:00:05.0');
  assert.is(err(() => translate('xml2xml', vcpus(domain(two(`<boot order='1'/>${at5}`))), caps72)), "unsupported configuration: boot order '1' used for more than one device");
  assert.is(err(() => translate('xml2xml', vcpus(domain(two(''))), caps72)), 'unsupported configuration: Maximum CPUs greater than specified machine type limit 255');
});

test('controllers are gathered exactly as libvirt inserts them one by one, in any order of types and indexes', async () => {
  const fc = (await import('fast-check')).default;
  const { controller } = await import('../translator/devices/controller.js');
  type ControllerDef = import('../translator/devices/controller.js').ControllerDef;
  type C = { type: ControllerDef['type']; index: number; master?: number };
  // virDomainControllerInsertPreAlloced, as libvirt writes it: a scan back over the list.
  const naive = (items: C[]) => {
    const list: C[] = [];
    for (const c of items) {
      let at = -1;
      for (let i = list.length - 1; i >= 0; i--) {
        const cur = list[i]!;
        if (cur.type !== c.type) continue;
        if (c.index === -1) { at = i + 1; break; }
        if (cur.index > c.index) at = i;
        else if (c.master === undefined && cur.master !== undefined && cur.index === c.index) at = i;
        else if (at === -1) at = i + 1;
      }
      if (at === -1) list.push(c); else list.splice(at, 0, c);
    }
    return list;
  };
  const item = fc.record({
    type: fc.constantFrom('usb' as const, 'pci' as const),
    index: fc.integer({ min: -1, max: 40 }),
    master: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
  });
  fc.assert(fc.property(fc.array(item, { maxLength: 1200 }), (items) => {
    // USB companions need a master somewhere among the USB controllers.
    if (items.some((x) => x.type === 'usb') && !items.some((x) => x.type === 'usb' && x.master === undefined)) items.push({ type: 'usb', index: 0, master: undefined });
    const c = controller.collector!();
    const defs: ControllerDef[] = items.map(({ master, ...x }) => ({ ...x, ...(master !== undefined ? { master } : {}), model: 'piix3-uhci', info: {} }));
    for (const d of defs) c.add(d);
    assert.equal(c.list().map((d) => defs.indexOf(d)), naive(defs).map((d) => defs.indexOf(d as ControllerDef)));
  }), { numRuns: 60 });
});

test('a time limit: a translation past its deadline stops with TranslationTimeout, not a refusal', async () => {
  const { TranslationTimeout } = await import('../translator/index.js');
  const many = domain("<input type='mouse' bus='ps2'/>".repeat(5000));
  assert.throws(() => translate('xml2argv', many, caps72, 0), (e: Error) => e instanceof TranslationTimeout && !(e instanceof TranslationError) && /longer than 0 ms/.test(e.message));
  // Without a limit, or with room, the same domain translates; the limit does not leak into later calls.
  assert.match(translate('xml2argv', many, caps72), /-msg timestamp=on\n$/);
  assert.match(translate('xml2argv', many, caps72, 60_000), /-msg timestamp=on\n$/);
});

// ---- the QEMU namespace: found by its URI ----

test('the QEMU namespace is found by its URI, whatever the prefix or where it is declared', async () => {
  const { parseQemuNs, QEMU_NS_URI } = await import('../translator/domain/qemu-ns.js');
  const { parseXml } = await import('../translator/xml/tree.js');
  const root = (attrs: string, body: string) => parseXml(`<domain type='qemu'${attrs}>${body}</domain>`);
  const ns = parseQemuNs(root(` xmlns:a='${QEMU_NS_URI}' xmlns:q='urn:other'`,
    `<a:commandline><a:arg value='1'/><b:arg xmlns:b='${QEMU_NS_URI}' value='2'/><q:arg value='no'/></a:commandline>` +
    `<q:commandline><q:arg value='no'/></q:commandline><commandline><arg value='no'/></commandline>` +
    `<commandline xmlns='${QEMU_NS_URI}'><arg value='3'/><x:arg xmlns:x='urn:x' value='no'/></commandline>`));
  assert.equal(ns?.args, ['1', '2', '3']);
  // Elements with nothing in them leave no namespace data (and no xmlns:qemu on <domain>).
  assert.is(parseQemuNs(root(` xmlns:qemu='${QEMU_NS_URI}'`, "<qemu:commandline/><qemu:deprecation behavior=''/>")), undefined);
});

// ---- <features> and <clock> ----

test('hyperv spinlocks: a count past 2^31 is written back signed, as libvirt 9.0.0 prints it', () => {
  const d = domain('').replace('<devices></devices>', "<features><hyperv><spinlocks state='on' retries='4294967295'/></hyperv></features>");
  assert.ok(translate('xml2xml', d, caps72).includes("<spinlocks state='on' retries='-1'/>"));
  assert.ok(translate('xml2argv', d, caps72).includes('hv-spinlocks=0xffffffff'));
});

test.run();
