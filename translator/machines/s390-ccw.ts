// s390x 's390-ccw-virtio-*': virtio devices on CCW, PCI devices with zPCI ids, no USB
// (a USB controller without a model is 'none', or with a PCI address ignored),
// no PS/2, an s390 panic device always present.
import { hasFlag, type QemuCaps } from '../capabilities.js';
import type { DomainDef } from '../model.js';
import { addPciRoot } from './common.js';
import type { Machine } from './machine.js';

export const s390Ccw: Machine = {
  family: 's390-ccw',
  // qemuDomainIsS390CCW
  matches: (m) => m.startsWith('s390-ccw'),
  virtioCcw: true,
  zpci: true,
  acpi: false,
  // no USB unless an address asks for one, and then a model only if the QEMU has
  // piix3's (else none is built: see the controller's command)
  defaultUsbModel: (addressed, caps) => (!addressed ? 'none' : hasFlag(caps, 'piix3-usb-uhci') ? 'piix3-uhci' : undefined),
  addDefaultDevices(def: DomainDef, caps: QemuCaps): void {
    const d = def.devices;
    if (hasFlag(caps, 'zpci')) addPciRoot(def, 'pci-root');
    if (!d.memballoon.length) d.memballoon.push({ model: 'virtio', info: {} });
    // (a default-model panic becomes the s390 one in post-parse)
    if (!d.panic.some((p) => p.model === undefined || p.model === 's390')) d.panic.push({ model: 's390', info: {} });
  },
};
