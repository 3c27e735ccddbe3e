// The virtual networks of the host a snapshot stands for ("networks" in
// host/<snapshot>.json): libvirt looks an <interface type='network'> without <model> up
// in its network driver when it fills in the default model (virDomainNetResolveActualType:
// a network whose <forward mode='hostdev'> is a pool of host devices gets none). Each
// entry is {"name": "default", "forward": "nat"}; [] is a host without networks (or, as
// on Debian's libvirt-daemon without its network driver and in libvirt's test harness,
// one where the lookup fails, which libvirt treats alike).
import { hostList, hostPaths } from './host-section.js';

export interface HostNetwork {
  name: string;
  /** <forward mode>; 'none' when the network has no <forward> */
  forward: string;
}

declare module '../capabilities.js' {
  interface QemuCaps {
    /** the host's virtual networks; undefined when the snapshot carries none */
    hostNetworks?: HostNetwork[];
    /** the interface scripts (<script path>) that run successfully on the host
     *  ("netScripts"); 'libvirt-test-mock': all of them (the harness's mock) */
    hostNetScripts?: string[] | 'libvirt-test-mock';
  }
}

/** The "netScripts" member of host/<snapshot>.json: the <script path>s that domxml-to-native
 *  can run on the host (it runs an interface's script when it sets up its tap). */
export function parseNetScripts(raw: Record<string, unknown>, fail: (message: string) => Error): string[] | 'libvirt-test-mock' | undefined {
  return raw.netScripts === 'libvirt-test-mock' ? 'libvirt-test-mock' : hostPaths(raw, 'netScripts', fail);
}

const FORWARD_MODES = ['none', 'nat', 'route', 'open', 'bridge', 'private', 'vepa', 'passthrough', 'hostdev'];

/** The "networks" member of host/<snapshot>.json; undefined when absent. */
export function parseNetHost(raw: Record<string, unknown>, fail: (message: string) => Error): HostNetwork[] | undefined {
  return hostList(raw, 'networks', fail, (o, bad) => {
    if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || !o.name || typeof o.forward !== 'string' || !FORWARD_MODES.includes(o.forward)) {
      throw bad('"name" or "forward"');
    }
    return { name: o.name, forward: o.forward };
  });
}
