// Reader for libvirt's QEMU capability cache format (<qemuCaps>), as libvirt writes
// it under /var/cache/libvirt/qemu/capabilities and keeps in tests/qemucapabilitiesdata.
// Only facts are read; whatever else a probe file holds is accepted and ignored.
import { child, elements, parseXml, textOf, type XElement } from './xml/tree.js';

/** libvirt's accelerator names in the cache: 'kvm' and 'tcg' (virt type 'qemu'). */
/** An accelerator a snapshot may list machines for ('hvf': macOS's, never in a Linux QEMU's). */
export type CapsVirtType = 'kvm' | 'tcg' | 'hvf';

export interface MachineType {
  virtType: CapsVirtType;
  name: string;
  alias?: string;
  isDefault: boolean;
  maxCpus: number;
  hotplugCpus: boolean;
  defaultCPU?: string;
  defaultRAMid?: string;
  deprecated: boolean;
  numaMemSupported: boolean;
}

export interface CpuModel {
  virtType: CapsVirtType;
  name: string;
  typename?: string;
  usable?: string;
  deprecated: boolean;
  /** the features that keep QEMU from running the model here, as QEMU names them */
  blockers: string[];
}

export interface QemuCaps {
  /** where it came from, for messages */
  source: string;
  version: { major: number; minor: number; micro: number; number: number };
  kvmVersion: number;
  /** the QEMU binary libvirt probed, when the file names it (libvirt's cache files do) */
  emulator?: string;
  package?: string;
  arch: string;
  flags: Set<string>;
  machines: MachineType[];
  cpuModels: CpuModel[];
  /** the host CPU as QEMU expanded it, per accelerator (<hostCPU>): what libvirt derives
   *  host-model from */
  hostCpus: HostCpu[];
  /** the host's SGX EPC sections QEMU reported (<sgx><sections>), in the file's order;
   *  read only where QEMU has sgx-epc, as libvirt reads them */
  sgxSections?: { node: number; sizeKiB: number }[];
}

export interface HostCpu {
  virtType: CapsVirtType;
  model: string;
  /** boolean properties in the file's order (other kinds are kept out); migratable
   *  false where QEMU says the property does not migrate */
  props: { name: string; value: boolean; migratable?: boolean }[];
  /** whether QEMU reported migratability (migratability='yes') */
  migratability: boolean;
  /** every property's name, of any kind, in the file's order */
  propNames: string[];
  /** the string and number properties (x86: vendor, family, model, stepping) */
  values: Record<string, string | number>;
}

export class CapsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CapsError';
  }
}

function int(value: string | undefined, what: string, source: string): number {
  if (value === undefined || !/^\d+$/.test(value.trim())) {
    throw new CapsError(`${source}: <qemuCaps> has a missing or invalid ${what}`);
  }
  return Number(value.trim());
}

function virtTypeOf(e: XElement, source: string): CapsVirtType {
  const t = e.attrs.type ?? 'kvm';
  if (t !== 'kvm' && t !== 'tcg') throw new CapsError(`${source}: <${e.name}> has unknown type '${t}'`);
  return t;
}

/** virQEMUCapsParseSGXInfo's sections (their sizes are KiB, whatever the unit says). */
function sgxSections(root: XElement, source: string): { node: number; sizeKiB: number }[] {
  const sections = child(root, 'sgx') && child(child(root, 'sgx')!, 'sections');
  return (sections ? elements(sections, 'section') : []).map((e) => {
    const node = e.attrs.node !== undefined && /^\d+$/.test(e.attrs.node) ? Number(e.attrs.node) : NaN;
    const size = e.attrs.size !== undefined && /^\d+$/.test(e.attrs.size) ? Number(e.attrs.size) : NaN;
    if (!Number.isSafeInteger(node) || !Number.isSafeInteger(size)) throw new CapsError(`${source}: an SGX <section> without a valid node or size`);
    return { node, sizeKiB: size };
  });
}

