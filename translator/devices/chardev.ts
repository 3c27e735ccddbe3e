// The four character device kinds (<serial>, <parallel>, <console>, <channel>): their
// post-parse (qemuDomainChrDefPostParse, virDomainChrDefPostParse and the console-on-
// serial rules of virDomainDefAddConsoleCompat), virtio-serial ports
// (qemuDomainAssignVirtioSerialAddresses), checks and command lines
// (qemuBuildSerialCommandLine and its siblings).
import { isX86 } from '../arch.js';
import { hasFlag, type CapsFlag } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import { shortName } from '../domain/ids.js';
import type { DomainDef } from '../model.js';
import { addressProps } from './info.js';
import type { DeviceKind, StageContext } from './kind.js';
import { addController, maybeAddController } from './controller-def.js';
import { chardevArgs, chrSourceEqual, validateChrSourceConf, validateChrSourceQemu, type ChrSource } from './chardev-source.js';
import { type ChrDef, type ChrDeviceType, formatChr, parseChr } from './chardev-def.js';
import { pciFlags } from '../pci/connect.js';

export type { ChrDef };

const isS390 = (arch: string | undefined) => arch === 's390x' || arch === 's390';

/** virDomainDefHasSpiceGraphics (graphics are another module's list). */
export function hasSpice(def: DomainDef): boolean {
  const g = (def.devices as { graphics?: { type?: string }[] }).graphics;
  return !!g?.some((x) => x.type === 'spice');
}

// ---- post-parse ----------------------------------------------------------------------

/** virDomainChrIsaSerialDefPostParse: before the per-device post-parse, the serials
 *  typed isa-serial get the free ISA ports (4 at most). */
export function postParseIsaSerials(def: DomainDef): void {
  const isa = def.devices.serial.filter((s) => s.targetType === 'isa-serial');
  const used = new Set<number>();
  isa.forEach((s, i) => {
    if (i >= 4 || s.port >= 4) throw internalError("Maximum supported number of ISA serial ports is '4'");
    if (s.port !== -1) {
      if (used.has(s.port)) throw internalError(`target port '${s.port}' already allocated`);
      used.add(s.port);
    }
  });
  for (const s of isa) {
    if (s.port !== -1) continue;
    for (let j = 0; j < 4; j++) {
      if (!used.has(j)) {
        s.port = j;
        used.add(j);
        break;
      }
    }
  }
}

/** The machine-dependent defaults of a serial (qemuDomainChrDefPostParse). */
function postParseQemu(c: ChrDef, def: DomainDef, caps: StageContext['caps']): void {
  if (c.deviceType === 'serial') {
    if (c.targetType === 'isa-serial') c.targetType = 'none';
    if (c.targetType === 'none') {
      if (isX86(def.os.arch)) c.targetType = 'isa-serial';
      else if (isS390(def.os.arch)) c.targetType = 'sclp-serial';
    }
    if (c.targetModel === 'none') {
      const models: Record<string, string> = { 'isa-serial': 'isa-serial', 'usb-serial': 'usb-serial', 'pci-serial': 'pci-serial', 'spapr-vio-serial': 'spapr-vty', 'sclp-serial': 'sclpconsole', 'isa-debug': 'isa-debugcon' };
      if (models[c.targetType]) c.targetModel = models[c.targetType]!;
    }
  }
  // An inactive definition forgets the socket path libvirt generated for a virtio channel …
  if (c.deviceType === 'channel' && c.targetType === 'virtio' && c.source.type === 'unix' && c.source.path !== undefined) {
    const dir = caps.chardevHost?.channelTargetDir;
    if (dir === undefined) throw notImplemented('a virtio channel socket path with a snapshot that carries no chardev host facts (host/<snapshot>.json)');
    const esc = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
    // (sic) libvirt's alternation is not grouped: either a prefix of its own naming, or
    // a domain-*/NAME ending anywhere
    if (new RegExp(`^${esc(dir)}/([^/]+\\.)|(domain-[^/]+/)${esc(c.name ?? '')}$`).test(c.source.path)) delete c.source.path;
  }
  // … and a UNIX socket without a path is one libvirt listens on.
  if (c.source.type === 'unix' && c.source.path === undefined) c.source.listen = true;
}

