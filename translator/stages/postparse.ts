// Stage 2, post-parse: what libvirt 9.0.0 fills in and checks right after parsing
// (virDomainDefPostParse with the qemu driver's callbacks), in its order:
//   basic (arch, emulator) → controller indexes → qemu post-parse (machine, implicit
//   devices, default CPU) → per-device post-parse (ITERATE_ORDER) → common checks
//   (memory, duplicate controllers and panics, boot order).
import { guestNumaCells } from '../domain/numatune.js';
import { postParseMaxMemory, postParseMemtune } from '../domain/memory.js';
import { postParseVcpus, postParseVcpusCommon } from '../domain/vcpu.js';
import { accelOf, defaultMachine, findMachine, hasAccel, type QemuCaps } from '../capabilities.js';
import { notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import { checkDuplicatePanics } from '../devices/panic.js';
import { postParseNvram, postParseOsCommon, postParseOsQemu } from '../domain/os.js';
import { eachDevice, eachInfo } from '../devices/registry.js';
import { familyOf, machineOf, type Machine } from '../machines/index.js';
import type { DomainDef } from '../model.js';
import { ITERATE_ORDER } from './order.js';
import { cpuPostParse, cpuSetDefault } from '../domain/cpu.js';
import { numaPostParse } from '../domain/numa.js';
import { postParseMemoryTotal } from '../devices/memory-device.js';
import { HOST_ARCH } from '../domain/host.js';
import { postParseTimers } from '../domain/clock.js';
import { postParseFeatures } from '../domain/features.js';
import { addImplicitDiskControllers } from './drive-address.js';
import { postParseStorage } from '../devices/controller-storage.js';
import { addHostdevScsiControllers } from '../devices/hostdev-scsi.js';
import { addConsoleCompat, addVirtioSerialControllers, postParseIsaSerials } from '../devices/chardev.js';
import { addSmartcardControllers } from '../devices/smartcard.js';
import { defaultAudioType } from '../devices/graphics-command.js';
import { postParseGraphics } from '../devices/graphics.js';
import { postParseVideos } from '../devices/video.js';

export { HOST_ARCH };

/** The outcome of post-parse: the machine family, or none when the snapshot does not
 *  know the machine (libvirt reports that in validation, stages/validate.ts). */
export interface PostParsed {
  machine?: Machine;
}

export function postParse(def: DomainDef, caps: QemuCaps): PostParsed {
  // qemuDomainDefPostParseBasic (an unknown arch was refused in parsing).
  const arch = def.os.arch ?? HOST_ARCH;
  def.os.arch = arch;
  // libvirt would use the QEMU binary of the domain's arch (x86_64's runs i686 guests too):
  // a snapshot of another arch cannot say what it prints, so this is a refusal, not an error.
  if (arch !== caps.arch) throw notImplemented(`<type arch='${arch}'> with the capabilities in ${caps.source}, which are for arch '${caps.arch}'`);
  def.emulator ??= `/usr/bin/qemu-system-${arch}`;
  // libvirt probes the domain's own emulator binary (or says it cannot check it, a fact
  // of the host): a snapshot only speaks for the binary it was probed from.
  if (caps.emulator !== undefined && def.emulator !== caps.emulator) {
    throw notImplemented(`<emulator>${def.emulator}</emulator> other than the snapshot's ${caps.emulator}`);
  }

  assignControllerIndexes(def);

  // qemuDomainDefPostParse: no bootloader, the default NVRAM file of a read-only pflash …
  postParseOsQemu(def);
  postParseNvram(def);
  // … the machine (default, or an alias made canonical) …
  const accel = accelOf(def.virtType);
  const known = def.os.machine === undefined ? defaultMachine(caps, accel) : findMachine(caps, accel, def.os.machine);
  if (def.os.machine === undefined && !known) {
    throw new TranslationError('invalid argument', `could not get preferred machine for ${def.emulator} type=${def.virtType}`);
  }
  let machine: Machine | undefined;
  // A domain type the QEMU has no accelerator for (KVM on a TCG-only snapshot): libvirt
  // knows no machine of that type, keeps the machine's name as given, post-parses and
  // places the devices by that name alone (no default CPU model) and fails validation.
  const foreign = !known && def.os.machine !== undefined && !hasAccel(caps, accel) ? familyOf(def.os.machine) : undefined;
  if (known || foreign) {
    if (known) def.os.machine = known.name;
    machine = foreign ?? machineOf(def);
    // … the implicit devices (qemuDomainDefAddDefaultDevices) …
    machine.addDefaultDevices(def, caps);
    if (!def.devices.audio.length) {
      // qemuDomainDefAddDefaultAudioBackend
      const type = defaultAudioType(def, caps);
      if (type) def.devices.audio.push({ id: 1, type, input: {}, output: {} });
    }
    // … the guest CPU: the machine's default model, check and migratable defaults
    // (qemuDomainDefSetDefaultCPU, qemuDomainDefCPUPostParse) …
    if (known) cpuSetDefault(def, caps, known);
    postParseVcpus(def); // qemuDomainDefVcpusPostParse
    cpuPostParse(def, caps);
    postParseFeatures(def, caps);
    // … and the vCPUs no NUMA cell names (qemuDomainDefNumaCPUsPostParse).
    numaPostParse(def);
    postParseIsaSerials(def); // virDomainChrIsaSerialDefPostParse
    for (const kind of ITERATE_ORDER) eachDevice(def.devices, kind, (k, dev) => k.postParse?.(dev, { def, caps, machine: machine! }));
  } else {
    // A machine the snapshot does not know (validation says so): libvirt still runs its
    // post-parse, with no default CPU model (its devices: see unknownMachineAddresses).
    postParseVcpus(def);
    cpuPostParse(def, caps);
    postParseFeatures(def, caps);
    numaPostParse(def);
  }

  // virDomainDefPostParseCommon: a container needs an init (parsing refused <init>);
  // with guest NUMA, the memory is what the cells add up to.
  if (def.os.type === 'exe') throw xmlError('init binary must be specified');
  postParseVcpusCommon(def);
  postParseMemoryTotal(def); // (with the memory devices')
  const cur = def.memory.currentKiB;
  if (cur === undefined || cur === 0 || cur > def.memory.totalKiB) def.memory.currentKiB = def.memory.totalKiB;
  postParseMaxMemory(def);
  postParseOsCommon(def);
  postParseMemtune(def, guestNumaCells(def));
  rejectDuplicateControllers(def);
  checkDuplicatePanics(def.devices.panic);
  if (def.os.type === 'hvm') bootOrder(def);
  postParseTimers(def.clock);
  // virDomainDefAddImplicitDevices: the console-on-serial rules, then the controllers
  if (machine) addConsoleCompat({ def, caps, machine });
  addImplicitDiskControllers(def, def.devices.disk);
  addVirtioSerialControllers(def);
  addSmartcardControllers(def);
  addHostdevScsiControllers(def); // (its last implicit controllers)
  // virDomainDefAddImplicitVideo, virDomainDefPostParseVideo
  if (machine) postParseVideos(def, { def, caps, machine });
  // … whose SCSI controllers get their post-parse (the model) now
  if (machine) for (const c of def.devices.controller) if (c.type === 'scsi' && c.model === undefined) postParseStorage(c, { def, caps, machine });
  postParseGraphics(def.devices.graphics, caps);
  return { machine };
}

/** Where libvirt assigns the addresses of a domain whose machine the snapshot does not
 *  know: it fails for a machine of no family it recognizes, and virtgold has not the
 *  family's data to place (or post-parse) devices of the domain's own. */
export function unknownMachineAddresses(def: DomainDef): void {
  machineOf(def);
  if (ITERATE_ORDER.some((k) => (def.devices[k] as unknown[]).length)) throw notImplemented('devices on a machine type the snapshot does not know');
}

/** virDomainAssignControllerIndexes: an unindexed controller gets the lowest index its type has free. */
function assignControllerIndexes(def: DomainDef): void {
  const list = def.devices.controller;
  const used = new Map<string, Set<number>>();
  for (const c of list) if (c.index !== -1) (used.get(c.type) ?? used.set(c.type, new Set()).get(c.type)!).add(c.index);
  // Indexes are only ever taken, so the lowest free one only grows: one cursor a type.
  const cursor = new Map<string, number>();
  const usb2 = (c: { type: string; model?: string }) => c.type === 'usb' && ['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3'].includes(c.model ?? '');
  // USB controllers by index and model (those with an index so far), and the last one seen
  const usbModels = new Set(list.filter((o) => o.type === 'usb' && o.index !== -1).map((o) => `${o.index}/${o.model}`));
  let prevUsb: (typeof list)[number] | undefined;
  for (const c of list) {
    const prev = prevUsb;
    if (c.type === 'usb') prevUsb = c;
    if (c.index !== -1) continue;
    // USB2 companions join the group of the USB controller listed just before them
    // when that one is USB2 and its group has no controller of this model yet.
    if (prev && usb2(c) && usb2(prev) && !usbModels.has(`${prev.index}/${c.model}`)) {
      c.index = prev.index;
      usbModels.add(`${c.index}/${c.model}`);
      continue;
    }
    const taken = used.get(c.type) ?? used.set(c.type, new Set()).get(c.type)!;
    let i = cursor.get(c.type) ?? 0;
    while (taken.has(i)) i++;
    c.index = i;
    taken.add(i);
    cursor.set(c.type, i + 1);
    if (c.type === 'usb') usbModels.add(`${i}/${c.model}`);
  }
}

/** virDomainDefRejectDuplicateControllers; several USB controllers may share an index
 *  (companions), which USB address assignment checks instead. */
function rejectDuplicateControllers(def: DomainDef): void {
  const seen = new Set<string>();
  for (const c of def.devices.controller) {
    if (c.type === 'usb') continue;
    const key = `${c.type}/${c.index}`;
    if (seen.has(key)) throw xmlError(`Multiple '${c.type}' controllers with index '${c.index}'`);
    seen.add(key);
  }
}

/** virDomainDefBootOrderPostParse: per-device boot orders are unique and exclude <os><boot>;
 *  with neither, the domain boots from disk. */
function bootOrder(def: DomainDef): void {
  const orders = new Set<number>();
  eachInfo(def.devices, ITERATE_ORDER, ({ bootIndex: b }) => {
    if (b === undefined) return;
    if (orders.has(b)) throw unsupportedConfig(`boot order '${b}' used for more than one device`);
    orders.add(b);
  });
  if (orders.size && def.os.bootDevs.length) throw unsupportedConfig('per-device boot elements cannot be used together with os/boot elements');
  if (!orders.size && !def.os.bootDevs.length) def.os.bootDevs.push('hd');
}
