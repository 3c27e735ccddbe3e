// The i440FX PC ('pc', 'pc-i440fx-*'): PIIX3 south bridge on slot 1 (IDE at 1.1, USB at 1.2), PIIX4 power
// management, a default USB controller, PS/2 mouse and keyboard, ACPI.
import { internalError } from '../errors.js';
import type { DomainDef } from '../model.js';
import type { QemuCaps } from '../capabilities.js';
import { reservePrimaryVideo } from '../devices/video.js';
import { C, type PciAddressSet } from '../pci/addrset.js';
import type { Machine } from './machine.js';
import { addImplicitInput, addPciRoot } from './common.js';

const sameAddress = (a: { domain: number; bus: number; slot: number; function: number }, slot: number, fn: number) =>
  a.domain === 0 && a.bus === 0 && a.slot === slot && a.function === fn;

export const i440fx: Machine = {
  family: 'i440fx',
  // qemuDomainIsI440FX
  matches: (m) => m === 'pc' || m.startsWith('pc-0.') || m.startsWith('pc-1.') || m.startsWith('pc-i440fx-') || m.startsWith('rhel'),
  defaultUsbModel: () => 'piix3-uhci',
  virtioCcw: false,
  zpci: false,
  pmDevice: () => 'PIIX4_PM',
  acpi: true,
  addDefaultDevices(def: DomainDef): void {
    const d = def.devices;
    addImplicitInput(def);
    if (!d.controller.some((c) => c.type === 'usb' && c.index === 0)) d.controller.push({ type: 'usb', index: 0, info: {} });
    addPciRoot(def, 'pci-root');
    if (!d.memballoon.length) d.memballoon.push({ model: 'virtio', info: {} });
  },
  // qemuDomainValidateDevicePCISlotsPIIX3: the PIIX3's USB function is fixed at 1.2, its
  // ISA bridge (1.0) and power management (1.3) are always there.
  chipsetPci(def: DomainDef, set: PciAddressSet, caps: QemuCaps): void {
    const flags = C.AUTOASSIGN | C.PCI_DEVICE;
    for (const c of def.devices.controller) {
      const ide = c.type === 'ide' && c.index === 0;
      if (!ide && !(c.type === 'usb' && c.index === 0 && (c.model === 'piix3-uhci' || c.model === undefined))) continue;
      const a = c.info.address;
      const fn = ide ? 1 : 2;
      if (a?.type === 'pci' && (a.domain || a.bus || a.slot)) {
        if (!sameAddress(a, 1, fn)) throw internalError(ide ? 'Primary IDE controller must have PCI address 0:0:1.1' : 'PIIX3 USB controller at index 0 must have PCI address 0:0:1.2');
      } else {
        c.info.address = { type: 'pci', domain: 0, bus: 0, slot: 1, function: fn };
      }
      if (set.buses.length) set.reserve(c.info.address as { domain: number; bus: number; slot: number; function: number }, flags, true);
    }
    if (set.buses.length) {
      set.reserve({ domain: 0, bus: 0, slot: 1, function: 0 }, flags, true);
      set.reserve({ domain: 0, bus: 0, slot: 1, function: 3 }, flags, true);
    }
    reservePrimaryVideo(def, caps, set, 2, flags);
  },
};