/** virDomainChrDefPostParse */
function postParseGeneric(c: ChrDef, def: DomainDef): void {
  if (c.deviceType === 'console' && c.targetType === 'none') c.targetType = 'serial';
  if (c.deviceType === 'serial' && c.targetType === 'isa-debug' && !isX86(def.os.arch)) {
    throw unsupportedConfig('isa-debug serial type only valid on x86 architecture');
  }
  if (c.port === -1 && c.deviceType !== 'channel') {
    const list = def.devices[c.deviceType];
    c.port = Math.max(-1, ...list.map((o) => o.port)) + 1;
  }
}

function postParse(c: ChrDef, { def, caps }: StageContext): void {
  postParseQemu(c, def, caps);
  postParseGeneric(c, def);
}

/** virDomainDefAddConsoleCompat: an HVM guest's first console is its first serial port
 *  (moved there when there is none, dropped when it differs from it), and a serial port
 *  gets a console standing for it. Then serials[0] is post-parsed (again). */
export function addConsoleCompat(ctx: StageContext): void {
  const { def } = ctx;
  const consoles = def.devices.console;
  const serials = def.devices.serial;
  for (const c of consoles.slice(1)) if (c.targetType === 'serial') throw unsupportedConfig('Only the first console can be a serial port');
  const stub = (): ChrDef => ({ deviceType: 'console', source: { type: 'null' }, targetType: 'serial', targetModel: 'none', port: -1, info: {} });
  const hvm = def.os.type === 'hvm';
  const first = consoles[0];
  if (first && hvm && (first.targetType === 'serial' || first.targetType === 'none')) {
    if (!serials.length) {
      serials.push({ ...first, deviceType: 'serial', targetType: 'none', targetModel: first.targetModel, port: 0 });
      consoles[0] = stub();
    } else if (!chrSourceEqual(serials[0]!.source, first.source)) {
      consoles[0] = stub();
    }
  } else if (hvm && serials.length) {
    if (['isa-serial', 'spapr-vio-serial', 'system-serial', 'sclp-serial', 'none'].includes(serials[0]!.targetType)) consoles.unshift(stub());
  }
  if (serials[0]) postParse(serials[0], ctx);
}


/** virDomainDefMaybeAddVirtioSerialController: each virtio channel and console needs the
 *  controller its address names (0 without one). */
export function addVirtioSerialControllers(def: DomainDef): void {
  for (const c of [...def.devices.channel, ...def.devices.console]) {
    if (c.targetType !== 'virtio') continue;
    maybeAddController(def, 'virtio-serial', c.vioserial?.controller ?? 0);
  }
}

// ---- virtio-serial ports ---------------------------------------------------------------

/** qemuDomainAssignVirtioSerialAddresses: the ports given are reserved, then virtio
 *  consoles (which may take port 0, but keep no address) and channels get free ones. */
export function assignVirtioSerialAddresses(def: DomainDef): void {
  const ctrls = def.devices.controller.filter((c) => c.type === 'virtio-serial').sort((a, b) => a.index - b.index);
  const maps = new Map<number, { ports: number; used: Set<number> }>();
  for (const c of ctrls) {
    if (maps.has(c.index)) throw internalError(`virtio serial controller with index ${c.index} already exists in the address set`);
    maps.set(c.index, { ports: c.ports ?? 31, used: new Set() });
  }
  const reserve = (a: { controller: number; port: number }) => {
    const m = maps.get(a.controller);
    if (!m) throw xmlError(`virtio serial controller ${a.controller} is missing`);
    if (a.port >= m.ports) throw xmlError(`virtio serial controller ${a.controller} does not have port ${a.port}`);
    if (m.used.has(a.port)) throw xmlError(`virtio serial port ${a.port} on controller ${a.controller} is already occupied`);
    m.used.add(a.port);
  };
  // (the device iterator: serials, parallels, channels, consoles but a console standing for a serial)
  const all = [...def.devices.serial, ...def.devices.parallel, ...def.devices.channel, ...def.devices.console.filter((_c, i) => !skipConsole(def, i))];
  for (const c of all) if (c.vioserial?.port) reserve(c.vioserial);
  const next = (allowZero: boolean) => {
    for (const [controller, m] of [...maps].sort((a, b) => a[0] - b[0])) {
      for (let p = allowZero ? 0 : 1; p < m.ports; p++) if (!m.used.has(p)) return { controller, bus: 0, port: p };
    }
    // every controller is full: libvirt adds one at the lowest free index
    let idx = 0;
    while (maps.has(idx)) idx++;
    const added = addController(def, 'virtio-serial', idx);
    maps.set(idx, { ports: added.ports ?? 31, used: new Set() });
    return { controller: idx, bus: 0, port: allowZero ? 0 : 1 };
  };
  for (const c of def.devices.console) {
    if (c.targetType !== 'virtio' || c.vioserial?.port) continue;
    if (c.vioserial) throw notImplemented('a virtio console with an incomplete virtio-serial address');
    reserve(next(true));
  }
  for (const c of def.devices.channel) {
    if (c.targetType !== 'virtio' || c.vioserial?.port) continue;
    if (c.vioserial) {
      const m = maps.get(c.vioserial.controller);
      if (!m) throw internalError(`virtio-serial controller ${c.vioserial.controller} not available`);
      let p = 1;
      while (p < m.ports && m.used.has(p)) p++;
      if (p >= m.ports) throw xmlError(`Unable to find a free port on virtio-serial controller ${c.vioserial.controller}`);
      c.vioserial = { controller: c.vioserial.controller, bus: 0, port: p };
    } else {
      c.vioserial = next(false);
    }
    // (the new address replaces any other the channel had)
    delete c.isa;
    delete c.info.address;
    reserve(c.vioserial);
  }
}

