// Validation against the capability snapshot (libvirt's qemu_validate.c), split the
// way libvirt splits it: checks that run when a domain is defined (both directions),
// and checks that only run when the command line is built (xml2argv).
import { findMachine, hasFlag, type QemuCaps } from './capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from './errors.js';
import { machineFamily } from './defaults.js';
import type { DomainDef } from './model.js';

/** QEMU's device for each libvirt USB controller model; its capability flag has the same name. */
export const USB_DEVICE: Record<string, string> = {
  'piix3-uhci': 'piix3-usb-uhci',
  'piix4-uhci': 'piix4-usb-uhci',
  ehci: 'usb-ehci',
  'ich9-ehci1': 'ich9-usb-ehci1',
  'nec-xhci': 'nec-usb-xhci',
  'qemu-xhci': 'qemu-xhci',
};

export function validateDefine(def: DomainDef, caps: QemuCaps): void {
  const machine = findMachine(caps, 'tcg', def.os.machine!)!;
  if (machine.maxCpus > 0 && def.vcpu.max > machine.maxCpus) {
    throw unsupportedConfig(`Maximum CPUs greater than specified machine type limit ${machine.maxCpus}`);
  }
  validateLifecycle(def);
  validatePm(def, caps);

  if (def.cpu) {
    const known = caps.cpuModels.some((c) => c.virtType === 'tcg' && c.name === def.cpu!.model);
    const machineDefault = caps.cpuModels.find((c) => c.virtType === 'tcg' && c.typename === machine.defaultCPU);
    if (!known) throw unsupportedConfig(`CPU model '${def.cpu.model}' is not supported by the emulator`);
    // Other models need libvirt's CPU map (features, vendor checks): not implemented.
    if (def.cpu.model !== machineDefault?.name) throw notImplemented(`<cpu> model '${def.cpu.model}'`);
  }

  const s390 = machineFamily(def) === 's390-ccw';
  const d = def.devices;
  const boots = new Set<number>();
  for (const h of d.hostdevs) {
    const b = h.info.bootIndex;
    if (b === undefined) continue;
    if (boots.has(b)) throw unsupportedConfig(`boot order '${b}' used for more than one device`);
    boots.add(b);
  }
  const audioIds = new Set<number>();
  for (const a of d.audios) {
    if (audioIds.has(a.id)) throw xmlError(`audio ID ${a.id} is used multiple times`);
    audioIds.add(a.id);
  }
  if (d.panics.length && !s390) throw unsupportedConfig("only S390 guests support panic device of model 's390'");
  if (d.panics.length > 1) throw xmlError("Multiple panic devices with model 's390'");
  if (s390 && d.memballoon?.info.address?.type === 'pci') throw notImplemented('a PCI address for the memballoon on s390x');
  for (const h of def.devices.hostdevs) {
    // vf-token extension: the QEMU must have the vfio-pci 'vf-token' property.
    if (h.vfToken !== undefined && !hasFlag(caps, 'vfio-pci.vf-token')) {
      throw unsupportedConfig('vf-token is not supported by this QEMU binary');
    }
    const a = h.info.address;
    if (a?.type === 'pci' && a.zpci && !s390) {
      throw unsupportedConfig('zPCI is not supported on this architecture');
    }
    if (a?.type === 'ccw') throw notImplemented("<address type='ccw'> on a PCI host device");
  }
  for (const c of def.devices.controllers) {
    if (c.type !== 'usb' || c.model === 'none' || c.model === undefined) continue;
    const flag = USB_DEVICE[c.model];
    if (flag && !hasFlag(caps, flag)) {
      throw unsupportedConfig(`USB controller model '${c.model}' not supported in this QEMU binary`);
    }
    if (c.ports !== undefined && (c.model === 'nec-xhci' || c.model === 'qemu-xhci') && c.ports > 15) {
      throw unsupportedConfig(`'${c.model}' controller only supports up to '15' ports`);
    }
    const a = c.info.address;
    if (c.model === 'piix3-uhci' && c.index === 0 && a?.type === 'pci' && !(a.bus === 0 && a.slot === 1 && a.function === 2) &&
        !(a.domain === 0 && a.bus === 0 && a.slot === 0 && a.function === 0) && machineFamily(def) === 'i440fx') {
      throw internalError('PIIX3 USB controller at index 0 must have PCI address 0:0:1.2');
    }
  }
  const mb = def.devices.memballoon;
  if (mb && mb.model !== 'none' && mb.info.address?.type === 'ccw' && !s390) {
    throw unsupportedConfig(`cannot use CCW address type for device '<null>' using machine type '${def.os.machine}'`);
  }
}

function validateLifecycle(def: DomainDef): void {
  if ([def.onPoweroff, def.onReboot, def.onCrash].includes('rename-restart')) {
    throw unsupportedConfig("qemu driver doesn't support the 'rename-restart' action for 'on_reboot'/'on_poweroff'/'on_crash'");
  }
  if (def.onPoweroff === 'preserve' || def.onReboot === 'preserve') {
    throw unsupportedConfig("qemu driver doesn't support the 'preserve' action for 'on_reboot'/'on_poweroff'");
  }
  if (def.onReboot === 'destroy' && def.onPoweroff === 'restart') {
    // (sic) libvirt 9.0.0's message lacks a closing quote after 'destroy
    throw unsupportedConfig("qemu driver doesn't support 'onReboot' set to 'destroy and 'onPoweroff' set to 'reboot'");
  }
}

function validatePm(def: DomainDef, caps: QemuCaps): void {
  if (def.pm.suspendToMem && !hasFlag(caps, 'disable-s3')) throw unsupportedConfig('setting ACPI S3 not supported');
  if (def.pm.suspendToDisk && !hasFlag(caps, 'disable-s4')) throw unsupportedConfig('setting ACPI S4 not supported');
}

/** Checks libvirt only makes when it builds the command line (domxml-to-native, start). */
export function validateStart(def: DomainDef): void {
  for (const c of def.devices.controllers) {
    if (c.type === 'usb' && c.ports !== undefined && c.model !== 'nec-xhci' && c.model !== 'qemu-xhci') {
      throw unsupportedConfig(`usb controller type '${c.model}' doesn't support 'ports' with this QEMU binary`);
    }
  }
  if (def.vcpu.placement === 'auto') {
    throw internalError('Advice from numad is needed in case of automatic numa placement');
  }
  for (const h of def.devices.hostdevs) {
    if (h.driver !== 'vfio') throw internalError(`invalid PCI passthrough type '${h.driver ?? 'default'}'`);
  }
}
