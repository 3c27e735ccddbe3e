// Unit tests of the display's host facts (domain/graphics-host.ts) and of what no shipped
// snapshot reaches: qemu.conf settings other than the two shipped configurations, and
// vhost-user-gpu helpers whose features do not fit a video.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadCaps, type QemuCaps } from '../translator/capabilities.js';
import { capsForDefine, parseGraphicsHost, type GraphicsHostFacts } from '../translator/domain/graphics-host.js';
import { loadHostFacts } from '../translator/domain/host-facts.js';
import { translate } from '../translator/index.js';
import { anyErrorMessage } from './helpers/errors.js';
import { readCaps } from '../harness/io.js';

const err = anyErrorMessage;

const FACTS: GraphicsHostFacts = {
  vncListen: '127.0.0.1', spiceListen: '127.0.0.1', vncTLS: false, vncSASL: false, vncPassword: false, vncAutoUnixSocket: false,
  spiceTLS: false, spiceTLSx509certdir: '/etc/pki/qemu', spiceSASL: false, spicePassword: false, spiceAutoUnixSocket: false,
  vncAllowHostAudio: false, nogfxAllowHostAudio: false, drmRenderNode: null, libDir: '/var/lib/libvirt/qemu', dbusStateDir: '/run/libvirt/qemu/dbus',
};

test('host facts: "graphics" is read strictly, with its "xml2xml" overrides', () => {
  const facts = loadHostFacts(JSON.stringify({ graphics: { ...FACTS, xml2xml: { spiceTLS: true } } }), 'h.json');
  assert.equal(facts.graphics, { ...FACTS, xml2xml: { spiceTLS: true } });
  for (const bad of [{ ...FACTS, vncTLS: 'no' }, { ...FACTS, libDir: 'rel' }, { ...FACTS, drmRenderNode: 3 }, { ...FACTS, xml2xml: { spiceTLS: 1 } }, []]) {
    assert.match(err(() => loadHostFacts(JSON.stringify({ graphics: bad }), 'h.json')), /^h\.json: "graphics" has a missing or invalid /);
  }
  const caps = { graphicsHost: { ...FACTS, xml2xml: { spiceTLS: true } } };
  assert.is(capsForDefine(caps).graphicsHost!.spiceTLS, true);
  assert.is(capsForDefine(caps), capsForDefine(caps));
  const plain = { graphicsHost: FACTS };
  assert.is(capsForDefine(plain), plain);
});

const caps72 = loadCaps(readFileSync('capabilities/caps_7.2.0_x86_64.xml', 'utf8'), 'caps_7.2.0_x86_64.xml');
const withFacts = (g: Partial<GraphicsHostFacts>): QemuCaps => ({ ...caps72, graphicsHost: { ...FACTS, ...g } });
const domain = (devices: string) =>
  `<domain type='qemu'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid><memory>219136</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>${devices}</devices></domain>`;
const line = (args: string, opt: string) => args.split(' \\\n').find((l) => l.startsWith(`${opt} `));

test('qemu.conf: auto unix sockets, passwords, host audio and render nodes', () => {
  const vnc = domain("<graphics type='vnc'/>");
  assert.is(line(translate('xml2argv', vnc, withFacts({ vncAutoUnixSocket: true })), '-vnc'), '-vnc vnc=unix:/var/lib/libvirt/qemu/domain--1-g/vnc.sock,audiodev=audio1');
  assert.is(line(translate('xml2argv', vnc, withFacts({ vncPassword: true, vncListen: undefined })), '-vnc'), '-vnc :0,password=on,audiodev=audio1');
  // vnc_allow_host_audio without QEMU_AUDIO_DRV: no default audio, so no audiodev to name
  assert.is(err(() => translate('xml2argv', vnc, withFacts({ vncAllowHostAudio: true }))), 'internal error: unable to find audio backend for sound device');
  assert.not.match(translate('xml2xml', vnc, withFacts({ vncAllowHostAudio: true })), '<audio');
  assert.match(err(() => translate('xml2argv', vnc, withFacts({ vncTLS: true }))), /^unsupported: vnc_tls/);
  const spice = domain("<graphics type='spice' autoport='yes'/>");
  assert.is(line(translate('xml2argv', spice, withFacts({ spiceAutoUnixSocket: true })), '-spice'), '-spice unix,addr=/var/lib/libvirt/qemu/domain--1-g/spice.sock,disable-ticketing=on,seamless-migration=on');
  assert.is(line(translate('xml2argv', domain("<graphics type='egl-headless'/><graphics type='vnc'/>"), withFacts({ drmRenderNode: '/dev/dri/renderD128' })), '-display'), '-display egl-headless,rendernode=/dev/dri/renderD128');
  assert.match(err(() => translate('xml2argv', vnc, caps72)), /^unsupported: .*host\/<snapshot>\.json "graphics"/);
});

