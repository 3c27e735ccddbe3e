// <sound>: an emulated sound card (libvirt's virDomainSoundDef). PCI cards (es1370,
// ac97, ich6, ich9), the ISA sb16, the PC speaker, usb-audio on a USB port; the HDA
// controllers (ich6, ich9) carry codecs, each a device of its own on the controller's
// bus. Each card plays through an <audio> backend: the one its <audio id> names, else
// the domain's first.
import { hasFlag } from '../capabilities.js';
import { internalError, notImplemented, unsupportedConfig } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { C, type PciAddressSet } from '../pci/addrset.js';
import { pciFlags } from '../pci/connect.js';
import type { DomainDef } from '../model.js';
import { propEnum, propUInt, required } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import { ensureAudioId, findAudio } from './audio.js';
import { addressProps, formatInfo, hasInfo, parseDeviceInfo, wantsPci, zpciDevice } from './info.js';
import type { DeviceKind } from './kind.js';

const MODELS = ['sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb', 'ich7'] as const;
export type SoundModel = (typeof MODELS)[number];
const CODECS = ['duplex', 'micro', 'output'] as const;
type Codec = (typeof CODECS)[number];

export interface SoundDef {
  model: SoundModel;
  /** <codec type>s of an HDA controller, in order (the position is the codec address) */
  codecs: Codec[];
  /** <audio id>: the backend it plays through (undefined: the domain's first) */
  audioId?: number;
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    sound: SoundDef[];
  }
}

/** virDomainSoundModelSupportsCodecs */
const hasCodecs = (s: SoundDef) => s.model === 'ich6' || s.model === 'ich9';
/** the cards that take a PCI slot (qemuDomainDeviceCalculatePCIConnectFlags) */
const isPci = (s: SoundDef) => s.model === 'es1370' || s.model === 'ac97' || s.model === 'ich6' || s.model === 'ich9';

const DRIVER: Partial<Record<SoundModel, string>> = { es1370: 'ES1370', ac97: 'AC97', ich6: 'intel-hda', usb: 'usb-audio', ich9: 'ich9-intel-hda', sb16: 'sb16' };

// virDomainSoundDefParseXML
function parse(e: XElement): SoundDef {
  required(e, 'model');
  const model = propEnum(e, 'model', MODELS)!;
  const s: SoundDef = { model, codecs: [], info: {} };
  if (hasCodecs(s)) {
    for (const c of elements(e, 'codec')) {
      const type = c.attrs.type;
      if (!CODECS.includes(type as Codec)) throw unsupportedConfig(`unknown codec type '${type ?? '(null)'}'`);
      s.codecs.push(type as Codec);
    }
  }
  const audio = child(e, 'audio');
  if (audio) {
    required(audio, 'id');
    s.audioId = propUInt(audio, 'id', { nonZero: true });
  }
  s.info = parseDeviceInfo(e, `<sound model='${model}'>`, false, model === 'usb' ? ['usb'] : []);
  // Cards that take no PCI slot and are not on USB have no address QEMU could use.
  const a = s.info.address;
  if (a && !(isPci(s) && a.type === 'pci') && !(model === 'usb' && a.type === 'usb')) throw notImplemented(`<address type='${a.type}'> on <sound model='${model}'>`);
  return s;
}

/** qemuDomainValidateDevicePCISlotsQ35: the ICH9's own HD audio lives at 00:1b.0 on real
 *  hardware; the first ich9 card without an address goes there when the slot is free. */
export function placeIch9Sound(def: DomainDef, set: PciAddressSet): void {
  const at = { domain: 0, bus: 0, slot: 0x1b, function: 0 };
  if (set.slotInUse(at)) return;
  const s = def.devices.sound.find((x) => x.model === 'ich9' && wantsPci(x.info));
  if (!s) return;
  set.reserve(at, C.PCIE_DEVICE, true);
  s.info.address = { type: 'pci', ...at };
}

/** qemuGetAudioIDString */
function audiodev(s: SoundDef, def: DomainDef): string {
  const a = findAudio(def, s.audioId);
  if (!a) throw internalError('unable to find audio backend for sound device');
  return `audio${a.id}`;
}

export const sound: DeviceKind<SoundDef> = {
  element: 'sound',
  parse,
  info: (s) => s.info,
  // (ich7 has no connect flags, yet libvirt looks for a slot for it and fails there)
  pci: (s) => (isPci(s) || s.model === 'ich7' ? { info: s.info, connect: s.model === 'ich7' ? 0 : pciFlags, function: -1 } : undefined),
  usb: (s) => (s.model === 'usb' ? { info: s.info } : undefined),
  // virDomainSoundDefValidate
  validateConf: (s, { def }) => ensureAudioId(def, s.audioId),
  // qemuValidateDomainDeviceDefSound
  validate(s, { caps }) {
    if (s.model === 'usb' && !hasFlag(caps, 'usb-audio')) throw unsupportedConfig('usb-audio controller is not supported by this QEMU binary');
    if (s.model === 'ich9' && !hasFlag(caps, 'ich9-intel-hda')) throw unsupportedConfig('The ich9-intel-hda audio controller is not supported in this QEMU binary');
    if (s.model === 'ich7') throw internalError("sound card model 'ich7' is not supported by qemu");
    for (const c of s.codecs) if (!hasFlag(caps, `hda-${c}`)) throw unsupportedConfig(`hda-${c} not supported in this QEMU binary`);
  },
  // qemuAssignDeviceSoundAlias
  alias: (_s, i) => `sound${i}`,
  format(w, s) {
    const body = s.codecs.length > 0 || s.audioId !== undefined || hasInfo(s.info);
    w.element(`sound model='${s.model}'`, 'sound', body ? () => {
      for (const c of s.codecs) w.line(`<codec type='${c}'/>`);
      if (s.audioId !== undefined) w.line(`<audio id='${s.audioId}'/>`);
      formatInfo(w, s.info);
    } : undefined);
  },
  // qemuBuildSoundCommandLine
  command(s, { def }) {
    // The PC speaker has no -device of its own.
    if (s.model === 'pcspk') return [['-soundhw', 'pcspk']];
    const id = s.info.alias!;
    const dev: Record<string, unknown> = { driver: DRIVER[s.model], id };
    if (!hasCodecs(s)) dev.audiodev = audiodev(s, def);
    const out = [...zpciDevice(s.info), ['-device', JSON.stringify({ ...dev, ...addressProps(s.info, def) })]];
    if (hasCodecs(s)) {
      const codecs: Codec[] = s.codecs.length ? s.codecs : ['duplex'];
      codecs.forEach((c, cad) => {
        out.push(['-device', JSON.stringify({ driver: `hda-${c}`, id: `${id}-codec${cad}`, bus: `${id}.0`, cad, audiodev: audiodev(s, def) })]);
      });
    }
    return out;
  },
};