/** virDomainSkipBackcompatConsole: the first console of an HVM guest, when it stands for a serial. */
export const skipConsole = (def: DomainDef, i: number) => i === 0 && def.os.type === 'hvm' && ['serial', 'none'].includes(def.devices.console[0]?.targetType ?? '');

// ---- validation ------------------------------------------------------------------------

const SERIAL_ADDRESS: Record<string, string> = { 'isa-serial': 'isa', 'isa-debug': 'isa', 'usb-serial': 'usb', 'pci-serial': 'pci', 'spapr-vio-serial': 'spapr-vio' };
const MODEL_TARGET: Record<string, string> = {
  'isa-serial': 'isa-serial', 'usb-serial': 'usb-serial', 'pci-serial': 'pci-serial', 'spapr-vty': 'spapr-vio-serial', pl011: 'system-serial', '16550a': 'system-serial',
  sclpconsole: 'sclp-serial', sclplmconsole: 'sclp-serial', 'isa-debugcon': 'isa-debug',
};
const addressType = (c: ChrDef) => (c.vioserial ? 'virtio-serial' : c.isa ? 'isa' : c.info.address?.type);

function validateConf(c: ChrDef, { def }: StageContext): void {
  validateChrSourceConf(c.source, c.deviceType === 'channel' && (c.targetType === 'virtio' || c.targetType === 'xen'), def);
}

/** qemuValidateDomainChrDef */
function validate(c: ChrDef, { def, caps }: StageContext): void {
  validateChrSourceQemu(c.source, caps, hasSpice(def));
  if (c.deviceType === 'serial') {
    const t = c.targetType;
    const a = addressType(c);
    if (SERIAL_ADDRESS[t] && a && a !== SERIAL_ADDRESS[t]) throw unsupportedConfig(`Target type '${t}' requires address type '${SERIAL_ADDRESS[t]}'`);
    if ((t === 'system-serial' || t === 'sclp-serial') && a) throw unsupportedConfig(`Target type '${t}' cannot have an associated address`);
    const want = MODEL_TARGET[c.targetModel];
    if (want && want !== t) throw unsupportedConfig(`Target model '${c.targetModel}' requires target type '${want}'`);
  }
  if (c.deviceType === 'parallel' && isS390(def.os.arch)) throw unsupportedConfig('parallel ports are not supported');
  if (c.deviceType === 'serial') {
    const t = c.targetType;
    const m = c.targetModel;
    const bad = (t === 'system-serial' && (m === 'pl011' || m === '16550a')) || t === 'spapr-vio-serial' || m === 'spapr-vty'
      || (!isS390(def.os.arch) && (t === 'sclp-serial' || m === 'sclpconsole' || m === 'sclplmconsole'));
    if (bad) throw unsupportedConfig(`Serial device with target type '${t}' and target model '${m}' not compatible with guest architecture or machine type`);
  }
}

