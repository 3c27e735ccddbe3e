// Implicit devices that several machine families add the same way (qemuDomainDefAddDefaultDevices).
import { xmlError } from '../errors.js';
import type { DomainDef } from '../model.js';

/** qemuDomainDefAddImplicitInputDevice: every PC has a PS/2 mouse and keyboard. */
export function addImplicitInput(def: DomainDef): void {
  const d = def.devices;
  for (const type of ['mouse', 'keyboard'] as const) {
    if (!d.input.some((i) => i.type === type && i.bus === 'ps2')) d.input.push({ type, bus: 'ps2', info: {} });
  }
}

/** The machine's root bus as controller index 0: added, or checked when the XML has one. */
export function addPciRoot(def: DomainDef, model: 'pci-root' | 'pcie-root'): void {
  const list = def.devices.controller;
  const root = list.find((c) => c.type === 'pci' && c.index === 0);
  if (!root) {
    list.push({ type: 'pci', index: 0, model, info: {} });
  } else if (root.model !== model) {
    throw xmlError(`The PCI controller with index='0' must be model='${model}' for this machine type, but model='${root.model ?? '(null)'}' was found instead`);
  }
}

