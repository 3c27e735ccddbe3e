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

/** qemuInterfaceEthernetConnect runs the rebuilt interface's script on the host when
 *  domxml-to-native sets up its tap: one the host facts do not say runs is refused
 *  (libvirt's failure names the host's PATH and tap device). */
export function checkHostScript(caps: QemuCaps, path: string): void {
  const known = caps.hostNetScripts;
  if (known === 'libvirt-test-mock') return;
  if (!known) throw notImplemented(`<script path='${path}'> on a command line with a snapshot that carries no "netScripts" (host/<snapshot>.json)`);
  if (!known.includes(path)) throw notImplemented(`<script path='${path}'> on a command line (domxml-to-native runs it on the host; host/<snapshot>.json "netScripts" does not list it)`);
}
