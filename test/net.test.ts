// Network interfaces: the address forms libvirt writes back (glibc's inet_ntop through
// getnameinfo), where a golden alone would not show each rule.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseIpAddr } from '../translator/devices/net-ip.js';
import { loadHostFacts } from '../translator/domain/host-facts.js';
import { isTranslationError, loadCaps, translate } from '../translator/index.js';

const v6 = (s: string) => parseIpAddr(s, 'ipv6')?.text;

test('IPv6: the longest run of zero words (the first of equals, two at least) becomes ::', () => {
  assert.is(v6('2001:DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.is(v6('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
  assert.is(v6('1:0:2:3:4:5:6:7'), '1:0:2:3:4:5:6:7');
  assert.is(v6('0:0:0:0:0:0:0:0'), '::');
  assert.is(v6('1::'), '1::');
  assert.is(v6('0001:0db8::0'), '1:db8::');
});

test('IPv6: IPv4-mapped and -compatible addresses end in a dotted quad, as glibc writes them', () => {
  assert.is(v6('::ffff:1.2.3.4'), '::ffff:1.2.3.4');
  assert.is(v6('::ffff:0102:0304'), '::ffff:1.2.3.4');
  assert.is(v6('::1.2.3.4'), '::1.2.3.4');
  assert.is(v6('::1'), '::1');
  assert.is(v6('0:0:0:0:0:1:0:0'), '::1:0:0');
});

test('not addresses, and forms glibc reads its own way (refused, not guessed)', () => {
  assert.is(parseIpAddr('1:2:3:4:5:6:7:8:9'), undefined);
  assert.is(parseIpAddr('1::2::3'), undefined);
  assert.is(parseIpAddr('10.0.0.300'), undefined);
  assert.is(parseIpAddr('10.0.0.1', 'ipv6'), undefined);
  assert.is(parseIpAddr('::1', 'ipv4'), undefined);
  for (const s of ['10.1', '010.0.0.1', '0x0a.0.0.1', 'fe80::1%eth0']) {
    assert.throws(() => parseIpAddr(s), (e: unknown) => isTranslationError(e) && e.kind === 'unsupported', s);
  }
});

const capsFile = new URL('../capabilities/caps_8.2.0_x86_64.xml', import.meta.url);
const caps = loadCaps(readFileSync(capsFile, 'utf8'), capsFile.pathname);
const domain = (iface: string) => `<domain type='qemu'><name>n</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1811</uuid>
  <memory>219136</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>${iface}</devices></domain>`;
const modelOf = (xml: string) => /<model type='([^']*)'\/>/.exec(xml)?.[1];

test('host networks: a model-less type=network interface asks them; a pool of host devices is refused', () => {
  const net = "<interface type='network'><source network='pool'/><mac address='52:54:00:00:00:01'/></interface>";
  assert.is(modelOf(translate('xml2xml', domain(net), { ...caps, hostNetworks: [] })), 'rtl8139');
  assert.is(modelOf(translate('xml2xml', domain(net), { ...caps, hostNetworks: [{ name: 'pool', forward: 'nat' }] })), 'rtl8139');
  for (const c of [{ ...caps, hostNetworks: [{ name: 'pool', forward: 'hostdev' }] }, { ...caps, hostNetworks: undefined }]) {
    assert.throws(() => translate('xml2xml', domain(net), c), (e: unknown) => isTranslationError(e) && e.kind === 'unsupported');
  }
  // with a model, nothing is asked
  const withModel = net.replace('</interface>', "<model type='virtio'/></interface>");
  assert.is(modelOf(translate('xml2xml', domain(withModel), { ...caps, hostNetworks: undefined })), 'virtio');
});

test('host facts: "networks" is read strictly', () => {
  assert.equal(loadHostFacts('{"networks":[{"name":"default","forward":"nat"}]}', 'h.json').networks, [{ name: 'default', forward: 'nat' }]);
  for (const bad of ['{"networks":{}}', '{"networks":[{"name":"x"}]}', '{"networks":[{"name":"x","forward":"teleport"}]}']) {
    assert.throws(() => loadHostFacts(bad, 'h.json'));
  }
});

test.run();
