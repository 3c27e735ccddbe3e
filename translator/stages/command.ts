// Stage 5b, the QEMU command line (qemuBuildCommandLine): domain-level options in
// libvirt's order, then each device kind in COMMAND_ORDER, then the sandbox and -msg;
// with the test-suite environment of the `.args` format.
import { machineMemoryOpts, memoryArgs } from '../domain/memory.js';
import { domainLibDir, shortName } from '../domain/ids.js';
import { iothreadArgs } from '../domain/tuning.js';
import { bootVcpus } from '../domain/vcpu.js';
import { accelOf, findMachine, hasFlag, type QemuCaps } from '../capabilities.js';
import type { DeviceKind, StageContext } from '../devices/kind.js';
import { KINDS } from '../devices/registry.js';
import { tick } from '../deadline.js';
import type { Machine } from '../machines/index.js';
import type { DomainDef } from '../model.js';
import { bootArgs, loaderArgs, machineParams, pflashBlockdevs } from '../domain/os.js';
import { nvramNetworkBlockdevs } from '../domain/nvram-network.js';
import { sysinfoArgs } from '../domain/sysinfo.js';
import { escapeComma, type QemuCommand } from '../argv.js';
import { AFTER_SANDBOX, COMMAND_ORDER } from './order.js';
import { initialMemoryKiB, memoryDeviceMachineOpts } from '../devices/memory-device.js';
import { audioEnv } from '../devices/audio.js';
import { graphicsEnv } from '../devices/graphics-command.js';
import { loadparmMachineParam } from '../devices/loadparm.js';
import { managedPrObject } from '../devices/disk-reservations.js';
import { appendPassthrough, genidCommand, keywrapMachineParams, qemuNsCommandOf } from '../domain/misc.js';
import { addEnv, applyDeviceOverrides } from '../domain/qemu-ns.js';
import { cpuArg, smpTopology } from '../domain/cpu.js';
import { alignedCellKiB, numaArgs, numaHasHmat } from '../domain/numa.js';
import { clockArgs, clockEnv, machineTimerParams } from '../domain/clock.js';
import { accelParams, cpuFeatureFlags, machineFeatureParams, tsegArgs, vmcoreinfoArgs } from '../domain/features.js';

export { shortName };

/** libvirt rounds guest RAM up to a whole MiB for x86 and s390x guests. */
export function alignedMemoryKiB(def: DomainDef): number {
  // With NUMA, the sum of the cells, each aligned (qemuDomainAlignMemorySizes).
  if (def.numa) return def.numa.reduce((s, c) => s + alignedCellKiB(c), 0);
  return Math.ceil(initialMemoryKiB(def) / 1024) * 1024;
}

