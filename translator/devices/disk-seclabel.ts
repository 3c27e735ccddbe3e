// A disk source's own <seclabel> overrides (libvirt's virSecurityDeviceLabelDef): parsed
// as an inactive definition parses them (no labelskip), written back, and checked
// against the domain's labels. Like the domain's, they change nothing on the command
// line (labels are applied only when a domain really starts).
import { TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { SecLabelDef } from '../domain/seclabel.js';
import { propEnum } from '../xml/props.js';
import { child, elements, escapeXml, textOf, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';

export interface DeviceSecLabel {
  model?: string;
  relabel: boolean;
  label?: string;
}

/** VIR_SECURITY_LABEL_BUFLEN, less the terminating NUL: a longer label is dropped */
const LABEL_MAX = 4096;

/** virSecurityDeviceLabelDefParseXML */
export function parseDeviceSecLabels(parent: XElement): DeviceSecLabel[] {
  const out: DeviceSecLabel[] = [];
  for (const e of elements(parent, 'seclabel')) {
    const model = e.attrs.model;
    if (model !== undefined && out.some((o) => o.model === model)) throw new TranslationError('bare', `seclabel for model ${model} is already provided`);
    const relabel = propEnum(e, 'relabel', ['yes', 'no'] as const) !== 'no';
    const l: DeviceSecLabel = { relabel, ...(model !== undefined ? { model } : {}) };
    const labelEl = child(e, 'label');
    const label = labelEl ? textOf(labelEl) : '';
    if (label !== '' && Buffer.byteLength(label) < LABEL_MAX) l.label = label;
    if (l.label !== undefined && !l.relabel) throw xmlError(`Cannot specify a label if relabelling is turned off. model=${l.model ?? '<null>'}`);
    out.push(l);
  }
  return out;
}

/** virSecurityDeviceLabelDefFormat for an inactive definition: a relabelled override
 *  without a label says nothing and is not written */
export function formatDeviceSecLabels(w: Writer, labels: DeviceSecLabel[] | undefined): void {
  for (const l of labels ?? []) {
    if (l.label === undefined && l.relabel) continue;
    const head = `<seclabel${attr('model', l.model)} relabel='${l.relabel ? 'yes' : 'no'}'`;
    if (l.label === undefined) {
      w.line(`${head}/>`);
      continue;
    }
    w.open(`${head}>`);
    w.line(`<label>${escapeXml(l.label)}</label>`);
    w.close('</seclabel>');
  }
}

/** virSecurityDeviceLabelDefValidate: an override of a domain label that does not relabel */
export function validateDeviceSecLabels(labels: DeviceSecLabel[] | undefined, domain: SecLabelDef[]): void {
  for (const l of labels ?? []) {
    for (const d of domain) {
      if (d.model !== l.model) continue;
      if (!d.relabel) throw unsupportedConfig('label overrides require relabeling to be enabled at the domain level');
    }
  }
}
