// <audio>: the audio backend (libvirt's virDomainAudioDef); only type='none', the
// default libvirt adds when a domain has none.
import { notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import { propEnum, propUInt, required } from '../xml/props.js';
import { elements, type XElement } from '../xml/tree.js';
import type { DeviceKind } from './kind.js';

export interface AudioDef {
  id: number;
  /** 'spice': the default of SPICE graphics */
  type: 'none' | 'spice';
}

declare module '../model.js' {
  interface Devices {
    audio: AudioDef[];
  }
}

const TYPES = ['none', 'alsa', 'coreaudio', 'jack', 'oss', 'pulseaudio', 'sdl', 'spice', 'file', 'dbus', 'pipewire'] as const;

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

function parse(e: XElement): AudioDef {
  const type = propEnum(e, 'type', TYPES);
  if (type !== 'none' && type !== 'spice') throw notImplemented(`<audio type='${type ?? ''}'>`);
  if (elements(e).length) throw notImplemented(`children of <audio type='${type}'>`);
  required(e, 'id');
  return { id: propUInt(e, 'id', { nonZero: true })!, type };
}

export const audio: DeviceKind<AudioDef> = {
  element: 'audio',
  parse,
  validateConf(a, { def }) {
    // virDomainAudioDefValidate: ids are unique (counted once per domain, not per device).
    if ((idCounts(def.devices.audio).get(a.id) ?? 0) > 1) throw xmlError(`audio ID ${a.id} is used multiple times`);
  },
  // qemuValidateDomainDeviceDefAudio
  validate(a, { def }) {
    if (a.type === 'spice' && !def.devices.graphics.some((g) => g.type === 'spice')) throw unsupportedConfig('Spice audio is not supported without spice graphics');
  },
  format: (w, a) => w.line(`<audio id='${a.id}' type='${a.type}'/>`),
  command: (a) => [['-audiodev', JSON.stringify({ id: `audio${a.id}`, driver: a.type })]],
};

