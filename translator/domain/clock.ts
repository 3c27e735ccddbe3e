// <clock> and its <timer>s, through every stage: parsing (virDomainDefClockParse,
// virDomainTimerDefParseXML), post-parse checks (virDomainDefPostParseTimer), the qemu
// driver's validation (qemuValidateDomainDefClockTimers), the XML (virDomainClockDefFormat)
// and what the timers put on the command line: -rtc and the TZ variable
// (qemuBuildClockCommandLine), -machine hpet=, and -cpu properties.
import { isX86 } from '../arch.js';
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';
import { propEnum, propYesNo } from '../xml/props.js';
import { elements, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import { strToLL, strToULL } from './units.js';

export const TIMER_NAMES = ['platform', 'pit', 'rtc', 'hpet', 'tsc', 'kvmclock', 'hypervclock', 'armvtimer'] as const;
const TRACKS = ['none', 'boot', 'guest', 'wall', 'realtime'] as const;
const TICKPOLICIES = ['none', 'delay', 'catchup', 'merge', 'discard'] as const;
const MODES = ['none', 'auto', 'native', 'emulate', 'paravirt', 'smpsafe'] as const;

export type TimerName = (typeof TIMER_NAMES)[number];
export type TickPolicy = (typeof TICKPOLICIES)[number];

export interface TimerDef {
  name: TimerName;
  present?: 'yes' | 'no';
  tickpolicy?: TickPolicy;
  track?: (typeof TRACKS)[number];
  /** Hz; 0 (or absent) means unset, as in libvirt */
  frequency: bigint;
  mode?: (typeof MODES)[number];
  catchup: { threshold: bigint; slew: bigint; limit: bigint };
}

export type ClockDef =
  | { offset: 'utc' | 'localtime'; reset?: true; timers: TimerDef[] }
  | { offset: 'variable'; adjustment: bigint; basis: 'utc' | 'localtime'; timers: TimerDef[] }
  | { offset: 'timezone'; timezone: string; timers: TimerDef[] }
  | { offset: 'absolute'; start: bigint; timers: TimerDef[] };

declare module '../model.js' {
  interface DomainDef {
    clock: ClockDef;
  }
}


/** virXMLPropULongLong, base 10: 0 when absent. */
function propULL(e: XElement, name: string): bigint {
  const v = e.attrs[name];
  if (v === undefined) return 0n;
  const n = strToULL(v);
  if (n === undefined) throw xmlError(`Invalid value for attribute '${name}' in element '${e.name}': '${v}'. Expected non-negative integer value`);
  return n;
}

function parseTimer(e: XElement): TimerDef {
  if (e.attrs.name === undefined) throw xmlError("Missing required attribute 'name' in element 'timer'");
  const t: TimerDef = {
    name: propEnum(e, 'name', TIMER_NAMES)!,
    frequency: 0n,
    catchup: { threshold: 0n, slew: 0n, limit: 0n },
  };
  const present = propYesNo(e, 'present');
  if (present) t.present = present;
  const tickpolicy = propEnum(e, 'tickpolicy', TICKPOLICIES, { nonZero: true });
  if (tickpolicy) t.tickpolicy = tickpolicy;
  const track = propEnum(e, 'track', TRACKS, { nonZero: true });
  if (track) t.track = track;
  t.frequency = propULL(e, 'frequency');
  const mode = propEnum(e, 'mode', MODES, { nonZero: true });
  if (mode) t.mode = mode;
  const catchup = elements(e, 'catchup')[0];
  if (catchup) t.catchup = { threshold: propULL(catchup, 'threshold'), slew: propULL(catchup, 'slew'), limit: propULL(catchup, 'limit') };
  return t;
}

/** virDomainDefClockParse. As libvirt's XPath reads them, an attribute is the first one
 *  of any <clock> (empty counts as absent) and the timers those of every <clock>. */
export function parseClock(domain: XElement): ClockDef {
  const clocks = elements(domain, 'clock');
  // The offset and its attributes first, then the timers.
  const timers: ClockDef['timers'] = [];
  const def = parseOffset(clocks, timers);
  timers.push(...clocks.flatMap((c) => elements(c, 'timer')).map(parseTimer));
  return def;
}

function parseOffset(clocks: XElement[], timers: ClockDef['timers']): ClockDef {
  const a = (name: string) => clocks.find((c) => name in c.attrs)?.attrs[name] || undefined;
  const offset = a('offset') ?? 'utc';
  switch (offset) {
    case 'utc':
    case 'localtime': {
      const adj = a('adjustment');
      if (adj === undefined) return { offset, timers };
      if (adj === 'reset') return { offset, reset: true, timers };
      const n = strToLL(adj);
      if (n === undefined) throw xmlError(`unknown clock adjustment '${adj}'`);
      return { offset: 'variable', adjustment: n, basis: offset, timers };
    }
    case 'variable': {
      const basis = a('basis') ?? 'utc';
      if (basis !== 'utc' && basis !== 'localtime') throw unsupportedConfig(`unknown clock basis '${basis}'`);
      // An unreadable adjustment is silently 0 here.
      const adj = a('adjustment');
      return { offset, adjustment: (adj !== undefined && strToLL(adj)) || 0n, basis, timers };
    }
    case 'timezone': {
      const tz = a('timezone');
      if (tz === undefined) throw internalError("missing 'timezone' attribute for clock with offset='timezone'");
      return { offset, timezone: tz, timers };
    }
    case 'absolute': {
      const start = a('start');
      const n = start === undefined ? undefined : strToULL(start);
      if (n === undefined) throw internalError("missing 'start' attribute for clock with offset='absolute'");
      return { offset, start: n, timers };
    }
    default:
      throw unsupportedConfig(`unknown clock offset '${offset}'`);
  }
}

/** virDomainDefPostParseTimer. */
export function postParseTimers(clock: ClockDef): void {
  for (const t of clock.timers) {
    if ((t.name === 'kvmclock' || t.name === 'hypervclock') && t.tickpolicy) {
      throw unsupportedConfig(`timer ${t.name} doesn't support setting of timer tickpolicy`);
    }
    const c = t.catchup;
    if (t.tickpolicy !== 'catchup' && (c.threshold || c.limit || c.slew)) {
      throw xmlError("setting of timer catchup policies is only supported with tickpolicy='catchup'");
    }
    if (t.name !== 'tsc') {
      if (t.frequency) throw unsupportedConfig(`timer ${t.name} doesn't support setting of timer frequency`);
      if (t.mode) throw unsupportedConfig(`timer ${t.name} doesn't support setting of timer mode`);
    }
    if (t.name !== 'platform' && t.name !== 'rtc' && t.track) {
      throw unsupportedConfig(`timer ${t.name} doesn't support setting of timer track`);
    }
  }
}


/** qemuValidateDomainDefClockTimers. */
export function validateClock(def: DomainDef, caps: QemuCaps): void {
  const where = () => `virtType=${def.virtType} arch=${def.os.arch} machine=${def.os.machine} guests`;
  for (const t of def.clock.timers) {
    switch (t.name) {
      case 'platform':
        throw unsupportedConfig(`unsupported timer type (name) '${t.name}'`);
      case 'tsc':
      case 'kvmclock':
      case 'hypervclock':
        if (!isX86(def.os.arch) && t.present === 'yes') throw unsupportedConfig(`Configuring the '${t.name}' timer is not supported for ${where()}`);
        break;
      case 'rtc':
        if (t.track === 'boot') throw unsupportedConfig(`unsupported rtc timer track '${t.track}'`);
        if (t.tickpolicy === 'merge' || t.tickpolicy === 'discard') throw unsupportedConfig(`unsupported rtc timer tickpolicy '${t.tickpolicy}'`);
        break;
      case 'pit':
        if ((t.tickpolicy === 'catchup' && !hasFlag(caps, 'kvm-pit-lost-tick-policy')) || t.tickpolicy === 'merge') {
          throw unsupportedConfig(`unsupported pit tickpolicy '${t.tickpolicy}'`);
        }
        break;
      case 'hpet':
        if (!hasFlag(caps, 'no-hpet') && t.present === 'yes') throw unsupportedConfig('hpet timer is not supported');
        break;
      case 'armvtimer':
        // Only KVM on ARM 'virt' machines, which no snapshot here is.
        throw unsupportedConfig(`Configuring the '${t.name}' timer is not supported for ${where()}`);
    }
  }
  // glib formats no time past 9999-12-31T23:59:59.
  if (def.clock.offset === 'absolute' && def.clock.start > 253402300799n) {
    throw unsupportedConfig("The maximum 'start' value for <clock offset='absolute'> is 253402300799");
  }
}

/** virDomainClockDefFormat. */
export function formatClock(w: Writer, clock: ClockDef): void {
  let head = `clock offset='${clock.offset}'`;
  if (clock.offset === 'variable') head += ` adjustment='${clock.adjustment}' basis='${clock.basis}'`;
  else if (clock.offset === 'timezone') head += attr('timezone', clock.timezone);
  else if (clock.offset === 'absolute') head += ` start='${clock.start}'`;
  else if (clock.reset) head += " adjustment='reset'";
  w.element(head, 'clock', clock.timers.length ? () => clock.timers.forEach((t) => formatTimer(w, t)) : undefined);
}

function formatTimer(w: Writer, t: TimerDef): void {
  let head = `timer name='${t.name}'${attr('present', t.present)}${attr('tickpolicy', t.tickpolicy)}${attr('track', t.track)}`;
  if (t.name === 'tsc') head += `${t.frequency ? ` frequency='${t.frequency}'` : ''}${attr('mode', t.mode)}`;
  const c = t.catchup;
  const catchup = (c.threshold ? ` threshold='${c.threshold}'` : '') + (c.slew ? ` slew='${c.slew}'` : '') + (c.limit ? ` limit='${c.limit}'` : '');
  w.element(head, 'timer', catchup ? () => w.line(`<catchup${catchup}/>`) : undefined);
}

/** The environment the clock adds to QEMU's (TZ for offset='timezone'). */
export function clockEnv(def: DomainDef): [string, string][] {
  return def.clock.offset === 'timezone' ? [['TZ', def.clock.timezone]] : [];
}

/** An absolute time as glib's "%Y-%m-%dT%H:%M:%S" in UTC (validation bounds it to year 9999). */
function isoSeconds(unix: bigint): string {
  return new Date(Number(unix) * 1000).toISOString().slice(0, 19);
}

/** qemuBuildClockArgStr: the -rtc value. */
function rtcArg(def: DomainDef): string {
  const clock = def.clock;
  let s: string;
  switch (clock.offset) {
    case 'utc':
      s = 'base=utc';
      break;
    case 'localtime':
    case 'timezone':
      s = 'base=localtime';
      break;
    case 'variable':
      // The guest's clock starts at "now" plus the adjustment: the moment of the start.
      throw notImplemented("<clock offset='variable'> on the command line (its -rtc base is the time of the start)");
    case 'absolute':
      s = `base=${isoSeconds(clock.start)}`;
      break;
  }
  const rtc = clock.timers.find((t) => t.name === 'rtc');
  if (rtc) {
    if (rtc.track === 'guest') s += ',clock=vm';
    else if (rtc.track === 'wall') s += ',clock=host';
    else if (rtc.track === 'realtime') s += ',clock=rt';
    if (rtc.tickpolicy === 'catchup') s += ',driftfix=slew';
  }
  return s;
}

/** qemuBuildClockCommandLine: -rtc, then what the pit and hpet timers add. */
export function clockArgs(def: DomainDef, caps: QemuCaps): string[][] {
  const out: string[][] = [['-rtc', rtcArg(def)]];
  for (const t of def.clock.timers) {
    if (t.name === 'pit' && hasFlag(caps, 'kvm-pit-lost-tick-policy')) {
      if (t.tickpolicy === undefined || t.tickpolicy === 'delay') out.push(['-global', 'kvm-pit.lost_tick_policy=delay']);
      else if (t.tickpolicy === 'discard') out.push(['-global', 'kvm-pit.lost_tick_policy=discard']);
    }
    if (t.name === 'hpet' && hasFlag(caps, 'no-hpet') && t.present === 'no') out.push(['-no-hpet']);
  }
  return out;
}

/** qemuBuildMachineCommandLine's timer part: hpet= where QEMU has it on -machine. */
export function machineTimerParams(def: DomainDef, caps: QemuCaps): string[] {
  if (!hasFlag(caps, 'machine-hpet')) return [];
  return def.clock.timers.filter((t) => t.name === 'hpet' && t.present).map((t) => `hpet=${t.present === 'yes' ? 'on' : 'off'}`);
}

/** qemuBuildCpuCommandLine's paravirtual timers, in timer order. */
export function timerCpuProps(def: DomainDef): string[] {
  const out: string[] = [];
  for (const t of def.clock.timers) {
    if (t.name === 'kvmclock' && t.present) out.push(`kvmclock=${t.present === 'yes' ? 'on' : 'off'}`);
    else if (t.name === 'hypervclock' && t.present === 'yes') out.push('hv-time=on');
    else if (t.name === 'tsc' && t.frequency) out.push(`tsc-frequency=${t.frequency}`);
  }
  return out;
}

/** Checks of the process start that depend on the host (qemuProcessStartValidateTSC). */
export function validateClockStart(def: DomainDef): void {
  if (def.clock.timers.some((t) => t.name === 'tsc' && t.frequency)) {
    throw notImplemented("<timer name='tsc' frequency=…> on the command line (libvirt compares it with the host's TSC)");
  }
}