export function buildCommand(def: DomainDef, caps: QemuCaps, machine: Machine): QemuCommand {
  const accel = accelOf(def.virtType);
  const machineType = findMachine(caps, accel, def.os.machine!)!;
  const home = domainLibDir(def.name);
  const args: string[][] = [];
  const add = (...a: string[]) => args.push(a);

  const ns = qemuNsCommandOf(def, caps);
  add('-name', `guest=${escapeComma(def.name)},debug-threads=on`);
  if (ns.compat) add('-compat', ns.compat);
  add('-S');
  add('-object', JSON.stringify({ 'qom-type': 'secret', id: 'masterKey0', format: 'raw', file: `${home}/master-key.aes` }));

  args.push(...managedPrObject(def));
  args.push(...pflashBlockdevs(def.os));
  if (def.os.loader?.nvramNet) args.push(...nvramNetworkBlockdevs(def.os.loader.nvramNet, caps));
  // With guest NUMA the cells' backends replace the default RAM object.
  const ramId = def.numa ? undefined : machineType.defaultRAMid;
  const machineOpts = [def.os.machine!, 'usb=off', ...keywrapMachineParams(def, caps), ...machineFeatureParams(def), `dump-guest-core=${def.memory.dumpCore ?? 'off'}`, ...machineMemoryOpts(def), ...memoryDeviceMachineOpts(def)];
  if (ramId) machineOpts.push(`memory-backend=${ramId}`);
  machineOpts.push(...loadparmMachineParam(def, caps));
  // libvirt writes hmat=on after the pflash parameters, before graphics=off.
  const osParams = machineParams(def.os);
  const g = osParams.indexOf(',graphics=off');
  const withHmat = !numaHasHmat(def) ? osParams : g < 0 ? `${osParams},hmat=on` : `${osParams.slice(0, g)},hmat=on${osParams.slice(g)}`;
  add('-machine', machineOpts.join(',') + withHmat + machineTimerParams(def, caps).map((p) => `,${p}`).join(''));
  add('-accel', [accel, ...accelParams(def)].join(','));
  args.push(...tsegArgs(def));
  // The -cpu value: the model and its features, then what <features>/<clock> add
  // (cpuFeatureFlags), then the cache and address-size properties.
  const cpu = cpuArg(def, caps, cpuFeatureFlags(def, caps));
  if (cpu !== undefined) add('-cpu', cpu);
  args.push(...loaderArgs(def.os));

  args.push(...memoryArgs({ def, caps, ramId, memKiB: alignedMemoryKiB(def), shortName: shortName(def.name) }));

  const max = def.vcpu.max;
  const cur = bootVcpus(def.vcpu);
  add('-smp', `${cur}${cur !== max ? `,maxcpus=${max}` : ''}${smpTopology(def, caps)}`);
  args.push(...iothreadArgs(def));
  if (def.numa) args.push(...numaArgs(def, caps, machineType, shortName(def.name)));
  add('-uuid', def.uuid);
  args.push(...sysinfoArgs(def));
  args.push(...genidCommand(def));
  if (!def.devices.graphics.length) add('-display', 'none');
  add('-no-user-config');
  add('-nodefaults');
  add('-chardev', 'socket,id=charmonitor,fd=1729,server=on,wait=off');
  add('-mon', 'chardev=charmonitor,id=monitor,mode=control');
  args.push(...clockArgs(def, caps));
  add('-no-shutdown');
  if (machine.acpi && !def.features.acpi && hasFlag(caps, 'no-acpi')) add('-no-acpi');
  if (machine.pmDevice && def.pm.suspendToMem) add('-global', `${machine.pmDevice(caps, 's3')}.disable_s3=${def.pm.suspendToMem === 'yes' ? 0 : 1}`);
  if (machine.pmDevice && def.pm.suspendToDisk) add('-global', `${machine.pmDevice(caps, 's4')}.disable_s4=${def.pm.suspendToDisk === 'yes' ? 0 : 1}`);

  args.push(...bootArgs(def.os));

  const ctx: StageContext = { def, caps, machine };
  const kindArgs = (kind: (typeof COMMAND_ORDER)[number]) => {
    const out: string[][] = [];
    const k = KINDS[kind] as DeviceKind<unknown>;
    const list = def.devices[kind] as unknown[];
    out.push(...(k.commandBefore?.(list, ctx) ?? []));
    for (const dev of k.commandOrder?.(list) ?? list) {
      tick();
      out.push(...(k.command?.(dev, ctx) ?? []));
    }
    out.push(...(k.commandAfter?.(list, ctx) ?? []));
    return out;
  };
  for (const kind of COMMAND_ORDER) if (!AFTER_SANDBOX.includes(kind)) args.push(...kindArgs(kind));

  args.push(...vmcoreinfoArgs(def));
  applyDeviceOverrides(args, def.misc.qemuNs);
  appendPassthrough(args, ns.args);

  if (hasFlag(caps, 'seccomp-sandbox')) add('-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
  const late = COMMAND_ORDER.filter((k) => AFTER_SANDBOX.includes(k)).flatMap(kindArgs);
  applyDeviceOverrides(late, def.misc.qemuNs);
  args.push(...late);
  add('-msg', 'timestamp=on');

  return {
    env: addEnv([
      ['LC_ALL', 'C'],
      ['PATH', '/bin'],
      ['HOME', home],
      ['USER', 'test'],
      ['LOGNAME', 'test'],
      ['XDG_DATA_HOME', `${home}/.local/share`],
      ['XDG_CACHE_HOME', `${home}/.cache`],
      ['XDG_CONFIG_HOME', `${home}/.config`],
      ...clockEnv(def),
    ], [...audioEnv(def), ...graphicsEnv(def), ...ns.env]),
    emulator: def.emulator!,
    args,
  };
}