/** qemuValidateDomainDefConsole (a domain-level check). */
export function validateConsoles(def: DomainDef, caps: StageContext['caps']): void {
  for (const c of def.devices.console) {
    if (c.targetType === 'sclp' && !hasFlag(caps, 's390-sclp')) throw unsupportedConfig('sclpconsole is not supported in this QEMU binary');
    if (c.targetType === 'sclplm' && !hasFlag(caps, 'sclplmconsole')) throw unsupportedConfig('sclplmconsole is not supported in this QEMU binary');
    if (!['sclp', 'sclplm', 'virtio', 'serial'].includes(c.targetType)) throw unsupportedConfig(`unsupported console target type ${c.targetType}`);
  }
}

// ---- command line -------------------------------------------------------------------------

const fdsets = new WeakMap<DomainDef, { n: number }>();
/** qemuDomainFDSetIDNew: one counter a domain, taken in the order chardevs are prepared. */
export function nextFdset(def: DomainDef): () => number {
  return () => {
    const c = fdsets.get(def) ?? fdsets.set(def, { n: 0 }).get(def)!;
    return c.n++;
  };
}

function chardev(c: ChrDef, { def, caps }: StageContext): string[][] {
  let autoPath: string | undefined;
  if (c.deviceType === 'channel' && c.targetType === 'virtio' && c.source.type === 'unix' && c.source.path === undefined) {
    // qemuDomainPrepareChannel: the domain's channel directory, the target name or the port
    const dir = caps.chardevHost?.channelTargetDir;
    if (dir === undefined) throw notImplemented('a virtio channel without a socket path with a snapshot that carries no chardev host facts (host/<snapshot>.json)');
    const v = c.vioserial!;
    const p2 = (n: number) => String(n).padStart(2, '0');
    autoPath = `${dir}/domain--1-${shortName(def.name)}/${c.name ?? `vioser-${p2(v.controller)}-${p2(v.bus)}-${p2(v.port)}.sock`}`;
  }
  return chardevArgs(c.source, { caps, alias: c.info.alias!, ...(autoPath ? { autoPath } : {}), nextFdset: nextFdset(def) });
}

const MODEL_FLAG: Record<string, CapsFlag> = { 'isa-serial': 'isa-serial', 'usb-serial': 'usb-serial', 'pci-serial': 'pci-serial', sclpconsole: 's390-sclp', sclplmconsole: 'sclplmconsole' };

function serialCommand(c: ChrDef, ctx: StageContext): string[][] {
  const { def, caps } = ctx;
  if (c.source.type === 'spiceport' && !hasSpice(def)) return [];
  const out = chardev(c, ctx);
  const flag = MODEL_FLAG[c.targetModel];
  if (flag && !hasFlag(caps, flag)) throw unsupportedConfig(`'${c.targetModel}' is not supported in this QEMU binary`);
  if (c.targetType === 'none') {
    out.push(['-serial', `chardev:char${c.info.alias}`]);
    return out;
  }
  if (!['isa-serial', 'usb-serial', 'pci-serial', 'sclpconsole', 'sclplmconsole', 'isa-debugcon'].includes(c.targetModel)) {
    throw notImplemented(`a serial of target model '${c.targetModel}' on a command line`);
  }
  const props: Record<string, unknown> = { driver: c.targetModel, chardev: `char${c.info.alias}`, id: c.info.alias };
  if (c.targetModel === 'isa-serial') props.index = c.port;
  if (c.vioserial) throw notImplemented(`a serial with an <address type='virtio-serial'> on a command line`);
  const isa = c.isa ? { iobase: c.isa.iobase, ...(c.isa.irq ? { irq: c.isa.irq } : {}) } : {};
  out.push(['-device', JSON.stringify({ ...props, ...isa, ...addressProps(c.info, def) })]);
  return out;
}

function virtioSerialPort(c: ChrDef, { def }: StageContext): string[] {
  if (c.deviceType === 'channel' && c.source.type === 'spicevmc' && c.name !== undefined && c.name !== 'com.redhat.spice.0') {
    throw unsupportedConfig(`Unsupported spicevmc target name '${c.name}'`);
  }
  const props: Record<string, unknown> = { driver: c.deviceType === 'console' ? 'virtconsole' : 'virtserialport' };
  if (c.vioserial) {
    const ctrl = def.devices.controller.find((o) => o.type === 'virtio-serial' && o.index === c.vioserial!.controller);
    if (!ctrl) throw internalError(`Could not find virtio-serial controller with index ${c.vioserial.controller} required for device`);
    props.bus = `${ctrl.info.alias}.${c.vioserial.bus}`;
    props.nr = c.vioserial.port;
  } else if (c.isa || (c.info.address && c.info.address.type !== 'ccw')) {
    throw internalError('virtio serial device has invalid address type');
  } else if (c.info.address) {
    Object.assign(props, addressProps(c.info, def));
  }
  props.chardev = `char${c.info.alias}`;
  props.id = c.info.alias;
  if (c.deviceType === 'channel' && (c.source.type === 'spicevmc' || c.name !== undefined)) props.name = c.name ?? 'com.redhat.spice.0';
  return ['-device', JSON.stringify(props)];
}

