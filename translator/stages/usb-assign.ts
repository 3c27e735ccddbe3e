// USB port assignment (qemuDomainAssignUSBAddresses, for a new domain as `virsh define`
// and domxml-to-native parse one): hubs libvirt adds when the controllers have too few
// ports, the controllers' buses and the hubs with ports, the ports devices ask for,
// then the hubs' ports, then the other devices' in virDomainUSBDeviceDefForeach's order.
import { unsupportedConfig } from '../errors.js';
import type { ControllerDef } from '../devices/controller-def.js';
import type { StageContext, UsbNeed } from '../devices/kind.js';
import { eachDevice } from '../devices/registry.js';
import type { DomainDef } from '../model.js';
import { USB_HUB_PORTS, UsbAddressSet, usbPortValid } from '../usb/addrset.js';
import { USB_ORDER } from './order.js';

/** virDomainUSBAddressControllerModelToPorts (the ICH9 UHCIs share their EHCI's ports) */
export function usbControllerPorts(c: ControllerDef): number {
  switch (c.model) {
    case undefined: case 'piix3-uhci': case 'piix4-uhci': case 'vt82c686b-uhci': return 2;
    case 'ehci': case 'ich9-ehci1': return 6;
    case 'pci-ohci': return 3;
    case 'nec-xhci': case 'qemu-xhci': return c.ports ?? 4;
    case 'qusb1': case 'qusb2': return c.ports ?? 8;
    default: return 0;
  }
}

/** The USB devices, hubs first unless skipped (virDomainUSBDeviceDefForeach). */
function usbDevices(def: DomainDef, skipHubs: boolean): UsbNeed[] {
  const out: UsbNeed[] = [];
  for (const kind of USB_ORDER) {
    if (skipHubs && kind === 'hub') continue;
    eachDevice(def.devices, kind, (k, dev) => {
      const need = k.usb?.(dev);
      if (need) out.push(need);
    });
  }
  return out;
}

export function assignUsbAddresses({ def }: StageContext): void {
  const usbControllers = def.devices.controller.filter((c) => c.type === 'usb');
  // qemuDomainUSBAddressAddHubs
  const count = usbDevices(def, false).length;
  if (count > 0 && !usbControllers.some((c) => c.model !== 'none')) {
    throw unsupportedConfig('USB is disabled for this domain, but USB devices are present in the domain XML');
  }
  const available = usbControllers.reduce((n, c) => n + usbControllerPorts(c), 0) + def.devices.hub.length * USB_HUB_PORTS;
  const needed = count > available ? Math.ceil((count - available + 1) / (USB_HUB_PORTS - 1)) : 0;
  for (let i = 0; i < needed; i++) def.devices.hub.push({ type: 'usb', info: {} });

  // virDomainUSBAddressSetAddControllers: buses, then the hubs already on a port
  const set = new UsbAddressSet();
  for (const c of usbControllers) set.addController(c.index, usbControllerPorts(c));
  const placed = (a: UsbNeed['info']['address']) => a?.type === 'usb' && usbPortValid(a);
  for (const h of def.devices.hub) if (h.info.address?.type === 'usb' && usbPortValid(h.info.address)) set.addHub(h.info.address);

  // virDomainUSBAddressReserve for every other device with a port
  const devices = usbDevices(def, true);
  for (const { info, other } of devices) if (!other && info.address?.type === 'usb' && usbPortValid(info.address)) set.reserve(info.address);

  // qemuDomainAssignUSBHubs, then qemuDomainAssignUSBPorts
  for (const h of def.devices.hub) {
    const a = h.info.address;
    if (placed(a)) continue;
    h.info.address = set.assign(a?.type === 'usb' ? a : undefined);
    set.addHub(h.info.address);
  }
  for (const { info, other } of devices) {
    const a = info.address;
    if (other || (a && a.type !== 'usb') || placed(a)) continue;
    info.address = set.assign(a);
  }
}
