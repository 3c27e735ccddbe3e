// <audio>: an audio backend (libvirt's virDomainAudioDef) and the -audiodev QEMU gets
// for it; the sound devices and graphics that use one name it by id. Each backend type
// has its own attributes, on <audio> and per direction on <input>/<output>.
import { unsupportedConfig, xmlError } from '../errors.js';
import { hasFlag } from '../capabilities.js';
import type { DomainDef, YesNo } from '../model.js';
import { propEnum, propInt, propUInt, propYesNo, required } from '../xml/props.js';
import { child, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import type { DeviceKind } from './kind.js';

const TYPES = ['none', 'alsa', 'coreaudio', 'jack', 'oss', 'pulseaudio', 'sdl', 'spice', 'file', 'dbus'] as const;
export type AudioType = (typeof TYPES)[number];
/** virDomainAudioSDLDriver ('' is the default, not writable) */
const SDL_DRIVERS = ['', 'esd', 'alsa', 'arts', 'pulseaudio'] as const;
/** virDomainAudioFormat ('' is the default, not writable) */
const FORMATS = ['', 'u8', 's8', 'u16', 's16', 'u32', 's32', 'f32'] as const;

/** One direction (virDomainAudioIOCommon plus the backend's own per-direction settings). */
export interface AudioIO {
  mixingEngine?: YesNo;
  fixedSettings?: YesNo;
  voices?: number;
  bufferLength?: number;
  /** <settings>: kept only with fixedSettings='yes' */
  frequency?: number;
  channels?: number;
  format?: string;
  // backend settings, each meaningful for some types only
  dev?: string;
  bufferCount?: number;
  serverName?: string;
  clientName?: string;
  connectPorts?: string;
  exactName?: YesNo;
  tryPoll?: YesNo;
  name?: string;
  streamName?: string;
  latency?: number;
}

export interface AudioDef {
  id: number;
  type: AudioType;
  timerPeriod?: number;
  input: AudioIO;
  output: AudioIO;
  /** oss */
  tryMMap?: YesNo;
  exclusive?: YesNo;
  dspPolicy?: number;
  /** pulseaudio */
  serverName?: string;
  /** sdl */
  driver?: string;
  /** file */
  path?: string;
}

declare module '../model.js' {
  interface Devices {
    audio: AudioDef[];
  }
}

const counted = new WeakMap<AudioDef[], Map<number, number>>();
function idCounts(list: AudioDef[]): Map<number, number> {
  let counts = counted.get(list);
  if (!counts) {
    counts = new Map();
    for (const a of list) counts.set(a.id, (counts.get(a.id) ?? 0) + 1);
    counted.set(list, counts);
  }
  return counts;
}

/** virDomainAudioCommonParse */
function parseCommon(e: XElement): AudioIO {
  const io: AudioIO = {};
  const mixingEngine = propYesNo(e, 'mixingEngine');
  const fixedSettings = propYesNo(e, 'fixedSettings');
  if (fixedSettings === 'yes' && mixingEngine !== 'yes') throw unsupportedConfig('fixed audio settings requires mixing engine');
  if (mixingEngine) io.mixingEngine = mixingEngine;
  if (fixedSettings) io.fixedSettings = fixedSettings;
  const voices = propUInt(e, 'voices', { nonZero: true });
  if (voices !== undefined) io.voices = voices;
  const bufferLength = propUInt(e, 'bufferLength', { nonZero: true });
  if (bufferLength !== undefined) io.bufferLength = bufferLength;
  const settings = child(e, 'settings');
  if (settings) {
    if (fixedSettings !== 'yes') throw unsupportedConfig('audio settings specified without fixed settings flag');
    const frequency = propUInt(settings, 'frequency', { nonZero: true });
    if (frequency !== undefined) io.frequency = frequency;
    const channels = propUInt(settings, 'channels', { nonZero: true });
    if (channels !== undefined) io.channels = channels;
    const format = propEnum(settings, 'format', FORMATS, { nonZero: true });
    if (format !== undefined) io.format = format;
  }
  return io;
}

const setString = (io: AudioIO, e: XElement, key: 'dev' | 'serverName' | 'clientName' | 'connectPorts' | 'name' | 'streamName', a: string = key) => {
  if (e.attrs[a] !== undefined) io[key] = e.attrs[a];
};
// (0 is accepted and means unset: neither the XML nor QEMU gets it)
const setUInt = (io: AudioIO, e: XElement, key: 'bufferCount' | 'latency') => {
  const v = propUInt(e, key);
  if (v) io[key] = v;
};
const setYesNo = (io: AudioIO, e: XElement, key: 'exactName' | 'tryPoll') => {
  const v = propYesNo(e, key);
  if (v !== undefined) io[key] = v;
};

/** The backend's per-direction attributes (virDomainAudio<Type>Parse). */
function parseBackendIO(type: AudioType, io: AudioIO, e: XElement): void {
  switch (type) {
    case 'alsa':
      setString(io, e, 'dev');
      break;
    case 'coreaudio':
    case 'sdl':
      setUInt(io, e, 'bufferCount');
      break;
    case 'jack':
      setString(io, e, 'serverName');
      setString(io, e, 'clientName');
      setString(io, e, 'connectPorts');
      setYesNo(io, e, 'exactName');
      break;
    case 'oss':
      setString(io, e, 'dev');
      setYesNo(io, e, 'tryPoll');
      setUInt(io, e, 'bufferCount');
      break;
    case 'pulseaudio':
      setString(io, e, 'name');
      setString(io, e, 'streamName');
      setUInt(io, e, 'latency');
      break;
    default:
      break;
  }
}

// virDomainAudioDefParseXML
function parse(e: XElement): AudioDef {
  required(e, 'type');
  const type = propEnum(e, 'type', TYPES)!;
  required(e, 'id');
  const a: AudioDef = { id: propUInt(e, 'id', { nonZero: true })!, type, input: {}, output: {} };
  const timerPeriod = propUInt(e, 'timerPeriod', { nonZero: true });
  if (timerPeriod !== undefined) a.timerPeriod = timerPeriod;
  const inputEl = child(e, 'input');
  const outputEl = child(e, 'output');
  if (inputEl) a.input = parseCommon(inputEl);
  if (outputEl) a.output = parseCommon(outputEl);
  if (type === 'oss') {
    const tryMMap = propYesNo(e, 'tryMMap');
    if (tryMMap) a.tryMMap = tryMMap;
    const exclusive = propYesNo(e, 'exclusive');
    if (exclusive) a.exclusive = exclusive;
    const dspPolicy = propInt(e, 'dspPolicy');
    if (dspPolicy !== undefined && dspPolicy < 0) throw xmlError(`cannot parse 'dspPolicy' value '${dspPolicy}'`);
    if (dspPolicy !== undefined) a.dspPolicy = dspPolicy;
  } else if (type === 'pulseaudio') {
    if (e.attrs.serverName !== undefined) a.serverName = e.attrs.serverName;
  } else if (type === 'sdl') {
    const driver = propEnum(e, 'driver', SDL_DRIVERS, { nonZero: true });
    if (driver) a.driver = driver;
  } else if (type === 'file') {
    if (e.attrs.path !== undefined) a.path = e.attrs.path;
  }
  if (inputEl) parseBackendIO(type, a.input, inputEl);
  if (outputEl) parseBackendIO(type, a.output, outputEl);
  return a;
}

/** The backend's per-direction attributes as virDomainAudio<Type>Format writes them. */
function backendAttrs(io: AudioIO): string {
  return [
    attr('dev', io.dev), attr('serverName', io.serverName), attr('clientName', io.clientName), attr('connectPorts', io.connectPorts),
    attr('exactName', io.exactName), attr('name', io.name), attr('streamName', io.streamName), attr('latency', io.latency),
  ].join('');
}
/** OSS writes dev, bufferCount, tryPoll; the others bufferCount alone. */
function ioBackendAttrs(type: AudioType, io: AudioIO): string {
  if (type === 'oss') return attr('dev', io.dev) + attr('bufferCount', io.bufferCount) + attr('tryPoll', io.tryPoll);
  if (type === 'coreaudio' || type === 'sdl') return attr('bufferCount', io.bufferCount);
  return backendAttrs(io);
}

/** virDomainAudioCommonFormat */
function formatIO(w: { line(s: string): void; open(s: string): void; close(s: string): void }, type: AudioType, io: AudioIO, dir: 'input' | 'output'): void {
  const backend = ioBackendAttrs(type, io);
  if (!io.mixingEngine && !io.fixedSettings && !io.voices && !io.bufferLength && !backend) return;
  const head = `<${dir}${attr('mixingEngine', io.mixingEngine)}${attr('fixedSettings', io.fixedSettings)}${attr('voices', io.voices)}${attr('bufferLength', io.bufferLength)}${backend}`;
  if (io.fixedSettings !== 'yes') {
    w.line(`${head}/>`);
    return;
  }
  w.open(`${head}>`);
  w.line(`<settings${attr('frequency', io.frequency)}${attr('channels', io.channels)}${attr('format', io.format)}/>`);
  w.close(`</${dir}>`);
}

const bool = (v: YesNo | undefined) => (v === undefined ? undefined : v === 'yes');

/** qemuBuildAudioCommonProps and the backend's per-direction properties; undefined: none. */
function ioProps(type: AudioType, io: AudioIO): Record<string, unknown> | undefined {
  const fixed = io.fixedSettings === 'yes';
  const p: Record<string, unknown> = {
    'mixing-engine': bool(io.mixingEngine),
    'fixed-settings': bool(io.fixedSettings),
    voices: io.voices || undefined,
    'buffer-length': io.bufferLength || undefined,
    frequency: (fixed && io.frequency) || undefined,
    channels: (fixed && io.channels) || undefined,
    format: fixed ? io.format : undefined,
  };
  if (type === 'alsa') p.dev = io.dev;
  if (type === 'coreaudio' || type === 'sdl') p['buffer-count'] = io.bufferCount || undefined;
  if (type === 'jack') Object.assign(p, { 'server-name': io.serverName, 'client-name': io.clientName, 'connect-ports': io.connectPorts, 'exact-name': bool(io.exactName) });
  if (type === 'oss') Object.assign(p, { dev: io.dev, 'buffer-count': io.bufferCount || undefined, 'try-poll': bool(io.tryPoll) });
  if (type === 'pulseaudio') Object.assign(p, { name: io.name, 'stream-name': io.streamName, latency: io.latency || undefined });
  for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k];
  return Object.keys(p).length ? p : undefined;
}

