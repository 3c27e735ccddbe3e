// Unit tests of SCSI hostdev rules no golden pins: the "scsi" host facts (their reader
// and a host that has the device), and the adapter numbers libvirt's sysfs path takes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseScsiHost } from '../translator/domain/scsi-host.js';
import { loadCaps } from '../translator/capabilities.js';
import { translate } from '../translator/index.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const fail = (m: string) => new Error(m);

test('parseScsiHost reads sg devices, the harness mock and the vhost-scsi fd, and refuses bad facts', () => {
  assert.is(parseScsiHost({}, fail), undefined);
  assert.equal(parseScsiHost({ scsi: { sgDevices: [{ address: '0:0:0:1', sg: 'sg3' }], vhostScsiFd: null } }, fail), { sgDevices: [{ address: '0:0:0:1', sg: 'sg3' }], vhostScsiFd: null });
  assert.equal(parseScsiHost({ scsi: { sgDevices: 'libvirt-test-mock', vhostScsiFd: 3 } }, fail), { sgDevices: 'libvirt-test-mock', vhostScsiFd: 3 });
  assert.throws(() => parseScsiHost({ scsi: [] }, fail), /invalid object/);
  assert.throws(() => parseScsiHost({ scsi: { sgDevices: [{ address: '0:0:0', sg: 'sg0' }] } }, fail), /sgDevices\[0\]/);
  assert.throws(() => parseScsiHost({ scsi: { sgDevices: [{ address: '0:0:0:0', sg: '../sg0' }] } }, fail), /sgDevices\[0\]/);
  assert.throws(() => parseScsiHost({ scsi: { vhostScsiFd: -1 } }, fail), /vhostScsiFd/);
});

const domain = (adapter: string, unit: string) => `<domain type='qemu'><name>hs-unit</name><uuid>c7a5fdbd-edaf-9455-926a-00001a119999</uuid>
  <memory unit='MiB'>256</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
  <hostdev mode='subsystem' type='scsi'><source><adapter name='${adapter}'/><address bus='0' target='1' unit='${unit}'/></source><readonly/></hostdev>
  <hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.5123456789abcde0'/></hostdev>
  </devices></domain>`;

test('a host that has the device: its sg node (adapter numbers as strtoul base 0 reads them) and /dev/vhost-scsi', () => {
  const caps = loadCaps(readFileSync(`${repo}/capabilities/caps_7.2.0_x86_64.xml`, 'utf8'), 'caps.xml');
  caps.scsiHost = { sgDevices: [{ address: '16:0:1:18446744073709551615', sg: 'sg7' }], vhostScsiFd: 42 };
  const out = translate('xml2argv', domain('scsi_host0x10', '0xffffffffffffffff'), caps);
  assert.ok(out.includes('"filename":"/dev/sg7","node-name":"libvirt-1-backend","read-only":true'), out);
  assert.ok(out.includes('"wwpn":"naa.5123456789abcde0","vhostfd":"42"'), out);
  assert.throws(() => translate('xml2argv', domain('scsi_host020', '0'), caps), /cannot open directory '\/sys\/bus\/scsi\/devices\/16:0:1:0\/scsi_generic'/);
  assert.throws(() => translate('xml2argv', domain('scsi_hostX', '0'), caps), /Cannot parse adapter 'scsi_hostX'/);
  delete caps.scsiHost;
  assert.throws(() => translate('xml2argv', domain('scsi_host0', '0'), caps), /unsupported: .*host's SCSI devices/);
});

test.run();