const vuFail = (m: string) => new Error(m);
const vuBase = { vncTLS: false, vncSASL: false, vncPassword: false, vncAutoUnixSocket: false, spiceTLS: false, spiceSASL: false, spicePassword: false, spiceAutoUnixSocket: false, vncAllowHostAudio: false, nogfxAllowHostAudio: false, spiceTLSx509certdir: '/etc/pki/qemu', drmRenderNode: null, libDir: '/var/lib/libvirt/qemu', dbusStateDir: '/run/libvirt/qemu/dbus' };

test('parseGraphicsHost reads "vhostUserGpu": none, or a helper\'s features and descriptor', () => {
  assert.is(parseGraphicsHost({ graphics: { ...vuBase, vhostUserGpu: false } }, vuFail)!.vhostUserGpu, false);
  assert.equal(parseGraphicsHost({ graphics: { ...vuBase, vhostUserGpu: { features: ['virgl'], fd: 1729 } } }, vuFail)!.vhostUserGpu, { features: ['virgl'], fd: 1729 });
  for (const bad of [true, { features: ['gl'], fd: 3 }, { features: [], fd: 1 }, { features: [] }]) {
    assert.throws(() => parseGraphicsHost({ graphics: { ...vuBase, vhostUserGpu: bad } }, vuFail), /vhostUserGpu/);
  }
});

const vuDomain = (accel: string) => `<domain type='qemu'><name>vu-unit</name><uuid>c7a5fdbd-edaf-9455-926a-00001a11a001</uuid>
  <memory unit='MiB'>256</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
  <video><driver name='vhostuser'/><model type='virtio' heads='1'>${accel}</model></video></devices></domain>`;

test('a helper must have virgl for any accel3d and render-node for a rendernode; its render node must exist', () => {
  const caps = readCaps('capabilities/caps_8.2.0_x86_64.xml');
  caps.graphicsHost = { ...caps.graphicsHost!, vhostUserGpu: { features: [], fd: 1729 } };
  assert.ok(translate('xml2argv', vuDomain(''), caps).includes('-chardev socket,id=chr-vu-video0,fd=1729'));
  assert.throws(() => translate('xml2argv', vuDomain("<acceleration accel3d='no'/>"), caps), /Unable to find a satisfying vhost-user-gpu/);
  assert.throws(() => translate('xml2argv', vuDomain("<acceleration rendernode='/dev/dri/renderD128'/>"), caps), /Unable to find a satisfying vhost-user-gpu/);
  caps.graphicsHost = { ...caps.graphicsHost!, vhostUserGpu: { features: ['render-node'], fd: 42 }, drmRenderNode: null };
  assert.ok(translate('xml2argv', vuDomain("<acceleration rendernode='/dev/dri/renderD128'/>"), caps).includes('fd=42'));
  assert.throws(() => translate('xml2argv', vuDomain(''), caps), /cannot open directory '\/dev\/dri'/);
  delete caps.graphicsHost!.vhostUserGpu;
  assert.throws(() => translate('xml2argv', vuDomain(''), caps), /unsupported: .*vhost-user-gpu facts/);
});

test('a network listen: no network driver, no such network, or a network whose address the facts lack', () => {
  assert.is(parseGraphicsHost({ graphics: { ...vuBase, networkDriver: false } }, vuFail)!.networkDriver, false);
  assert.throws(() => parseGraphicsHost({ graphics: { ...vuBase, networkDriver: true } }, vuFail), /networkDriver/);
  const dom = domain("<graphics type='vnc' port='5903' autoport='no'><listen type='network' network='default'/></graphics>");
  const caps = { ...withFacts({}), hostNetworks: [{ name: 'default', forward: 'nat' }] };
  assert.match(err(() => translate('xml2argv', dom, caps)), /unsupported: .*the address of host network 'default'/);
  assert.match(err(() => translate('xml2argv', dom, { ...caps, hostNetworks: [] })), /^Network not found: no network with matching name 'default'$/);
  assert.match(err(() => translate('xml2argv', dom, withFacts({ networkDriver: false }))), /^this function is not supported by the connection driver: virNetworkLookupByName$/);
});

test.run();
