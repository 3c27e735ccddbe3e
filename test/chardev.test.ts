// Unit tests of chardev rules no golden pins: the "chardev" host facts (their reader, and
// what a snapshot without them refuses rather than guesses).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseChardevHost } from '../translator/domain/chardev-host.js';
import { loadCaps } from '../translator/capabilities.js';
import { translate } from '../translator/index.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const fail = (m: string) => new Error(m);

test('parseChardevHost reads the channel directory, the fd mode and the TLS settings, and refuses bad facts', () => {
  assert.is(parseChardevHost({}, fail), undefined);
  const facts = { channelTargetDir: '/tmp/channel', sourceFds: 'libvirt-test-mock', tlsX509CertDir: '/etc/pki/x', tlsX509Verify: false };
  assert.equal(parseChardevHost({ chardev: facts }, fail), facts);
  assert.throws(() => parseChardevHost({ chardev: [] }, fail), /invalid object/);
  assert.throws(() => parseChardevHost({ chardev: { channelTargetDir: 'relative' } }, fail), /channelTargetDir/);
  assert.throws(() => parseChardevHost({ chardev: { sourceFds: 'real' } }, fail), /sourceFds/);
  assert.throws(() => parseChardevHost({ chardev: { tlsX509Verify: 'yes' } }, fail), /tlsX509Verify/);
});

const domain = (devices: string) => `<domain type='qemu'><name>chr-unit</name><uuid>c7a5fdbd-edaf-9455-926a-00001a119998</uuid>
  <memory unit='MiB'>256</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>${devices}</devices></domain>`;

test('a snapshot without chardev host facts refuses what depends on them, and translates the rest', () => {
  const caps = loadCaps(readFileSync(`${repo}/capabilities/caps_7.2.0_x86_64.xml`, 'utf8'));
  const refused = [
    "<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
    "<serial type='file'><source path='/tmp/f'/></serial>",
    "<serial type='unix'><source mode='bind' path='/tmp/s'/></serial>",
    "<serial type='pty'><log file='/tmp/l'/></serial>",
    "<serial type='tcp'><source mode='connect' host='h' service='1' tls='yes'/></serial>",
  ];
  for (const d of refused) assert.throws(() => translate('xml2argv', domain(d), caps), /is not implemented by the virtgold translator/, d);
  // a channel path needs the directory to be compared with even in the XML
  assert.throws(() => translate('xml2xml', domain("<channel type='unix'><source mode='bind' path='/tmp/x'/><target type='virtio' name='n'/></channel>"), caps), /not implemented/);
  assert.match(translate('xml2argv', domain("<serial type='unix'><source mode='connect' path='/tmp/s'/></serial><console type='pty'/>"), caps), /-chardev socket,id=charserial0,path=\/tmp\/s/);
  assert.match(translate('xml2xml', domain("<channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"), caps), /<channel type='unix'>/);
});

test.run();
