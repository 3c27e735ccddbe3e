// <boot loadparm> on the command line (qemuAppendLoadparmMachineParm): the IPL load
// parameter of the device that boots first, a machine property on s390x. The first disk
// whose own <boot order> is 1 names it, else the first such NIC; only for a QEMU with
// the machine's loadparm property.
import { hasFlag, type QemuCaps } from '../capabilities.js';
import type { DomainDef } from '../model.js';

export function loadparmMachineParam(def: DomainDef, caps: QemuCaps): string[] {
  if (!hasFlag(caps, 'loadparm')) return [];
  const infos = [...def.devices.disk.map((d) => d.info), ...def.devices.interface.map((n) => (n.hostdev ?? n).info)];
  const first = infos.find((i) => i.bootIndex === 1 && i.loadparm !== undefined);
  return first ? [`loadparm=${first.loadparm}`] : [];
}