export function loadCaps(text: string, source = 'capabilities'): QemuCaps {
  let root: XElement;
  try {
    root = parseXml(text, source);
  } catch (e) {
    throw new CapsError(`${source}: not a QEMU capabilities file (${(e as Error).message})`);
  }
  if (root.name !== 'qemuCaps') {
    throw new CapsError(`${source}: not a QEMU capabilities file (root element is <${root.name}>, expected <qemuCaps>)`);
  }
  const versionEl = child(root, 'version');
  const number = int(versionEl && textOf(versionEl), '<version>', source);
  const archEl = child(root, 'arch');
  const arch = archEl ? textOf(archEl).trim() : '';
  if (!arch) throw new CapsError(`${source}: <qemuCaps> has no <arch>`);
  const kvmEl = child(root, 'kvmVersion');
  const pkgEl = child(root, 'package');
  const emulatorEl = child(root, 'emulator');

  const flags = new Set<string>();
  for (const f of elements(root, 'flag')) {
    if (!f.attrs.name) throw new CapsError(`${source}: <flag> without a name`);
    flags.add(f.attrs.name);
  }

  const machines: MachineType[] = elements(root, 'machine').map((m) => {
    if (!m.attrs.name) throw new CapsError(`${source}: <machine> without a name`);
    return {
      virtType: virtTypeOf(m, source),
      name: m.attrs.name,
      alias: m.attrs.alias,
      isDefault: m.attrs.default === 'yes',
      maxCpus: m.attrs.maxCpus ? int(m.attrs.maxCpus, `maxCpus of machine ${m.attrs.name}`, source) : 0,
      hotplugCpus: m.attrs.hotplugCpus === 'yes',
      defaultCPU: m.attrs.defaultCPU,
      defaultRAMid: m.attrs.defaultRAMid,
      deprecated: m.attrs.deprecated === 'yes',
      numaMemSupported: m.attrs.numaMemSupported === 'yes',
    };
  });

  const cpuModels: CpuModel[] = elements(root, 'cpu').map((c) => ({
    virtType: virtTypeOf(c, source),
    name: c.attrs.name ?? '',
    typename: c.attrs.typename,
    usable: c.attrs.usable,
    deprecated: c.attrs.deprecated === 'yes',
    blockers: elements(c, 'blocker').map((b) => b.attrs.name ?? ''),
  }));

  const sgx = flags.has('sgx-epc') ? sgxSections(root, source) : undefined;

  return {
    ...(sgx ? { sgxSections: sgx } : {}),
    source,
    version: {
      number,
      major: Math.floor(number / 1_000_000),
      minor: Math.floor(number / 1000) % 1000,
      micro: number % 1000,
    },
    kvmVersion: kvmEl ? int(textOf(kvmEl), '<kvmVersion>', source) : 0,
    package: pkgEl ? textOf(pkgEl).trim() : undefined,
    ...(emulatorEl && textOf(emulatorEl).trim() ? { emulator: textOf(emulatorEl).trim() } : {}),
    arch,
    flags,
    machines,
    cpuModels,
    hostCpus: elements(root, 'hostCPU').map((h) => ({
      virtType: virtTypeOf(h, source),
      model: h.attrs.model ?? '',
      props: elements(h, 'property').filter((p) => p.attrs.type === 'boolean')
        .map((p) => ({ name: p.attrs.name ?? '', value: p.attrs.value === 'true', ...(p.attrs.migratable === 'no' ? { migratable: false } : {}) })),
      migratability: h.attrs.migratability === 'yes',
      propNames: elements(h, 'property').map((p) => p.attrs.name ?? ''),
      values: Object.fromEntries(elements(h, 'property').filter((p) => p.attrs.type === 'string' || p.attrs.type === 'number')
        .map((p) => [p.attrs.name ?? '', p.attrs.type === 'number' ? Number(p.attrs.value) : p.attrs.value ?? ''])),
    })),
  };
}

