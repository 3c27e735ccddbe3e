// What an interface asks of the host's networks (translator/domain/net-host.ts).
import type { QemuCaps } from '../capabilities.js';
import { notImplemented } from '../errors.js';
import '../domain/net-host.js';

/** The <forward mode> of the host's network `name`; undefined when the host has no such
 *  network (the lookup fails: libvirt goes on as for any other network). */
export function hostNetworkForward(caps: QemuCaps, name: string): string | undefined {
  if (!caps.hostNetworks) throw notImplemented("<interface type='network'> without <model> on a snapshot that carries no host networks (host/<snapshot>.json \"networks\")");
  return caps.hostNetworks.find((n) => n.name === name)?.forward;
}
