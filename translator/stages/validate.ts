// Stage 4, validation against the snapshot, split as libvirt splits it: checks made
// when a domain is defined (virDomainDefValidate: the qemu driver's domain checks, then
// each device in ITERATE_ORDER, then the generic cross-device checks), and checks made
// only when the command line is built (domxml-to-native, start).
import { startValidateGraphics } from '../devices/graphics.js';
import { guestNumaCells } from '../domain/numatune.js';
import { checkAlignedSizes, validateBacking, validateHugepages } from '../domain/memory.js';
import { validateMemoryHotplug } from '../devices/memory-device.js';
import { validateBlkio, validateIOThreadCaps, validateIOThreadPools, validateMinGuarantee, validateTunables } from '../domain/tuning.js';
import { accelOf, findMachine, hasAccel, hasFlag, type QemuCaps } from '../capabilities.js';
import { internalError, unsupportedConfig } from '../errors.js';
import { validateDuplicateAddresses, validateDuplicateTargets } from '../devices/disk-validate.js';
import type { StageContext } from '../devices/kind.js';
import { eachDevice, eachInfo } from '../devices/registry.js';
import { validateFsTargets } from '../devices/filesystem.js';
import { validateHostdevSources } from '../devices/hostdev.js';
import { validateTpmCount } from '../devices/tpm.js';
import { validatePanics } from '../devices/panic.js';
import { validateHostdevDriveAddresses } from '../devices/hostdev-scsi.js';
import type { DomainDef } from '../model.js';
import { validateGenid, validateIdmap, validateLaunchSecurity, validateLifecycleActions, validateResource } from '../domain/misc.js';
import { serialCount, validateOsType, validateBoot, validateOs, validateOsQemuBoot, validateOsQemuEarly } from '../domain/os.js';
import { validateNvramNetwork } from '../domain/nvram-network.js';
import { sysinfoArgs, validateSysinfo } from '../domain/sysinfo.js';
import { fillFirmware } from '../domain/firmware.js';
import { COMMAND_ORDER, ITERATE_ORDER } from './order.js';
import { numaHasHmat, validateNuma } from '../domain/numa.js';
import { cpuPrepareStart, cpuStartValidate, validateCpu, validateTopology, validateTopologyOverflow } from '../domain/cpu.js';
import { validateClock, validateClockStart } from '../domain/clock.js';
import { validateFeatures } from '../domain/features.js';
import { validateConsoles } from '../devices/chardev.js';
import { validateEimVcpus, validateIommuDomain } from '../devices/iommu.js';

export function validateDefine(ctx: StageContext): void {
  const { def, caps, machine } = ctx;
  validateDomain(def, caps);

  // Per device: libvirt's generic checks, then the qemu driver's (the address first).
  for (const kind of ITERATE_ORDER) {
    eachDevice(def.devices, kind, (k, dev) => {
      k.validateConf?.(dev, ctx);
      const a = k.visitedElsewhere?.(dev) ? undefined : k.info?.(dev)?.address;
      if (a?.type === 'pci' && a.zpci && !hasFlag(caps, 'zpci')) throw unsupportedConfig("This QEMU binary doesn't support zPCI");
      if (a?.type === 'ccw' && !machine.virtioCcw) {
        // The device has no alias yet when a domain is defined.
        throw unsupportedConfig(`cannot use CCW address type for device '<null>' using machine type '${def.os.machine}'`);
      }
      // qemuValidateDomainDeviceInfo
      const info = k.visitedElsewhere?.(dev) ? undefined : k.info?.(dev);
      if (info?.acpiIndex !== undefined) {
        if (!hasFlag(caps, 'acpi-index')) throw unsupportedConfig('ACPI index is not supported with this QEMU');
        if (a && a.type !== 'pci') throw unsupportedConfig('ACPI index is only supported for PCI devices');
      }
      k.validate?.(dev, ctx);
    });
  }

  // virDomainDefValidateInternal: <resource>, then one host device is given to the guest once, …
  validateResource(def);
  validateDuplicateTargets(def);
  validateHostdevSources(def);
  validateDuplicateAddresses(def);
  validateHostdevDriveAddresses(def);
  validateTopologyOverflow(def);
  validateAliases(def);
  validateIommuDomain(def);
  // … then the lifecycle actions, the memtune (hugepages), <os>, cputune and boot checks,
  // the blkio paths, the id maps and NUMA.
  validateLifecycleActions(def);
  validateHugepages(def, guestNumaCells(def));
  validateOs(def);
  validateTunables(def);
  validateBoot(def);
  validateBlkio(def);
  validateIdmap(def);
  validateNuma(def); // virDomainNumaDefValidate
  validateFsTargets(def); // virDomainDefFSValidate
  validateIOThreadPools(def);
}

