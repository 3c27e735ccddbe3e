// Post-parse defaults: what libvirt 9.0.0 fills in when it defines a domain
// (virDomainDefPostParse + qemuDomainDefPostParse), for the subset in scope.
import { findMachine, defaultMachine, type QemuCaps } from './capabilities.js';
import { notImplemented, unsupportedConfig, xmlError } from './errors.js';
import type { DomainDef } from './model.js';

/** Architectures libvirt knows (virArch); anything else is "Unknown architecture". */
const KNOWN_ARCHES = [
  'i686', 'x86_64', 's390', 's390x', 'aarch64', 'armv6l', 'armv7l', 'armv7b', 'alpha', 'cris', 'lm32', 'm68k',
  'microblaze', 'microblazeel', 'mips', 'mipsel', 'mips64', 'mips64el', 'openrisc', 'parisc', 'parisc64', 'ppc',
  'ppcle', 'ppc64', 'ppc64le', 'ppcemb', 'riscv32', 'riscv64', 'sh4', 'sh4eb', 'sparc', 'sparc64', 'unicore32',
  'xtensa', 'xtensaeb', 'loongarch64',
];

/** libvirt runs on an x86_64 host here: that is the arch it picks when the XML names none. */
export const HOST_ARCH = 'x86_64';

export type MachineFamily = 'i440fx' | 's390-ccw';

export function machineFamily(def: DomainDef): MachineFamily {
  const m = def.os.machine ?? '';
  if (m.startsWith('pc-i440fx-')) return 'i440fx';
  if (m.startsWith('s390-ccw-virtio')) return 's390-ccw';
  throw notImplemented(`machine type '${m}'`);
}

export function applyDefaults(def: DomainDef, caps: QemuCaps): void {
  const arch = def.os.arch ?? HOST_ARCH;
  if (!KNOWN_ARCHES.includes(arch)) throw unsupportedConfig(`Unknown architecture ${arch}`);
  def.os.arch = arch;
  if (arch !== caps.arch) {
    throw unsupportedConfig(`the capabilities in ${caps.source} are for arch '${caps.arch}', the domain is for '${arch}'`);
  }
  def.devices.emulator ??= `/usr/bin/qemu-system-${arch}`;

  // Machine: default from the snapshot, aliases ('pc', 's390-ccw-virtio') to the real name.
  if (def.os.machine === undefined) {
    const m = defaultMachine(caps, 'tcg');
    if (!m) throw unsupportedConfig(`no default machine type in ${caps.source}`);
    def.os.machine = m.name;
  } else {
    const m = findMachine(caps, 'tcg', def.os.machine);
    if (!m) {
      throw unsupportedConfig(`Emulator '${def.devices.emulator}' does not support machine type '${def.os.machine}'`);
    }
    def.os.machine = m.name;
  }
  const family = machineFamily(def);

  const perDeviceBoot = def.devices.hostdevs.some((h) => h.info.bootIndex !== undefined);
  if (perDeviceBoot && def.os.bootDevs.length) {
    throw unsupportedConfig('per-device boot elements cannot be used together with os/boot elements');
  }
  if (!perDeviceBoot && def.os.bootDevs.length === 0) def.os.bootDevs.push('hd');

  const total = def.memory.totalKiB;
  if (def.memory.currentKiB === undefined || def.memory.currentKiB === 0 || def.memory.currentKiB > total) {
    def.memory.currentKiB = total;
  }

  // The machine type's default CPU model is written into the definition.
  if (!def.cpu) {
    const machine = findMachine(caps, 'tcg', def.os.machine)!;
    const typename = machine.defaultCPU;
    const model = typename && caps.cpuModels.find((c) => c.virtType === 'tcg' && c.typename === typename);
    if (model) def.cpu = { mode: 'custom', match: 'exact', check: 'none', model: model.name, fallback: 'forbid' };
  }

  addDefaultDevices(def, family);
}

function addDefaultDevices(def: DomainDef, family: MachineFamily): void {
  const d = def.devices;
  // A disabled device keeps no address.
  for (const c of d.controllers) if (c.type === 'usb' && c.model === 'none') delete c.info.address;
  if (d.memballoon?.model === 'none') delete d.memballoon.info.address;
  for (const c of d.controllers) {
    if (c.index !== -1) continue;
    let i = 0;
    while (d.controllers.some((o) => o.type === c.type && o.index === i)) i++;
    c.index = i;
  }
  for (const [i, c] of d.controllers.entries()) {
    if (d.controllers.some((o, j) => j < i && o.type === c.type && o.index === c.index)) {
      throw xmlError(c.type === 'usb' ? `Duplicate USB controllers with index ${c.index}` : `Multiple '${c.type}' controllers with index '${c.index}'`);
    }
  }
  if (family === 'i440fx') {
    if (!d.controllers.some((c) => c.type === 'usb' && c.index === 0)) {
      d.controllers.push({ type: 'usb', index: 0, info: {} });
    }
    for (const c of d.controllers) if (c.type === 'usb' && c.model === undefined) c.model = 'piix3-uhci';
    // ps2 mouse and keyboard exist on every PC; libvirt lists them (mouse first).
    for (const type of ['mouse', 'keyboard'] as const) {
      if (!d.inputs.some((i) => i.type === type && i.bus === 'ps2')) d.inputs.push({ type, bus: 'ps2' });
    }
  } else {
    if (d.controllers.some((c) => c.type === 'usb' && c.model !== 'none')) {
      throw notImplemented('USB controllers on s390x');
    }
    if (d.inputs.length) throw notImplemented('ps2 input devices on s390x');
    if (!d.panics.length) d.panics.push({ model: 's390' });
  }
  if (!d.controllers.some((c) => c.type === 'pci' && c.index === 0)) {
    d.controllers.push({ type: 'pci', index: 0, model: 'pci-root', info: {} });
  }
  if (!d.audios.length) d.audios.push({ id: 1, type: 'none' });
  d.memballoon ??= { model: 'virtio', info: {} };
}
