// The command line of an <interface>, as `virsh domxml-to-native` prints it
// (qemuConnectDomainXMLToNative): it replaces every interface by a fresh
// <interface type='ethernet'> that keeps only the model, MAC address, boot order and
// script of the original, lets qemuProcessPrepareDomain give it an address again, and
// builds that. So each NIC is a tap (-netdev; the descriptor is one libvirt opens on the
// host, written here as "-1") and a -device with the model, MAC and boot order: driver
// settings, MTU, ROM, teaming and the like do not reach the command line.
import { hasFlag } from '../capabilities.js';
import { notImplemented, unsupportedConfig } from '../errors.js';
import type { DeviceInfo } from '../model.js';
import { addressProps, zpciDevice } from './info.js';
import type { StageContext } from './kind.js';
import { isVirtioModel, type NetDef } from './net-def.js';

/** What domxml-to-native keeps of an interface: its info is new but for the boot order. */
export function freshNetInfo(n: NetDef): void {
  const info: DeviceInfo = {};
  if (n.info.bootIndex !== undefined) info.bootIndex = n.info.bootIndex;
  n.info = info;
}

/** qemuBuildVirtioDevGetConfig for virtio-net */
function virtioDriver(n: NetDef, { caps }: StageContext): string {
  const ccw = n.info.address?.type === 'ccw';
  let name = `virtio-net-${ccw ? 'ccw' : 'pci'}`;
  if (n.model === 'virtio') return name;
  if (ccw) throw notImplemented(`<model type='${n.model}'> on a CCW address`);
  if (n.model === 'virtio-transitional') {
    if (hasFlag(caps, 'virtio-pci-non-transitional')) name += '-transitional';
  } else {
    if (!hasFlag(caps, 'virtio-pci-non-transitional')) throw unsupportedConfig('virtio non-transitional model not supported for this qemu');
    name += '-non-transitional';
  }
  return name;
}

/** qemuBuildInterfaceCommandLine of the stand-in ethernet interface */
export function netCommand(n: NetDef, bootIndex: number | undefined, ctx: StageContext): string[][] {
  if (n.hostdev) return []; // built with the hostdevs
  const alias = n.info.alias!;
  const dev: Record<string, unknown> = { driver: isVirtioModel(n) ? virtioDriver(n, ctx) : n.model };
  dev.netdev = `host${alias}`;
  dev.id = alias;
  dev.mac = n.mac;
  // (the fresh interface's <boot order> is not its effective boot index: only
  // <os><boot dev='network'/> makes a NIC bootable here)
  if (bootIndex) dev.bootindex = bootIndex;
  Object.assign(dev, addressProps(n.info, ctx.def));
  return [
    ['-netdev', JSON.stringify({ type: 'tap', fd: '-1', id: `host${alias}` })],
    ...zpciDevice(n.info),
    ['-device', JSON.stringify(dev)],
  ];
}
