// Every device kind the translator implements, by the element that declares it. The
// stages iterate these kinds in libvirt's orders (stages/order.ts); adding a kind means
// its module, a line here, and its place in each order table.
import { audio, type AudioDef } from './audio.js';
import { controller, type ControllerDef } from './controller.js';
import { hostdev, type HostdevDef } from './hostdev.js';
import { input, type InputDef } from './input.js';
import type { DeviceKind } from './kind.js';
import type { DeviceInfo } from '../model.js';
import { memballoon, type MemballoonDef } from './memballoon.js';
import { net, type NetDef } from './net.js';
import { panic, type PanicDef } from './panic.js';

/** The domain's devices: one list per kind, in the order libvirt keeps them. */
export interface Devices {
  controller: ControllerDef[];
  interface: NetDef[];
  input: InputDef[];
  audio: AudioDef[];
  hostdev: HostdevDef[];
  memballoon: MemballoonDef[];
  panic: PanicDef[];
}

export type Kind = keyof Devices;
export type DeviceOf<K extends Kind> = Devices[K][number];

export const KINDS: { [K in Kind]: DeviceKind<DeviceOf<K>> } = {
  controller,
  interface: net,
  input,
  audio,
  hostdev,
  memballoon,
  panic,
};

export const emptyDevices = (): Devices => ({ controller: [], interface: [], input: [], audio: [], hostdev: [], memballoon: [], panic: [] });

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
  list.forEach((dev, i) => fn(KINDS[kind], dev, i));
}
