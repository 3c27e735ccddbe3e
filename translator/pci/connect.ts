// What kind of slot a device needs (qemuDomainFillDevicePCIConnectFlagsIterInit): a
// conventional PCI slot, a PCIe one when the machine has a pcie-root, and for virtio
// devices whatever PCIe devices get when the QEMU has (non-)transitional virtio models.
import { hasFlag, type QemuCaps } from '../capabilities.js';
import type { DomainDef } from '../model.js';
import { C } from './addrset.js';

export const pciFlags = C.PCI_DEVICE | C.AUTOASSIGN;

export const hasPcieRoot = (def: DomainDef) => def.devices.controller.some((c) => c.type === 'pci' && c.model === 'pcie-root');

export const pcieFlags = (def: DomainDef) => (hasPcieRoot(def) ? C.PCIE_DEVICE | C.AUTOASSIGN : pciFlags);

export const virtioFlags = (def: DomainDef, caps: QemuCaps) => (hasFlag(caps, 'virtio-pci-non-transitional') ? pcieFlags(def) : pciFlags);
