// The errors of real libvirt that depend on the host it runs on, not on the domain XML and
// the QEMU snapshot a translator is given: a translator cannot be expected to raise them,
// so `compare` skips such an entry with the reason instead of counting it against the
// translator. Built from what libvirt 9.0.0 says on its own test domains
// (tests/qemuxml2argvdata, x86_64 and s390x) on Debian 12; each pattern names the host
// resource it is about. Anything else is taken as a verdict on the input: that includes
// what libvirt reads from the QEMU probe file (no KVM, no SEV, no SGX, a TPM backend QEMU
// lacks), since the translator under test gets that same file as its snapshot.

interface HostError {
  /** what on the host it depends on */
  what: string;
  pattern: RegExp;
}

/** What virsh says when the daemon died under it (or was never there). */
export const DAEMON_GONE = /End of file while reading data|Disconnected from qemu|Cannot recv data|Cannot write data|failed to connect to the hypervisor|Failed to connect socket/;

export const HOST_ERRORS: HostError[] = [
  // The daemon and what is defined in it: not from the corpus, from driving libvirtd.
  { what: 'libvirtd crashed or went away', pattern: DAEMON_GONE },
  { what: 'a domain defined on this host', pattern: /already defined on this host|is already defined with uuid|already exists with uuid/ },
  // Files, devices and helpers that are not here.
  { what: 'a file that is not on this host', pattern: /No such file or directory|cannot execute binary/ },
  { what: 'a host device that is not here', pattern: /vhost-scsi device file .* cannot be found/ },
  { what: 'firmware descriptors installed on the host', pattern: /Unable to find any firmware to satisfy/ },
  { what: 'a vhost-user-gpu backend installed on the host', pattern: /Unable to find a satisfying vhost-user-gpu/ },
  { what: 'swtpm on the host', pattern: /TPM version '.*' is not supported/ },
  // Objects the host's libvirt keeps.
  { what: 'a secret stored on the host', pattern: /^Secret not found/ },
  { what: 'a storage pool of the host', pattern: /^Storage pool not found/ },
  // What the host has and how it is set up.
  { what: 'hugepages on the host', pattern: /hugetlbfs filesystem is not mounted/ },
  { what: "the host's NUMA nodes", pattern: /NUMA node \d+ is unavailable/ },
  { what: 'numad on the host', pattern: /Advice from numad is needed/ },
  { what: "the host's CPU", pattern: /the CPU is incompatible with host CPU|not supported by the host CPU/ },
  { what: "the host's qemu.conf", pattern: /disabled in qemu\.conf/ },
  // Resources only a running domain has: domxml-to-native has none.
  { what: 'file descriptors passed to a running domain', pattern: /file descriptor group '.*' was not associated with the domain/ },
];

/** Why this libvirt error depends on the host, or undefined when it is about the input. */
export function hostReason(errorText: string): string | undefined {
  const line = errorText.trim();
  const hit = HOST_ERRORS.find((h) => h.pattern.test(line));
  return hit && `${hit.what}: ${line}`;
}
