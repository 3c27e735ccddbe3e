// The Q35 PC ('q35', 'pc-q35-*'): a PCI Express root (pcie-root) where endpoint devices
// need pcie-root-ports, the ICH9 south bridge on slot 0x1f (LPC/ISA bridge at 1f.0, the
// SATA controller at 1f.2, SMBus at 1f.3), ICH9 power management, a USB 3 controller by
// default, PS/2 mouse and keyboard, ACPI.
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { internalError, notImplemented } from '../errors.js';
import type { DomainDef, PciHostAddress } from '../model.js';
import { C, type PciAddressSet } from '../pci/addrset.js';
import { addImplicitInput, addPciRoot } from './common.js';
import { reservePrimaryVideo } from '../devices/video.js';
import type { Machine } from './machine.js';
import { placeIch9Sound } from '../devices/sound.js';

const SATA0: PciHostAddress = { domain: 0, bus: 0, slot: 0x1f, function: 2 };
const same = (a: PciHostAddress, b: PciHostAddress) => a.domain === b.domain && a.bus === b.bus && a.slot === b.slot && a.function === b.function;

export const q35: Machine = {
  family: 'q35',
  // qemuDomainIsQ35
  matches: (m) => m === 'q35' || m.startsWith('pc-q35'),
  // qemuDomainControllerDefPostParse picks this for every x86 machine (q35 adds its own default USB controller).
  defaultUsbModel: () => 'piix3-uhci',
  virtioCcw: false,
  zpci: false,
  pmDevice: (caps, state) => (hasFlag(caps, state === 's3' ? 'ich9-disable-s3' : 'ich9-disable-s4') ? 'ICH9-LPC' : 'PIIX4_PM'),
  acpi: true,
  addDefaultDevices(def: DomainDef, caps: QemuCaps): void {
    const d = def.devices;
    addImplicitInput(def);
    // A USB 3 controller if the QEMU has one, else USB 2, else none.
    const usb = hasFlag(caps, 'qemu-xhci') ? 'qemu-xhci' : hasFlag(caps, 'nec-usb-xhci') ? 'nec-xhci' : hasFlag(caps, 'ich9-usb-ehci1') ? 'ich9-ehci1' : undefined;
    if (usb && !d.controller.some((c) => c.type === 'usb' && c.index === 0)) {
      // libvirt adds the UHCI companions of an EHCI controller along with it.
      if (usb === 'ich9-ehci1') throw notImplemented('the default ich9-ehci1 USB controller of q35 and its companions');
      d.controller.push({ type: 'usb', index: 0, model: usb, info: {} });
    }
    if (!d.controller.some((c) => c.type === 'sata' && c.index === 0)) d.controller.push({ type: 'sata', index: 0, info: {} });
    addPciRoot(def, 'pcie-root');
    if (!d.memballoon.length) d.memballoon.push({ model: 'virtio', info: {} });
  },
  // qemuDomainValidateDevicePCISlotsQ35
  chipsetPci(def: DomainDef, set: PciAddressSet, caps: QemuCaps): void {
    const flags = C.PCIE_DEVICE;
    for (const c of def.devices.controller) {
      const a = c.info.address;
      const present = a?.type === 'pci' && (a.domain || a.bus || a.slot);
      if (c.type === 'sata' && c.index === 0) {
        // The first SATA controller is the ICH9's own, at 1f.2.
        if (present) {
          if (!same(a, SATA0)) throw internalError('Primary SATA controller must have PCI address 0:0:1f.2');
        } else {
          c.info.address = { type: 'pci', ...SATA0 };
        }
      } else if (c.type === 'usb' && c.model === 'ich9-uhci1' && !a) {
        // The first USB2 set at 1d.0, the second at 1a.0 (as on real hardware) when free;
        // its companions follow it into that slot.
        const at = [0x1d, 0x1a].map((slot) => ({ domain: 0, bus: 0, slot, function: 0 })).find((x) => !set.slotInUse(x));
        if (at) {
          set.reserve(at, flags, true);
          c.info.address = { type: 'pci', ...at, multifunction: 'on' };
        }
      } else if (c.type === 'pci' && c.model === 'dmi-to-pci-bridge' && !a) {
        // Its place on real hardware, 1e.0, when that slot is free.
        const at = { domain: 0, bus: 0, slot: 0x1e, function: 0 };
        if (!set.slotInUse(at)) {
          set.reserve(at, flags, true);
          c.info.address = { type: 'pci', ...at };
        }
      }
    }
    if (set.buses.length) {
      set.reserve({ domain: 0, bus: 0, slot: 0x1f, function: 0 }, flags, true);
      set.reserve({ domain: 0, bus: 0, slot: 0x1f, function: 3 }, flags, true);
    }
    reservePrimaryVideo(def, caps, set, 1, flags);
    placeIch9Sound(def, set);
  },
};
