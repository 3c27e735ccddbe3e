// What libvirt asks its host about for SCSI host devices on the way to a command line:
// the sg node behind a host SCSI address (sysfs /sys/bus/scsi/devices/A:B:T:U/
// scsi_generic), and /dev/vhost-scsi, which it opens and passes to QEMU as a file
// descriptor. A snapshot carries them in host/<snapshot>.json under "scsi":
//   {"sgDevices": [{"address": "0:0:0:0", "sg": "sg0"}], "vhostScsiFd": null}
// or "sgDevices": "libvirt-test-mock" (libvirt's test harness: every address is sg0) and
// "vhostScsiFd": 3 (the descriptor the harness's mock hands out; null: no
// /dev/vhost-scsi on the host). Without the facts, what needs them is refused.
import { hostSection } from './host-section.js';
export interface ScsiHostFacts {
  sgDevices?: { address: string; sg: string }[] | 'libvirt-test-mock';
  /** the descriptor number /dev/vhost-scsi gets; null: the host has none */
  vhostScsiFd?: number | null;
}

declare module '../capabilities.js' {
  interface QemuCaps {
    /** host facts for SCSI host devices ("scsi" in host/<snapshot>.json) */
    scsiHost?: ScsiHostFacts;
  }
}

/** The "scsi" member of host/<snapshot>.json; undefined when absent. */
export function parseScsiHost(raw: Record<string, unknown>, fail: (message: string) => Error): ScsiHostFacts | undefined {
  const section = hostSection(raw, 'scsi', fail);
  if (!section) return undefined;
  const { o, bad } = section;
  const out: ScsiHostFacts = {};
  if (o.sgDevices === 'libvirt-test-mock') out.sgDevices = o.sgDevices;
  else if (o.sgDevices !== undefined) {
    if (!Array.isArray(o.sgDevices)) throw bad('"sgDevices"');
    out.sgDevices = o.sgDevices.map((e, i) => {
      const x = e as Record<string, unknown>;
      if (typeof x !== 'object' || x === null || typeof x.address !== 'string' || !/^\d+:\d+:\d+:\d+$/.test(x.address) || typeof x.sg !== 'string' || !/^[^/]+$/.test(x.sg)) {
        throw bad(`sgDevices[${i}]`);
      }
      return { address: x.address, sg: x.sg };
    });
  }
  if (o.vhostScsiFd !== undefined) {
    if (o.vhostScsiFd !== null && (!Number.isSafeInteger(o.vhostScsiFd) || (o.vhostScsiFd as number) < 0)) throw bad('"vhostScsiFd"');
    out.vhostScsiFd = o.vhostScsiFd as number | null;
  }
  return out;
}
