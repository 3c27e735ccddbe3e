// The orders in which libvirt 9.0.0 visits device kinds, one table per stage, each
// naming the libvirt function it follows. Every table lists every kind (a unit test
// checks it); a kind with nothing to do in a stage is simply skipped there.
import type { Kind } from '../devices/registry.js';

/** virDomainDefParseXML: the ./devices/* element lists, in the order it reads them.
 *  (Interfaces come before hostdevs: their hostdevs take the first hostdevN aliases.) */
export const PARSE_ORDER: readonly Kind[] = ['disk', 'controller', 'filesystem', 'interface', 'smartcard', 'parallel', 'serial', 'console', 'channel', 'input', 'graphics', 'sound', 'audio', 'video', 'hostdev', 'watchdog', 'memballoon', 'rng', 'tpm', 'hub', 'redirdev', 'redirfilter', 'panic', 'shmem', 'memory', 'iommu', 'vsock'];

/** virDomainDeviceInfoIterateFlags: disks, nets, sounds, hostdevs, videos, controllers,
 *  smartcards, chardevs, inputs, filesystems, watchdog, memballoon, rngs, nvram, hubs,
 *  shmems, tpms, panics, memories, redirdevs, iommu, vsock, then (with MISSING_INFO)
 *  graphics, audios, leases. Per-device post-parse, boot order collection, explicit PCI
 *  addresses and per-device validation all walk devices in this order. */
export const ITERATE_ORDER: readonly Kind[] = ['disk', 'interface', 'sound', 'hostdev', 'video', 'controller', 'smartcard', 'serial', 'parallel', 'channel', 'console', 'input', 'filesystem', 'watchdog', 'memballoon', 'rng', 'hub', 'shmem', 'tpm', 'panic', 'memory', 'redirdev', 'redirfilter', 'iommu', 'vsock', 'graphics', 'audio'];

/** qemuDomainAssignDevicePCISlots: PCI controllers, filesystems, nets (not hostdev ones:
 *  they go with the hostdevs), sounds, other controllers, disks, hostdevs, memballoon,
 *  rngs, watchdog, videos, shmems, inputs, … Kinds without a `pci` hook take no slot. */
export const PCI_ORDER: readonly Kind[] = ['filesystem', 'interface', 'sound', 'controller', 'disk', 'hostdev', 'memballoon', 'rng', 'watchdog', 'video', 'shmem', 'input', 'parallel', 'serial', 'channel', 'console', 'hub', 'iommu', 'vsock', 'memory', 'audio', 'panic', 'smartcard', 'redirdev', 'redirfilter', 'tpm', 'graphics'];

/** qemuAssignDeviceAliases: disks, nets, filesystems, sounds, hostdevs, redirdevs,
 *  videos, controllers, inputs, chardevs, hubs, shmems, smartcards, watchdog, rngs,
 *  tpms, memories, vsock, iommu; the balloon is named on its own. Kinds count their
 *  own devices, so the order only matters for kinds that share a counter. */
export const ALIAS_ORDER: readonly Kind[] = ['disk', 'interface', 'filesystem', 'sound', 'hostdev', 'redirdev', 'redirfilter', 'video', 'controller', 'input', 'parallel', 'serial', 'channel', 'console', 'hub', 'shmem', 'smartcard', 'watchdog', 'memballoon', 'rng', 'tpm', 'panic', 'memory', 'vsock', 'iommu', 'audio', 'graphics'];

/** virDomainDefFormatInternalSetRootName: emulator, disks, controllers, leases,
 *  filesystems, interfaces, smartcards, serials, parallels, consoles, channels, inputs,
 *  tpms, graphics, sounds, audios, videos, hostdevs, redirdevs, redirfilter, hubs,
 *  watchdog, memballoon, rngs, nvram, panics, shmems, memories, iommu, vsock. */
export const FORMAT_ORDER: readonly Kind[] = ['disk', 'controller', 'filesystem', 'interface', 'smartcard', 'serial', 'parallel', 'console', 'channel', 'input', 'tpm', 'graphics', 'sound', 'audio', 'video', 'hostdev', 'redirdev', 'redirfilter', 'hub', 'watchdog', 'memballoon', 'rng', 'panic', 'shmem', 'memory', 'iommu', 'vsock'];

/** qemuBuildCommandLine, from qemuBuildControllersCommandLine on: controllers, memory
 *  devices, hubs, disks, filesystems, nets, smartcards, serials, parallels, channels,
 *  consoles, tpms, inputs, audio backends, graphics, videos, sounds, watchdog,
 *  redirdevs, hostdevs, memballoon, rngs, nvram, … panic, shmems, vsock. */
export const COMMAND_ORDER: readonly Kind[] = ['iommu', 'controller', 'memory', 'hub', 'disk', 'filesystem', 'interface', 'smartcard', 'serial', 'parallel', 'channel', 'console', 'tpm', 'input', 'audio', 'graphics', 'video', 'sound', 'watchdog', 'redirdev', 'redirfilter', 'hostdev', 'memballoon', 'rng', 'panic', 'shmem', 'vsock'];

/** The kinds of COMMAND_ORDER that libvirt builds after -sandbox, in that order:
 *  panics, shmems, vsock (the namespace's arguments and -sandbox come before them). */
export const AFTER_SANDBOX: readonly Kind[] = ['panic', 'shmem', 'vsock'];

/** virDomainUSBDeviceDefForeach: hubs, USB hostdevs, USB disks, CCID controllers, USB
 *  inputs, USB serials, USB sounds, redirdevs. Kinds without a `usb` hook take no port. */
export const USB_ORDER: readonly Kind[] = ['hub', 'hostdev', 'disk', 'controller', 'input', 'serial', 'sound', 'audio', 'smartcard', 'redirdev', 'redirfilter', 'interface', 'filesystem', 'memballoon', 'rng', 'tpm', 'watchdog', 'panic', 'parallel', 'console', 'channel', 'shmem', 'memory', 'iommu', 'vsock', 'graphics', 'video'];
