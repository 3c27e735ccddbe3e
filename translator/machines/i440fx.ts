// The i440FX PC ('pc', 'pc-i440fx-*'): PIIX3 south bridge on slot 1, PIIX4 power
// management, a default USB controller, PS/2 mouse and keyboard, ACPI.
import type { DomainDef } from '../model.js';
import type { Machine } from './machine.js';

export const i440fx: Machine = {
  family: 'i440fx',
  matches: (m) => m.startsWith('pc-i440fx-'),
  // Slot 0 is the host bridge. Slot 1 is the PIIX3: its ISA bridge (1.0) and power
  // management (1.3) are always there; its USB function (1.2) is taken by the USB
  // controller that sits there; the IDE function (1.1) only matters with IDE disks.
  reservedPci: [[0, [0, 1, 2, 3, 4, 5, 6, 7]], [1, [0, 3]]],
  builtinUsb: { domain: 0, bus: 0, slot: 1, function: 2 },
  defaultUsbModel: 'piix3-uhci',
  virtioCcw: false,
  zpci: false,
  pmDevice: 'PIIX4_PM',
  acpi: true,
  addDefaultDevices(def: DomainDef): void {
    const d = def.devices;
    // qemuDomainDefAddImplicitInputDevice: every PC has a PS/2 mouse and keyboard.
    for (const type of ['mouse', 'keyboard'] as const) {
      if (!d.input.some((i) => i.type === type && i.bus === 'ps2')) d.input.push({ type, bus: 'ps2' });
    }
    if (!d.controller.some((c) => c.type === 'usb' && c.index === 0)) d.controller.push({ type: 'usb', index: 0, info: {} });
    if (!d.controller.some((c) => c.type === 'pci' && c.index === 0)) d.controller.push({ type: 'pci', index: 0, model: 'pci-root', info: {} });
    if (!d.memballoon.length) d.memballoon.push({ model: 'virtio', info: {} });
  },
};