/** The capability flags the translator reads, spelt as libvirt's cache spells them
 *  (virQEMUCaps names). A flag outside this list is a compile error at its use. */
export const CAPS_FLAGS = [
  'kvm', 'tcg', 'no-acpi', 'cpu-cache', 'cpu-max', 'cpu.migratable', 'cpu-unavailable-features', 'smp-dies',
  'query-hotpluggable-cpus', 'query-cpu-model-expansion', 'numa.hmat', 'disable-s3', 'disable-s4', 'seccomp-sandbox', 'zpci',
  'vfio-pci', 'vfio-pci.vf-token',
  'vmgenid', 'aes-key-wrap', 'dea-key-wrap', 'confidential-guest-support', 's390-pv-guest', 'compat-deprecated',
  // storage controllers (devices/controller-storage.ts)
  'lsi', 'virtio-scsi-pci', 'mptsas1068', 'megasas', 'pvscsi',
  'piix3-usb-uhci', 'piix4-usb-uhci', 'usb-ehci', 'ich9-usb-ehci1', 'nec-usb-xhci', 'qemu-xhci',
  // USB devices (translator/usb/, devices/hub.ts, devices/input.ts)
  'usb-hub', 'usb-storage', 'usb-storage.removable', 'usb-kbd',
  // memory backends and IOThreads (domain/memory.ts, domain/tuning.ts)
  'memory-backend-memfd', 'memory-backend-memfd.hugetlb', 'memory-backend-file.prealloc-threads', 'thread-context',
  'memory-backend-file.x-use-canonical-path-for-ramblock-id', 'iothread.thread-pool-max',
  // PCI topology (translator/pci/)
  'virtio-pci-non-transitional', 'scsi-disk.channel', 'virtio-blk-pci.scsi', 'virtio-blk.queue-size', 'ide-drive.wwn', 'scsi-disk.wwn', 'rotation-rate', 'aio.io_uring', 'virtio-blk-pci.scsi.default.disabled', 'ich9-disable-s3', 'ich9-disable-s4', 'ich9-ahci', 'pci-bridge', 'dmi-to-pci-bridge',
  'ioh3420', 'x3130-upstream', 'xio3130-downstream', 'pxb', 'pxb-pcie', 'pcie-root-port', 'rbd-encryption', 'set-action',
  'pcie-pci-bridge', 'pcie-root-port.hotplug', 'piix4.acpi-root-pci-hotplug',
  // features and clock
  'no-hpet', 'machine-hpet', 'kvm-pit-lost-tick-policy', 'machine-vmport-opt', 'vmcoreinfo', 'mch.extended-tseg-mbytes',
  // filesystems
  'fsdev.multidevs', 'vhost-user-fs', 'vhost-user-fs.bootindex',
  // network and vhost-user disks (blockdev/net.ts)
  'nbd-tls', 'blockdev.nbd.tls-hostname', 'vhost-user-blk',
  // LUN passthrough, SCSI hostdevs, loadparm (devices/disk-lun.ts, devices/hostdev-scsi.ts, devices/loadparm.ts)
  'scsi-block', 'pr-manager-helper', 'vhost-scsi', 'set-action', 'loadparm', 'acpi-index',
  // character devices, smartcards, USB redirection (devices/chardev*.ts)
  'chardev.qemu-vdagent', 'isa-serial', 'usb-serial', 'pci-serial', 's390-sclp', 'sclplmconsole', 'netdev.json', 'usb-redir', 'usb-redir.filter', 'ccid-emulated', 'ccid-passthru',
  // network interfaces (devices/net*.ts)
  'rtl8139', 'e1000', 'virtio-net', 'netdev.vhost-vdpa', 'virtio-net.rss',
  // RNG, TPM, watchdog, panic, balloon, USB and mdev host devices (devices/rng.ts, tpm.ts, watchdog.ts, panic.ts, memballoon.ts, hostdev-*.ts)
  'virtio-rng', 'rng-random', 'rng-egd', 'rng-builtin',
  'tpm-passthrough', 'tpm-emulator', 'tpm-tis', 'tpm-crb',
  'virtio-balloon-pci.deflate-on-oom', 'virtio-balloon.free-page-reporting', 'pvpanic', 'usb-host.hostdevice', 'usb-host.guest-resets-all', 'vfio-ccw', 'vfio-ap', 'vfio-pci.display',
  // <iommu>, <memory> devices, <vsock>, <shmem> (devices/iommu.ts, memory-device*.ts, vsock.ts, shmem.ts)
  'intel-iommu', 'intel-iommu.intremap', 'intel-iommu.caching-mode', 'intel-iommu.eim', 'intel-iommu.device-iotlb', 'intel-iommu.aw-bits',
  'virtio-iommu-pci', 'virtio-iommu.boot-bypass',
  'pc-dimm', 'nvdimm', 'nvdimm.unarmed', 'virtio-pmem-pci', 'virtio-mem-pci', 'virtio-mem-pci.prealloc', 'memory-backend-file.reserve', 'memory-backend-file.pmem',
  'vhost-vsock', 'ivshmem-plain', 'ivshmem-doorbell', 'sgx-epc',
  // sound cards, audio backends, inputs (devices/sound.ts, devices/audio.ts, devices/input.ts)
  'usb-audio', 'ich9-intel-hda', 'hda-duplex', 'hda-micro', 'hda-output', 'display-dbus', 'i8042', 'input-linux',
  'virtio-mouse', 'virtio-tablet', 'virtio-keyboard', 'virtio-input-host', 'virtio-mouse-ccw', 'virtio-tablet-ccw', 'virtio-keyboard-ccw',
  // graphics and video (devices/graphics*.ts, devices/video.ts)
  'sdl', 'vnc', 'spice', 'egl-headless', 'display-dbus', 'spice-gl', 'spice-rendernode', 'egl-headless.rendernode', 'vnc-power-control',
  'VGA', 'cirrus-vga', 'vmware-svga', 'qxl', 'virtio-gpu', 'bochs-display', 'ramfb', 'virtio-vga', 'virtio-vga-gl', 'virtio-gpu-gl-pci',
  'qxl.vram64_size_mb', 'qxl.vgamem_mb', 'VGA.vgamem_mb', 'vmware-svga.vgamem_mb', 'vhost-user-gpu', 'vhost-user-vga',
] as const;
export type CapsFlag = (typeof CAPS_FLAGS)[number];