/** qemuAudioDriverTypeToString */
const qemuDriver = (t: AudioType) => (t === 'pulseaudio' ? 'pa' : t === 'file' ? 'wav' : t);

/** qemuBuildAudioCommandLineArg: the -audiodev JSON */
function audiodevProps(a: AudioDef): Record<string, unknown> {
  const p: Record<string, unknown> = { id: `audio${a.id}`, driver: qemuDriver(a.type) };
  if (a.timerPeriod) p['timer-period'] = a.timerPeriod;
  if (a.type === 'oss') {
    if (a.tryMMap) p['try-mmap'] = a.tryMMap === 'yes';
    if (a.exclusive) p.exclusive = a.exclusive === 'yes';
    if (a.dspPolicy !== undefined) p['dsp-policy'] = a.dspPolicy;
  }
  if (a.type === 'pulseaudio' && a.serverName !== undefined) p.server = a.serverName;
  if (a.type === 'file' && a.path !== undefined) p.path = a.path;
  const inp = ioProps(a.type, a.input);
  const out = ioProps(a.type, a.output);
  if (inp) p.in = inp;
  if (out) p.out = out;
  return p;
}

/** virDomainDefFindAudioByID: the backend of that id; id 0 (none given): the first. */
export function findAudio(def: DomainDef, id: number | undefined): AudioDef | undefined {
  return id ? def.devices.audio.find((a) => a.id === id) : def.devices.audio[0];
}

