// Domain-level <seclabel> (virSecurityLabelDefsParseXML), parsed as `virsh define` and
// domxml-to-native parse: inactive, so a dynamic label's <label> and every <imagelabel>
// are never read. Security labels change nothing on the command line libvirt prints:
// labels are generated and checked against the host's drivers only when a domain
// really starts, which neither define nor domxml-to-native does.
//
// What a label without a model becomes depends on the host's security drivers (the
// first one's model is the default). No snapshot records them, so virtgold assumes
// libvirt's drivers here and in its test harness: `none` first (then `dac`), which is
// what libvirt runs with where neither SELinux nor AppArmor is enabled.
import { TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import { propEnum, propYesNo } from '../xml/props.js';
import { child, elements, textOf, type XElement } from '../xml/tree.js';
import { escapeXml } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';

/** The model of libvirt's first security driver, which unmodelled labels take. */
export const DEFAULT_SECURITY_MODEL = 'none';

export interface SecLabelDef {
  /** 'default' when the XML names no type: such a label is kept but never written */
  type: 'default' | 'none' | 'dynamic' | 'static';
  model?: string;
  relabel: boolean;
  label?: string;
  baselabel?: string;
}

// VIR_SECURITY_MODEL_BUFLEN and VIR_SECURITY_LABEL_BUFLEN, less the terminating NUL.
const MODEL_MAX = 256;
const LABEL_MAX = 4096;
/** STRLIM: longer strings (in bytes) are treated as absent. */
const within = (s: string | undefined, max: number) => (s !== undefined && Buffer.byteLength(s) <= max ? s : undefined);
/** virXPathString("string(./x[1])"): the text of the first such child, empty meaning absent. */
const childText = (e: XElement, name: string) => {
  const c = child(e, name);
  const t = c ? textOf(c) : '';
  return t === '' ? undefined : t;
};

function parseOne(e: XElement): SecLabelDef {
  const model = within(e.attrs.model, MODEL_MAX);
  // (sic) libvirt presets 'dynamic', but reading the absent attribute resets it to 'default'
  const t = propEnum(e, 'type', ['default', 'none', 'dynamic', 'static'] as const, { nonZero: true }) ?? 'default';
  const relabelAttr = propYesNo(e, 'relabel');
  const relabel = relabelAttr ? relabelAttr === 'yes' : t !== 'static' && t !== 'none';
  if (t === 'dynamic' && !relabel) throw unsupportedConfig('dynamic label type must use resource relabeling');
  if (t === 'none' && relabel) throw unsupportedConfig("resource relabeling is not compatible with 'none' label type");
  // Model 'none' carries no labels; an inactive definition turns it into type none.
  if (model === 'none') return { type: 'none', model, relabel: false };
  const out: SecLabelDef = { type: t, relabel, ...(model !== undefined ? { model } : {}) };
  if (t === 'static') {
    const label = within(childText(e, 'label'), LABEL_MAX);
    if (label === undefined) throw xmlError('security label is missing');
    out.label = label;
  }
  if (t === 'dynamic') {
    const base = within(childText(e, 'baselabel'), LABEL_MAX);
    if (base !== undefined) out.baselabel = base;
  }
  return out;
}

export function parseSecLabels(root: XElement): SecLabelDef[] {
  const list: SecLabelDef[] = [];
  for (const e of elements(root, 'seclabel')) {
    const l = parseOne(e);
    // (two labels without a model clash too: libvirt prints the missing model as "(null)")
    if (list.some((o) => o.model === l.model)) throw new TranslationError('bare', `seclabel for model ${l.model ?? '(null)'} is already provided`);
    list.push(l);
  }
  if (list.length === 1 && list[0]!.model === undefined) {
    const l = list[0]!;
    if (l.type !== 'none' && !(l.type === 'dynamic' && l.baselabel === undefined)) throw xmlError('missing security model in domain seclabel');
    l.model = DEFAULT_SECURITY_MODEL;
    if (l.model === 'none') Object.assign(l, { type: 'none', relabel: false });
  }
  if (list.length > 1 && list.some((l) => l.model === undefined)) throw xmlError('missing security model when using multiple labels');
  return list;
}

/** virSecurityLabelDefFormat for an inactive definition (no <imagelabel> is ever parsed). */
export function formatSecLabel(w: Writer, l: SecLabelDef): void {
  if (l.type === 'default') return;
  const head = `seclabel type='${l.type}'${l.model !== undefined ? ` model='${escapeXml(l.model)}'` : ''}`;
  if (l.type === 'none') return w.line(`<${head}/>`);
  const full = `${head} relabel='${l.relabel ? 'yes' : 'no'}'`;
  if (l.label === undefined && l.baselabel === undefined) return w.line(`<${full}/>`);
  w.open(`<${full}>`);
  if (l.label !== undefined) w.line(`<label>${escapeXml(l.label)}</label>`);
  if (l.baselabel !== undefined) w.line(`<baselabel>${escapeXml(l.baselabel)}</baselabel>`);
  w.close('</seclabel>');
}