/** virDomainDefValidateAliases: no two devices share a user alias. (A NIC's hostdev
 *  backend shares its NIC's info and is visited once.) */
function validateAliases(def: DomainDef): void {
  const seen = new Set<string>();
  eachInfo(def.devices, ITERATE_ORDER, (info) => {
    const a = info.userAlias;
    if (a === undefined) return;
    if (seen.has(a)) throw unsupportedConfig(`non unique alias detected: ${a}`);
    seen.add(a);
  });
}

/** qemuValidateDomainDef, for the domain-level settings in scope, in its order. */
export function validateDomain(def: DomainDef, caps: QemuCaps): void {
  validateOsType(def);
  const accel = accelOf(def.virtType);
  if (!hasAccel(caps, accel)) throw unsupportedConfig(`Emulator '${def.emulator}' does not support virt type '${def.virtType}'`);
  const machine = findMachine(caps, accel, def.os.machine!);
  if (!machine) throw unsupportedConfig(`Emulator '${def.emulator}' does not support machine type '${def.os.machine}'`);
  validateMinGuarantee(def);
  // (the UEFI check before <genid> is x86's, <genid> fails only on s390x: either order)
  validateGenid(def, caps);
  validateOsQemuEarly(def, def.features.acpi, serialCount(def));
  // qemuValidateDomainLifecycleAction
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
  validateCpu(def, caps); // qemuValidateDomainDefCpu
  validateMemoryHotplug(def);
  validateIOThreadCaps(def, caps);
  validateClock(def, caps);
  // qemuValidateDomainDefPM
  const q35 = def.os.machine!.startsWith('pc-q35-');
  if (def.pm.suspendToMem && !(q35 && hasFlag(caps, 'ich9-disable-s3')) && !hasFlag(caps, 'disable-s3')) throw unsupportedConfig('setting ACPI S3 not supported');
  if (def.pm.suspendToDisk && !(q35 && hasFlag(caps, 'ich9-disable-s4')) && !hasFlag(caps, 'disable-s4')) throw unsupportedConfig('setting ACPI S4 not supported');
  validateOsQemuBoot(def);
  if (def.os.loader?.nvramNet) validateNvramNetwork(def.os.loader.nvramNet, caps);
  // qemuValidateDomainVCpuTopology
  if (machine.maxCpus > 0 && def.vcpu.max > machine.maxCpus) {
    throw unsupportedConfig(`Maximum CPUs greater than specified machine type limit ${machine.maxCpus}`);
  }
  validateTopology(def, caps);
  validateEimVcpus(def, q35);
  validateFeatures(def, caps);
  validateBacking(def, caps, machine.defaultRAMid, guestNumaCells(def));
  validateSysinfo(def);
  // qemuValidateDomainDefNuma
  if (numaHasHmat(def) && !hasFlag(caps, 'numa.hmat')) throw unsupportedConfig('HMAT is not supported with this QEMU');
  validateConsoles(def, caps); // qemuValidateDomainDefConsole
  validatePanics(def, caps);
  validateTpmCount(def); // qemuValidateDomainDefTPMs
  validateLaunchSecurity(def, caps);
}

/** Checks libvirt makes only on the way to a command line: numad advice when the
 *  process is prepared, then each kind's checks as its part of the command is built. */
export function validateStart(ctx: StageContext): void {
  startValidateGraphics(ctx.def.devices.graphics); // qemuProcessStartValidate: the displays' listens …
  cpuStartValidate(ctx.def, ctx.caps); // … CPU features …
  validateClockStart(ctx.def); // … then the TSC
  if (ctx.def.vcpu.placement === 'auto' || ctx.def.numatune?.placement === 'auto') throw internalError('Advice from numad is needed in case of automatic numa placement');
  // qemuFirmwareFillDomain
  fillFirmware(ctx.def, ctx.caps);
  // qemuProcessUpdateGuestCPU: the CPU as libvirt passes it to QEMU (the live definition).
  cpuPrepareStart(ctx.def, ctx.caps);
  // qemuDomainAlignMemorySizes
  checkAlignedSizes(ctx.def, (ctx.def.numa ?? []).map((c) => c.memKiB));
  // -smbios comes before any device on the command line.
  sysinfoArgs(ctx.def);
  for (const kind of COMMAND_ORDER) eachDevice(ctx.def.devices, kind, (k, dev) => k.validateStart?.(dev, ctx));
}