/** virDomainEnsureAudioID: a device that names a backend names one the domain has. */
export function ensureAudioId(def: DomainDef, id: number | undefined): void {
  if (id && !def.devices.audio.some((a) => a.id === id)) throw xmlError(`no audio device with ID ${id}`);
}

/** The environment the SDL backends set (SDL_AUDIODRIVER), in the order they set it. */
export function audioEnv(def: DomainDef): [string, string][] {
  return def.devices.audio.filter((a) => a.type === 'sdl' && a.driver).map((a) => ['SDL_AUDIODRIVER', a.driver!]);
}

export const audio: DeviceKind<AudioDef> = {
  element: 'audio',
  parse,
  validateConf(a, { def }) {
    // virDomainAudioDefValidate: ids are unique (counted once per domain, not per device).
    if ((idCounts(def.devices.audio).get(a.id) ?? 0) > 1) throw xmlError(`audio ID ${a.id} is used multiple times`);
  },
  // qemuValidateDomainDeviceDefAudio
  validate(a, { def, caps }) {
    if (a.type === 'spice' && !def.devices.graphics.some((g) => g.type === 'spice')) throw unsupportedConfig('Spice audio is not supported without spice graphics');
    if (a.type === 'dbus' && !hasFlag(caps, 'display-dbus')) throw unsupportedConfig('D-Bus audio is not supported with this QEMU');
  },
  format(w, a) {
    let head = `audio id='${a.id}' type='${a.type}'${attr('timerPeriod', a.timerPeriod)}`;
    if (a.type === 'oss') head += attr('tryMMap', a.tryMMap) + attr('exclusive', a.exclusive) + attr('dspPolicy', a.dspPolicy);
    if (a.type === 'pulseaudio') head += attr('serverName', a.serverName);
    if (a.type === 'sdl') head += attr('driver', a.driver);
    if (a.type === 'file') head += attr('path', a.path);
    const hasIO = (io: AudioIO) => !!(io.mixingEngine || io.fixedSettings || io.voices || io.bufferLength || ioBackendAttrs(a.type, io));
    w.element(head, 'audio', hasIO(a.input) || hasIO(a.output) ? () => {
      formatIO(w, a.type, a.input, 'input');
      formatIO(w, a.type, a.output, 'output');
    } : undefined);
  },
  command: (a) => [['-audiodev', JSON.stringify(audiodevProps(a))]],
};