export const hasFlag = (caps: QemuCaps, flag: CapsFlag): boolean => caps.flags.has(flag);

export function machinesFor(caps: QemuCaps, virtType: CapsVirtType): MachineType[] {
  return caps.machines.filter((m) => m.virtType === virtType);
}

/** Resolve a machine name or alias the way libvirt does when it canonicalizes os/type/@machine. */
export function findMachine(caps: QemuCaps, virtType: CapsVirtType, name: string): MachineType | undefined {
  const list = machinesFor(caps, virtType);
  return list.find((m) => m.alias === name) ?? list.find((m) => m.name === name);
}

/** virQEMUCapsGetPreferredMachine: the default machine, else the first one listed. */
export function defaultMachine(caps: QemuCaps, virtType: CapsVirtType): MachineType | undefined {
  const list = machinesFor(caps, virtType);
  return list.find((m) => m.isDefault) ?? list[0];
}

/** The accelerator whose facts (machines, CPU models) apply to a domain type
 *  (virQEMUCapsGetAccel): KVM's for type='kvm', TCG's otherwise. */
export const accelOf = (virtType: 'qemu' | 'kvm' | 'hvf'): CapsVirtType => (virtType === 'qemu' ? 'tcg' : virtType);

/** Whether the QEMU runs guests with the accelerator (its 'kvm' or 'tcg' flag; a Linux
 *  QEMU never has macOS's hvf). */
export const hasAccel = (caps: QemuCaps, accel: CapsVirtType) => accel !== 'hvf' && hasFlag(caps, accel);
