// Unit tests of the USB address set (translator/usb/addrset.ts): the port parser's
// corners that libvirt's schema rejects (so no case can hold them) but its parser
// accepts, each checked against libvirt 9.0.0 with `virsh domxml-to-native`, and the
// search order for a free port.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseUsbAddress, UsbAddressSet, usbPortString } from '../translator/usb/addrset.js';
import type { XElement } from '../translator/xml/tree.js';

const addr = (port?: string, bus?: string): XElement =>
  ({ name: 'address', attrs: { type: 'usb', ...(bus !== undefined ? { bus } : {}), ...(port !== undefined ? { port } : {}) }, children: [] }) as unknown as XElement;
const port = (p: string) => usbPortString(parseUsbAddress(addr(p)).port);
const fails = (p: string) => assert.throws(() => parseUsbAddress(addr(p)), /Cannot parse <address> 'port' attribute/);

test('port paths as libvirt reads them: blanks separate numbers too, a sign and blanks lead, zeros end the path', () => {
  assert.is(port('1.2'), '1.2');
  assert.is(port('1 2'), '1.2');
  assert.is(port('1  3'), '1.3');
  assert.is(port(' 2'), '2');
  assert.is(port('+2'), '2');
  assert.is(port('2.+1'), '2.1');
  assert.is(port('007'), '7');
  assert.is(port('0'), '');
  assert.is(port('2.0.0.0'), '2');
  assert.is(port('4294967295'), '4294967295');
  assert.equal(parseUsbAddress(addr('1.0.2')).port, [1, 0, 2, 0]);
  assert.equal(parseUsbAddress(addr()), { type: 'usb', bus: 0, port: [0, 0, 0, 0] });
});

test('port paths libvirt cannot parse', () => {
  for (const p of ['', '1.', '1..2', '2;', '0x1', 'a', '-1', '1.-2', '4294967296', '1.2.3.4.5', '1.2.3.4.']) fails(p);
});

test('a free port: the bus asked for, else the first bus with one; a hub\'s own ports before those of the hubs on it', () => {
  const set = new UsbAddressSet();
  set.addController(0, 2);
  set.addController(2, 1);
  set.addHub({ type: 'usb', bus: 0, port: [1, 0, 0, 0] });
  set.addHub({ type: 'usb', bus: 0, port: [1, 2, 0, 0] });
  const got = () => usbPortString(set.assign(undefined).port);
  assert.is(got(), '2');
  assert.is(got(), '1.1');
  for (let i = 3; i <= 8; i++) assert.is(got(), `1.${i}`);
  for (let i = 1; i <= 8; i++) assert.is(got(), `1.2.${i}`);
  const next = set.assign(undefined);
  assert.is(next.bus, 2);
  assert.is(usbPortString(next.port), '1');
  assert.throws(() => set.assign(undefined), /No free USB ports/);
  assert.throws(() => set.assign({ type: 'usb', bus: 1, port: [0, 0, 0, 0] }), /USB bus 1 requested but no controller with that index is present/);
  assert.throws(() => set.addController(2, 4), /Duplicate USB controllers with index 2/);
});

test.run();
