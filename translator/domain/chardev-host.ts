// What libvirt's character devices take from the host and from qemu.conf on the way to
// a command line. A snapshot carries them in host/<snapshot>.json under "chardev":
//   {"channelTargetDir": "/var/lib/libvirt/qemu/channel/target", "sourceFds": "none"}
// channelTargetDir: where libvirt puts the sockets of virtio channels that name no path
// (qemu.conf's channel_target_dir; its test harness uses /tmp/channel). sourceFds:
// "none" when libvirt hands QEMU the paths themselves (domxml-to-native), or
// "libvirt-test-mock" for its test harness, which passes a listening UNIX socket as
// fd 1729 and a file (or log file) as an fd set of fd 1750 (1751). tlsX509CertDir and
// tlsX509Verify: qemu.conf's chardev_tls_x509_cert_dir and chardev_tls_x509_verify (a
// TCP chardev with tls='yes'; no chardev_tls_x509_secret_uuid is assumed). Without the
// facts, what needs them is refused.
import { hostSection } from './host-section.js';
export interface ChardevHostFacts {
  channelTargetDir?: string;
  sourceFds?: 'none' | 'libvirt-test-mock';
  tlsX509CertDir?: string;
  tlsX509Verify?: boolean;
}

declare module '../capabilities.js' {
  interface QemuCaps {
    /** host facts for character devices ("chardev" in host/<snapshot>.json) */
    chardevHost?: ChardevHostFacts;
  }
}

/** The "chardev" member of host/<snapshot>.json; undefined when absent. */
export function parseChardevHost(raw: Record<string, unknown>, fail: (message: string) => Error): ChardevHostFacts | undefined {
  const section = hostSection(raw, 'chardev', fail);
  if (!section) return undefined;
  const { o, bad } = section;
  const out: ChardevHostFacts = {};
  if (o.channelTargetDir !== undefined) {
    if (typeof o.channelTargetDir !== 'string' || !o.channelTargetDir.startsWith('/')) throw bad('"channelTargetDir"');
    out.channelTargetDir = o.channelTargetDir;
  }
  if (o.sourceFds !== undefined) {
    if (o.sourceFds !== 'none' && o.sourceFds !== 'libvirt-test-mock') throw bad('"sourceFds"');
    out.sourceFds = o.sourceFds;
  }
  if (o.tlsX509CertDir !== undefined) {
    if (typeof o.tlsX509CertDir !== 'string' || !o.tlsX509CertDir.startsWith('/')) throw bad('"tlsX509CertDir"');
    out.tlsX509CertDir = o.tlsX509CertDir;
  }
  if (o.tlsX509Verify !== undefined) {
    if (typeof o.tlsX509Verify !== 'boolean') throw bad('"tlsX509Verify"');
    out.tlsX509Verify = o.tlsX509Verify;
  }
  return out;
}
