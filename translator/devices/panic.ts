// <panic>: only the s390 model, which every s390x guest has (machines/s390-ccw.ts adds it).
import { notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import { child, elements, type XElement } from '../xml/tree.js';
import type { DeviceKind, ParseContext } from './kind.js';

export interface PanicDef {
  model: 's390';
}

declare module '../model.js' {
  interface Devices {
    panic: PanicDef[];
  }
}

function parse(e: XElement, { def }: ParseContext): PanicDef {
  const model = e.attrs.model ?? (def.os.arch === 's390x' ? 's390' : undefined);
  // libvirt reads the device info (address, alias, …) before the model: only a bare
  // element is sure to fail on the model.
  const MODELS = ['default', 'isa', 'pseries', 'hyperv', 's390'];
  if (model !== undefined && !MODELS.includes(model) && !elements(e).length) throw unsupportedConfig(`unknown panic model '${model}'`);
  if (model !== 's390') throw notImplemented(`<panic model='${model ?? ''}'>`);
  if (child(e, 'address')) throw unsupportedConfig("setting the panic device address is not supported for model 's390'");
  return { model: 's390' };
}

export const panic: DeviceKind<PanicDef> = {
  element: 'panic',
  parse,
  format: (w, p) => w.line(`<panic model='${p.model}'/>`),
  // The s390 panic device is built into the machine: nothing on the command line.
};

/** virDomainDefRejectDuplicatePanics (post-parse). */
export function checkDuplicatePanics(list: PanicDef[]): void {
  const seen = new Set<string>();
  for (const p of list) {
    if (seen.has(p.model)) throw xmlError(`Multiple panic devices with model '${p.model}'`);
    seen.add(p.model);
  }
}
