// <panic>: the guest's crash notifier (libvirt's virDomainPanicDef): the ISA pvpanic
// device, Hyper-V's crash MSRs (a -cpu property, domain/features.ts), the s390 one every
// s390x guest has (machines/s390-ccw.ts adds it) and pSeries' firmware one (refused
// here: no snapshot is a pSeries machine).
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef } from '../model.js';
import { child, type XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';
import { formatInfo, parseDeviceInfo } from './info.js';
import type { DeviceKind } from './kind.js';

const MODELS = ['default', 'isa', 'pseries', 'hyperv', 's390'] as const;
type Model = Exclude<(typeof MODELS)[number], 'default'>;

export interface PanicDef {
  /** undefined ('default') until post-parse picks the model */
  model?: Model;
  /** an <address type='isa'>: iobase and irq, 0 when not given */
  isa?: { iobase: number; irq: number };
  /** any other address */
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    panic: PanicDef[];
  }
}

/** virXMLPropUInt with base 16 (strtoul takes a 0x prefix). */
function hexUInt(e: XElement, a: string): number {
  const v = e.attrs[a];
  if (v === undefined) return 0;
  const m = /^[ \t\n\v\f\r]*\+?(?:0[xX])?([0-9a-fA-F]+)$/.exec(v);
  const n = m ? parseInt(m[1]!, 16) : NaN;
  if (!(n <= 0xffffffff)) throw xmlError(`Invalid value for attribute '${a}' in element '${e.name}': '${v}'. Expected non-negative integer value`);
  return n;
}

/** virDomainPanicDefParseXML: the device info, then the model. */
function parse(e: XElement): PanicDef {
  const p: PanicDef = { info: {} };
  const addr = child(e, 'address');
  if (addr?.attrs.type === 'isa') {
    parseDeviceInfo({ ...e, children: e.children.filter((c) => c !== addr) }, '<panic>', false);
    p.isa = { iobase: hexUInt(addr, 'iobase'), irq: hexUInt(addr, 'irq') };
  } else {
    p.info = parseDeviceInfo(e, '<panic>', false);
  }
  const model = e.attrs.model;
  if (model !== undefined && !(MODELS as readonly string[]).includes(model)) throw unsupportedConfig(`unknown panic model '${model}'`);
  if (model !== undefined && model !== 'default') p.model = model as Model;
  return p;
}

const hasAddress = (p: PanicDef) => p.isa !== undefined || p.info.address !== undefined;

/** qemuValidateDomainDefPanic */
export function validatePanics(def: DomainDef, caps: QemuCaps): void {
  const x86 = def.os.arch === 'x86_64' || def.os.arch === 'i686';
  for (const p of def.devices.panic) {
    if (p.model === 'isa') {
      if (!hasFlag(caps, 'pvpanic')) throw unsupportedConfig('the QEMU binary does not support the ISA panic device');
      if (p.info.address) throw unsupportedConfig('panic is supported only with ISA address type');
      continue;
    }
    if (p.model === 's390' && def.os.arch !== 's390x' && def.os.arch !== 's390') throw unsupportedConfig("only S390 guests support panic device of model 's390'");
    if (p.model === 'hyperv' && !x86) throw unsupportedConfig("only i686 and x86_64 guests support panic device of model 'hyperv'");
    // (no snapshot is a pSeries machine)
    if (p.model === 'pseries') throw unsupportedConfig("only pSeries guests support panic device of model 'pseries'");
    if (hasAddress(p)) throw unsupportedConfig(`setting the panic device address is not supported for model '${p.model}'`);
  }
}

export const panic: DeviceKind<PanicDef> = {
  element: 'panic',
  parse,
  // (an ISA address is not one the stages know: only other addresses are visited)
  info: (p) => p.info,
  // qemuDomainDevicePanicDefPostParse (pSeries machines aside)
  postParse(p, { def }) {
    p.model ??= def.os.arch === 's390x' || def.os.arch === 's390' ? 's390' : 'isa';
  },
  format(w, p) {
    const isa = p.isa;
    w.element(`panic${attr('model', p.model)}`, 'panic', isa || p.info.address ? () => {
      if (isa) w.line(`<address type='isa'${isa.iobase > 0 ? ` iobase='0x${isa.iobase.toString(16)}'` : ''}${isa.irq > 0 ? ` irq='0x${isa.irq.toString(16)}'` : ''}/>`);
      else formatInfo(w, p.info);
    } : undefined);
  },
  // qemuBuildPanicCommandLine: only the ISA model is a device (pvpanic takes 'ioport').
  command: (p) => (p.model === 'isa' ? [['-device', JSON.stringify({ driver: 'pvpanic', ...(p.isa ? { ioport: p.isa.iobase } : {}) })]] : []),
};

/** virDomainDefRejectDuplicatePanics (post-parse). */
export function checkDuplicatePanics(list: PanicDef[]): void {
  const seen = new Set<string>();
  for (const p of list) {
    const m = p.model ?? 'default';
    if (seen.has(m)) throw xmlError(`Multiple panic devices with model '${m}'`);
    seen.add(m);
  }
}
