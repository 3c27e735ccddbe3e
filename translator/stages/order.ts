// The orders in which libvirt 9.0.0 visits device kinds, one table per stage, each
// naming the libvirt function it follows. Every table lists every kind (a unit test
// checks it); a kind with nothing to do in a stage is simply skipped there.
import type { Kind } from '../devices/registry.js';

/** virDomainDefParseXML: the ./devices/* element lists, in the order it reads them.
 *  (Interfaces come before hostdevs: their hostdevs take the first hostdevN aliases.) */
export const PARSE_ORDER: readonly Kind[] = ['disk', 'controller', 'filesystem', 'interface', 'input', 'graphics', 'sound', 'audio', 'video', 'hostdev', 'memballoon', 'hub', 'panic'];

/** virDomainDeviceInfoIterateFlags: disks, nets, sounds, hostdevs, videos, controllers,
 *  smartcards, chardevs, inputs, filesystems, watchdog, memballoon, rngs, nvram, hubs,
 *  shmems, tpms, panics, memories, redirdevs, iommu, vsock, then (with MISSING_INFO)
 *  graphics, audios, leases. Per-device post-parse, boot order collection, explicit PCI
 *  addresses and per-device validation all walk devices in this order. */
export const ITERATE_ORDER: readonly Kind[] = ['disk', 'interface', 'sound', 'hostdev', 'video', 'controller', 'input', 'filesystem', 'memballoon', 'hub', 'panic', 'graphics', 'audio'];

/** qemuDomainAssignDevicePCISlots: PCI controllers, filesystems, nets (not hostdev ones:
 *  they go with the hostdevs), sounds, other controllers, disks, hostdevs, memballoon,
 *  rngs, watchdog, videos, shmems, inputs, … Kinds without a `pci` hook take no slot. */
export const PCI_ORDER: readonly Kind[] = ['filesystem', 'interface', 'sound', 'controller', 'disk', 'hostdev', 'memballoon', 'video', 'input', 'audio', 'panic', 'hub', 'graphics'];

/** qemuAssignDeviceAliases: disks, nets, filesystems, sounds, hostdevs, redirdevs,
 *  videos, controllers, inputs, chardevs, hubs, shmems, smartcards, watchdog, rngs,
 *  tpms, memories, vsock, iommu; the balloon is named on its own. Kinds count their
 *  own devices, so the order only matters for kinds that share a counter. */
export const ALIAS_ORDER: readonly Kind[] = ['disk', 'interface', 'filesystem', 'sound', 'hostdev', 'video', 'controller', 'input', 'hub', 'memballoon', 'panic', 'audio', 'graphics'];

/** virDomainDefFormatInternalSetRootName: emulator, disks, controllers, leases,
 *  filesystems, interfaces, smartcards, serials, parallels, consoles, channels, inputs,
 *  tpms, graphics, sounds, audios, videos, hostdevs, redirdevs, redirfilter, hubs,
 *  watchdog, memballoon, rngs, nvram, panics, shmems, memories, iommu, vsock. */
export const FORMAT_ORDER: readonly Kind[] = ['disk', 'controller', 'filesystem', 'interface', 'input', 'graphics', 'sound', 'audio', 'video', 'hostdev', 'hub', 'memballoon', 'panic'];

/** qemuBuildCommandLine, from qemuBuildControllersCommandLine on: controllers, memory
 *  devices, hubs, disks, filesystems, nets, smartcards, serials, parallels, channels,
 *  consoles, tpms, inputs, audio backends, graphics, videos, sounds, watchdog,
 *  redirdevs, hostdevs, memballoon, rngs, nvram, … panic, shmems, vsock. */
export const COMMAND_ORDER: readonly Kind[] = ['controller', 'hub', 'disk', 'filesystem', 'interface', 'input', 'audio', 'graphics', 'video', 'sound', 'hostdev', 'memballoon', 'panic'];

/** virDomainUSBDeviceDefForeach: hubs, USB hostdevs, USB disks, CCID controllers, USB
 *  inputs, USB serials, USB sounds, redirdevs. Kinds without a `usb` hook take no port. */
export const USB_ORDER: readonly Kind[] = ['hub', 'hostdev', 'disk', 'controller', 'input', 'sound', 'audio', 'interface', 'filesystem', 'memballoon', 'panic', 'graphics', 'video'];