function channelCommand(c: ChrDef, ctx: StageContext): string[][] {
  if (c.targetType === 'guestfwd') {
    // qemuBuildChannelGuestfwdNetdevProps: a user netdev forwarding to the chardev
    if (!hasFlag(ctx.caps, 'netdev.json')) throw notImplemented('a guestfwd channel with a QEMU without JSON -netdev');
    const str = `tcp:${c.fwd!.addr}:${c.fwd!.port}-chardev:char${c.info.alias}`;
    return [...chardev(c, ctx), ['-netdev', JSON.stringify({ type: 'user', guestfwd: [{ str }], id: c.info.alias })]];
  }
  if (c.targetType !== 'virtio') throw notImplemented(`<channel> with <target type='${c.targetType}'> on a command line`);
  return [...chardev(c, ctx), virtioSerialPort(c, ctx)];
}

function consoleCommand(c: ChrDef, ctx: StageContext): string[][] {
  switch (c.targetType) {
    case 'serial':
      return [];
    case 'virtio':
      return [...chardev(c, ctx), virtioSerialPort(c, ctx)];
    case 'sclp':
    case 'sclplm':
      return [...chardev(c, ctx), ['-device', JSON.stringify({ driver: c.targetType === 'sclp' ? 'sclpconsole' : 'sclplmconsole', chardev: `char${c.info.alias}`, id: c.info.alias })]];
    default:
      throw notImplemented(`<console> with <target type='${c.targetType}'> on a command line`);
  }
}

// ---- the kinds ------------------------------------------------------------------------------

function kind(deviceType: ChrDeviceType, command: (c: ChrDef, ctx: StageContext) => string[][]): DeviceKind<ChrDef> {
  return {
    element: deviceType,
    parse: (e, { def, index }) => {
      const c = parseChr(e, deviceType);
      // libvirt numbers parallels (after the highest port so far) and consoles (by
      // position) as it reads them.
      if (deviceType === 'parallel' && c.port === -1) c.port = Math.max(-1, ...def.devices.parallel.map((p) => p.port)) + 1;
      if (deviceType === 'console') c.port = index;
      return c;
    },
    info: (c) => c.info,
    // the first console of an HVM guest stands for its serial (virDomainSkipBackcompatConsole)
    visitedElsewhere: (c) => c.deviceType === 'console' && c.targetType === 'serial',
    postParse,
    validateConf,
    validate,
    alias: (_c, i) => `${deviceType}${i}`,
    format: (w, c, { def }) => {
      if (deviceType !== 'console') return formatChr(w, c);
      // a console that stands for a serial is written from it
      const n = def.devices.console.indexOf(c);
      const serial = def.devices.serial[n];
      if (def.os.type === 'hvm' && (c.targetType === 'serial' || c.targetType === 'none') && serial) {
        return formatChr(w, serial, { deviceType: 'console', targetType: 'serial' });
      }
      return formatChr(w, c);
    },
    command,
  };
}

export const serial: DeviceKind<ChrDef> = {
  ...kind('serial', serialCommand),
  pci: (c) => (c.targetType === 'pci-serial' ? { info: c.info, connect: pciFlags, function: -1 } : undefined),
  usb: (c) => (c.targetType === 'usb-serial' ? { info: c.info } : undefined),
};
export const parallel: DeviceKind<ChrDef> = kind('parallel', (c, ctx) => [
  ...chardev(c, ctx), ['-device', JSON.stringify({ driver: 'isa-parallel', chardev: `char${c.info.alias}`, id: c.info.alias })],
]);
export const console: DeviceKind<ChrDef> = kind('console', consoleCommand);
export const channel: DeviceKind<ChrDef> = kind('channel', channelCommand);
export type { ChrSource };
