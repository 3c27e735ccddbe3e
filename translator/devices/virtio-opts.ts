// The virtio options every virtio device's <driver> may carry (libvirt's
// virDomainVirtioOptions): parsed, written back and turned into -device properties the
// same way for each device that has them.
import type { TriState } from '../model.js';
import { propOnOff } from '../xml/props.js';
import type { XElement } from '../xml/tree.js';
import { attr } from '../xml/writer.js';

/** [XML attribute, QEMU property], in libvirt's order */
const OPTS = [['iommu', 'iommu_platform'], ['ats', 'ats'], ['packed', 'packed'], ['page_per_vq', 'page-per-vq']] as const;
export type VirtioOptions = Partial<Record<(typeof OPTS)[number][0], TriState>>;

/** virDomainVirtioOptionsParseXML: undefined without a <driver>. */
export function parseVirtioOptions(drv: XElement | undefined): VirtioOptions | undefined {
  if (!drv) return undefined;
  const out: VirtioOptions = {};
  for (const [a] of OPTS) {
    const v = propOnOff(drv, a);
    if (v) out[a] = v;
  }
  return out;
}

/** virDomainVirtioOptionsFormat: the attributes for <driver>. */
export const virtioOptionsAttrs = (v: VirtioOptions | undefined): string => OPTS.map(([a]) => attr(a, v?.[a])).join('');

/** qemuBuildVirtioDevProps: the options as -device properties. */
export function virtioOptionsProps(v: VirtioOptions | undefined): Record<string, boolean> {
  const props: Record<string, boolean> = {};
  for (const [a, p] of OPTS) if (v?.[a]) props[p] = v[a] === 'on';
  return props;
}
