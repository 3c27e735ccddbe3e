// What libvirt's <vsock> takes from its host when it starts a domain: the vhost-vsock
// file descriptor it opens, and the guest CID it acquires for <cid auto='yes'/>. A
// snapshot carries them in host/<snapshot>.json under "vsock":
//   {"autoCid": null, "vhostfd": -1} `virsh domxml-to-native` (it prepares no host: the
//                                   CID stays as the XML has it, 0 when none, and no
//                                   descriptor is opened)
//   {"autoCid": 42, "vhostfd": 6789} libvirt's test harness (its fixed values)
// Without them a <vsock> on a command line is refused rather than guessed.
export interface VsockHostFacts {
  /** the CID an auto one gets; null: it keeps the XML's */
  autoCid: number | null;
  vhostfd: number;
}

declare module '../capabilities.js' {
  interface QemuCaps {
    /** "vsock" in host/<snapshot>.json */
    vsockHost?: VsockHostFacts;
  }
}

/** The "vsock" member of host/<snapshot>.json; undefined when absent. */
export function parseVsockHost(raw: Record<string, unknown>, fail: (message: string) => Error): VsockHostFacts | undefined {
  const v = raw.vsock;
  if (v === undefined) return undefined;
  const o = v as Record<string, unknown>;
  const int = (k: string, min: number) => typeof o[k] === 'number' && Number.isSafeInteger(o[k]) && (o[k] as number) >= min && (o[k] as number) <= 4294967295;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !(o.autoCid === null || int('autoCid', 0)) || !int('vhostfd', -1)) throw fail('"vsock" is not {"autoCid": N or null, "vhostfd": N}');
  return { autoCid: o.autoCid as number | null, vhostfd: o.vhostfd as number };
}
