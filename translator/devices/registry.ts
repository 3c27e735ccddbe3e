// Every device kind the translator implements. The mapped type below makes the compiler
// refuse a kind whose module declared its list in the model but is not registered here.
// The stages iterate these kinds in libvirt's orders (stages/order.ts).
import { audio } from './audio.js';
import { channel, console, parallel, serial } from './chardev.js';
import { redirdev, redirfilter } from './redirdev.js';
import { smartcard } from './smartcard.js';
import { controller } from './controller.js';
import { disk } from './disk.js';
import { filesystem } from './filesystem.js';
import { graphics } from './graphics.js';
import { hostdev } from './hostdev.js';
import { hub } from './hub.js';
import { input } from './input.js';
import { iommu } from './iommu.js';
import { tick } from '../deadline.js';
import type { DeviceKind } from './kind.js';
import type { DeviceInfo, Devices } from '../model.js';
import { memballoon } from './memballoon.js';
import { memory } from './memory-device.js';
import { net } from './net.js';
import { panic } from './panic.js';
import { rng } from './rng.js';
import { tpm } from './tpm.js';
import { watchdog } from './watchdog.js';
import { shmem } from './shmem.js';
import { vsock } from './vsock.js';
import { sound } from './sound.js';
import { video } from './video.js';

/** A kind, by the key its module gave its list in the model's `Devices`. */
export type Kind = keyof Devices;
export type DeviceOf<K extends Kind> = Devices[K][number];

export const KINDS: { [K in Kind]: DeviceKind<DeviceOf<K>> } = {
  disk,
  controller,
  filesystem,
  interface: net,
  input,
  sound,
  audio,
  hostdev,
  memballoon,
  hub,
  panic,
  serial,
  parallel,
  console,
  channel,
  redirdev,
  redirfilter,
  smartcard,
  rng,
  tpm,
  watchdog,
  shmem,
  memory,
  iommu,
  vsock,
  graphics,
  video,
};

export const emptyDevices = (): Devices => ({ disk: [], controller: [], filesystem: [], interface: [], input: [], audio: [], hostdev: [], memballoon: [], hub: [], panic: [], serial: [], parallel: [], console: [], channel: [], redirdev: [], redirfilter: [], smartcard: [], rng: [], tpm: [], watchdog: [], shmem: [], memory: [], iommu: [], vsock: [], sound: [], graphics: [], video: [] });

/** Every device's info, visited as libvirt's device iterator does (in `order`, once each). */
export function eachInfo(devices: Devices, order: readonly Kind[], fn: (info: DeviceInfo, kind: Kind) => void): void {
  for (const kind of order) {
    eachDevice(devices, kind, (k, dev) => {
      const info = k.visitedElsewhere?.(dev) ? undefined : k.info?.(dev);
      if (info) fn(info, kind);
    });
  }
}

/** Call `fn` with each device of `kind`, typed (a helper for the stage drivers). */
export function eachDevice<K extends Kind>(devices: Devices, kind: K, fn: (kindDef: DeviceKind<DeviceOf<K>>, dev: DeviceOf<K>, index: number) => void): void {
  const list = devices[kind] as DeviceOf<K>[];
  list.forEach((dev, i) => {
    tick();
    fn(KINDS[kind], dev, i);
  });
}
