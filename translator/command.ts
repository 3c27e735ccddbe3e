// DomainDef → QEMU command line, in libvirt 9.0.0's order and syntax
// (qemu_command.c), with the test-suite environment of the `.args` format.
import { findMachine, hasFlag, type QemuCaps } from './capabilities.js';
import { machineFamily } from './defaults.js';
import { USB_DEVICE } from './validate.js';
import type { QemuCommand } from './argv.js';
import type { DeviceAddress, DomainDef, HostdevDef } from './model.js';


const json = (o: Record<string, unknown>) => JSON.stringify(o);
/** QEMU's option syntax doubles commas inside a value. */
const qemuEscape = (s: string) => s.replace(/,/g, ',,');

function pciAddrProps(a: DeviceAddress | undefined): Record<string, unknown> {
  if (!a) return {};
  if (a.type === 'ccw') {
    return { devno: `${a.cssid.toString(16)}.${a.ssid.toString(16)}.${a.devno.toString(16).padStart(4, '0')}` };
  }
  const props: Record<string, unknown> = { bus: `pci.${a.bus}` };
  if (a.multifunction) props.multifunction = a.multifunction === 'on';
  props.addr = a.function ? `0x${a.slot.toString(16)}.0x${a.function.toString(16)}` : `0x${a.slot.toString(16)}`;
  return props;
}

function hostdevDevice(h: HostdevDef): Record<string, unknown> {
  const s = h.source;
  const host = `${s.domain.toString(16).padStart(4, '0')}:${s.bus.toString(16).padStart(2, '0')}:` +
    `${s.slot.toString(16).padStart(2, '0')}.${s.function.toString(16)}`;
  const dev: Record<string, unknown> = { driver: 'vfio-pci', host };
  // vf-token extension: directly after "host".
  if (h.vfToken !== undefined) dev['vf-token'] = h.vfToken;
  dev.id = h.info.alias;
  if (h.info.bootIndex !== undefined) dev.bootindex = h.info.bootIndex;
  Object.assign(dev, pciAddrProps(h.info.address));
  const rom = h.info.rom;
  if (rom) {
    if (rom.enabled === 'no') dev.romfile = '';
    else {
      if (rom.bar) dev.rombar = rom.bar === 'on' ? 1 : 0;
      if (rom.file !== undefined) dev.romfile = rom.file;
    }
  }
  return dev;
}

/** virDomainDefGetShortName: per-domain directories use at most 20 characters of the name. */
export function shortName(name: string): string {
  return [...name].slice(0, 20).join('');
}

/** libvirt rounds guest RAM up to a whole MiB for x86 and s390x guests. */
export function alignedMemoryKiB(def: DomainDef): number {
  return Math.ceil(def.memory.totalKiB / 1024) * 1024;
}

export function buildCommand(def: DomainDef, caps: QemuCaps): QemuCommand {
  const family = machineFamily(def);
  const machine = findMachine(caps, 'tcg', def.os.machine!)!;
  const home = `/var/lib/libvirt/qemu/domain--1-${shortName(def.name)}`;
  const args: string[][] = [];
  const add = (...a: string[]) => args.push(a);

  add('-name', `guest=${qemuEscape(def.name)},debug-threads=on`);
  add('-S');
  add('-object', json({ 'qom-type': 'secret', id: 'masterKey0', format: 'raw', file: `${home}/master-key.aes` }));

  const ramId = machine.defaultRAMid;
  let machineOpt = `${def.os.machine},usb=off,dump-guest-core=${def.memory.dumpCore ?? 'off'}`;
  if (ramId) machineOpt += `,memory-backend=${ramId}`;
  add('-machine', machineOpt);
  add('-accel', 'tcg');
  if (def.cpu) add('-cpu', def.cpu.model);

  const memKiB = alignedMemoryKiB(def);
  add('-m', String(memKiB / 1024));
  // The size in bytes can pass 2^53: written from a BigInt so every digit is exact.
  if (ramId) add('-object', `{"qom-type":"memory-backend-ram","id":${JSON.stringify(ramId)},"size":${BigInt(memKiB) * 1024n}}`);
  add('-overcommit', 'mem-lock=off');

  const max = def.vcpu.max;
  const cur = def.vcpu.current ?? max;
  add('-smp', `${cur}${cur !== max ? `,maxcpus=${max}` : ''},sockets=${max},cores=1,threads=1`);
  add('-uuid', def.uuid);
  add('-display', 'none');
  add('-no-user-config');
  add('-nodefaults');
  add('-chardev', 'socket,id=charmonitor,fd=1729,server=on,wait=off');
  add('-mon', 'chardev=charmonitor,id=monitor,mode=control');
  add('-rtc', `base=${def.clock.offset}`);
  add('-no-shutdown');
  if (family === 'i440fx' && !def.features.acpi && hasFlag(caps, 'no-acpi')) add('-no-acpi');
  if (def.pm.suspendToMem) add('-global', `PIIX4_PM.disable_s3=${def.pm.suspendToMem === 'yes' ? 0 : 1}`);
  if (def.pm.suspendToDisk) add('-global', `PIIX4_PM.disable_s4=${def.pm.suspendToDisk === 'yes' ? 0 : 1}`);

  let boot = '';
  const menu = def.os.bootMenu;
  if (menu?.enable === 'yes') boot += 'menu=on,';
  else if (menu?.enable === 'no') boot += 'menu=off,';
  if (menu?.enable === 'yes' && menu.timeout !== undefined) boot += `splash-time=${menu.timeout},`;
  add('-boot', `${boot}strict=on`);

  for (const c of def.devices.controllers) {
    if (c.type !== 'usb' || c.model === 'none') continue;
    const dev: Record<string, unknown> = { driver: USB_DEVICE[c.model!] };
    if (c.ports !== undefined) {
      dev.p2 = c.ports;
      dev.p3 = c.ports;
    }
    dev.id = c.info.alias;
    Object.assign(dev, pciAddrProps(c.info.address));
    add('-device', json(dev));
  }
  for (const a of def.devices.audios) add('-audiodev', json({ id: `audio${a.id}`, driver: a.type }));

  for (const h of def.devices.hostdevs) {
    const addr = h.info.address;
    if (family === 's390-ccw' && addr?.type === 'pci' && addr.zpci) {
      add('-device', json({ driver: 'zpci', uid: addr.zpci.uid, fid: addr.zpci.fid, target: h.info.alias, id: `zpci${addr.zpci.uid}` }));
    }
    add('-device', json(hostdevDevice(h)));
  }

  const mb = def.devices.memballoon;
  if (mb && mb.model !== 'none') {
    const ccw = mb.info.address?.type === 'ccw';
    const suffix = mb.model === 'virtio' ? '' : mb.model.slice('virtio'.length);
    const driver = `virtio-balloon-${ccw ? 'ccw' : 'pci'}${suffix}`;
    add('-device', json({ driver, id: mb.info.alias, ...pciAddrProps(mb.info.address) }));
  }

  if (hasFlag(caps, 'seccomp-sandbox')) {
    add('-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
  }
  add('-msg', 'timestamp=on');

  return {
    env: [
      ['LC_ALL', 'C'],
      ['PATH', '/bin'],
      ['HOME', home],
      ['USER', 'test'],
      ['LOGNAME', 'test'],
      ['XDG_DATA_HOME', `${home}/.local/share`],
      ['XDG_CACHE_HOME', `${home}/.cache`],
      ['XDG_CONFIG_HOME', `${home}/.config`],
    ],
    emulator: def.devices.emulator!,
    args,
  };
}
