// Unit tests of the controller helpers other kinds call (devices/controller-def.ts,
// devices/controller-storage.ts) and that no golden reaches directly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCaps, type QemuCaps } from '../translator/capabilities.js';
import { addController, maybeAddController } from '../translator/devices/controller-def.js';
import { defaultScsiModel } from '../translator/devices/controller-storage.js';
import type { DomainDef } from '../translator/model.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const caps = loadCaps(readFileSync(`${repo}/capabilities/caps_8.2.0_x86_64.xml`, 'utf8'), 'caps_8.2.0_x86_64.xml');
const s390 = loadCaps(readFileSync(`${repo}/capabilities/caps_8.1.0_s390x.xml`, 'utf8'), 'caps_8.1.0_s390x.xml');
const domain = (arch = 'x86_64') => ({ os: { arch }, devices: { controller: [] } }) as unknown as DomainDef;

test('addController: the lowest unused index of its type, appended, no model unless given', () => {
  const def = domain();
  addController(def, 'scsi', 1);
  addController(def, 'ide', -1);
  const c = addController(def, 'scsi');
  assert.is(c.index, 0);
  assert.is(c.model, undefined);
  assert.is(addController(def, 'scsi', -1, 'virtio-scsi').index, 2);
  assert.equal(def.devices.controller.map((x) => `${x.type}${x.index}`), ['scsi1', 'ide0', 'scsi0', 'scsi2']);
});

test('maybeAddController: only when the type has no controller of that index', () => {
  const def = domain();
  assert.is(maybeAddController(def, 'fdc', 0), true);
  assert.is(maybeAddController(def, 'fdc', 0), false);
  assert.is(maybeAddController(def, 'ide', 0), true);
  assert.is(maybeAddController(def, 'fdc', -1), true);
  assert.equal(def.devices.controller.map((x) => `${x.type}${x.index}`), ['fdc0', 'ide0', 'fdc1']);
});

test('defaultScsiModel: given model kept, auto and none picked from arch and QEMU', () => {
  const c = (model?: string) => ({ type: 'scsi' as const, index: 0, info: {}, ...(model ? { model } : {}) });
  assert.is(defaultScsiModel(domain(), caps, c()), 'lsilogic');
  assert.is(defaultScsiModel(domain(), caps, c('auto')), 'lsilogic');
  assert.is(defaultScsiModel(domain(), caps, c('vmpvscsi')), 'vmpvscsi');
  assert.is(defaultScsiModel(domain('s390x'), s390, c()), 'virtio-scsi');
  const noLsi = { ...caps, flags: new Set([...caps.flags].filter((f) => f !== 'lsi')) } as QemuCaps;
  assert.is(defaultScsiModel(domain(), noLsi, c()), 'virtio-scsi');
});

test.run();
