// What differs per machine family: reserved PCI slots, implicit devices, the power
// management device, which buses virtio devices use. One file per family; the domain's
// (canonical) machine name picks it.
import { notImplemented } from '../errors.js';
import type { DomainDef } from '../model.js';
import { i440fx } from './i440fx.js';
import type { Machine } from './machine.js';
import { q35 } from './q35.js';
import { s390Ccw } from './s390-ccw.js';

export type { Machine };

const FAMILIES: Machine[] = [i440fx, q35, s390Ccw];

/** The family a machine name belongs to, if any (libvirt's qemuDomainIsQ35 & co.). */
export const familyOf = (name: string): Machine | undefined => FAMILIES.find((f) => f.matches(name));

/** The family of the domain's machine (canonical name, after post-parse). */
export function machineOf(def: DomainDef): Machine {
  const name = def.os.machine ?? '';
  const m = familyOf(name);
  if (!m) throw notImplemented(`machine type '${name}'`);
  return m;
}
