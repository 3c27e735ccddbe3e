// What libvirt asks its host about for a <tpm>: whether swtpm is installed and which
// TPM versions its swtpm_setup can create (virTPMHasSwtpm, virTPMSwtpmSetupCapsGet), the
// socket the emulator's chardev names on a command line, and the host TPM devices a
// passthrough backend opens (with their cancel files). host/<snapshot>.json "tpm":
//   {"swtpmVersions": ["1.2", "2.0"] | null, "emulatorSocket": null | "/dev/test",
//    "devices": [] | "libvirt-test-mock"}
// swtpmVersions null: no swtpm on the host. emulatorSocket null: domxml-to-native, which
// never prepares the host, so the chardev has no socket and is a 'null' one; a path: the
// socket libvirt's test harness puts there. devices: the host TPM devices that exist
// (none here: opening one fails), or the harness's mock, where every device opens (as
// descriptor 1730, its cancel file as 1731). Without the facts, what needs them is refused.
import { hostSection } from './host-section.js';
export interface TpmHostFacts {
  swtpmVersions?: ('1.2' | '2.0')[] | null;
  emulatorSocket?: string | null;
  devices?: string[] | 'libvirt-test-mock';
}

declare module '../capabilities.js' {
  interface QemuCaps {
    /** host facts for <tpm> ("tpm" in host/<snapshot>.json) */
    tpmHost?: TpmHostFacts;
  }
}

/** The "tpm" member of host/<snapshot>.json; undefined when absent. */
export function parseTpmHost(raw: Record<string, unknown>, fail: (message: string) => Error): TpmHostFacts | undefined {
  const section = hostSection(raw, 'tpm', fail);
  if (!section) return undefined;
  const { o, bad } = section;
  const out: TpmHostFacts = {};
  if (o.swtpmVersions !== undefined) {
    const v = o.swtpmVersions;
    if (v !== null && (!Array.isArray(v) || !v.every((x) => x === '1.2' || x === '2.0'))) throw bad('"swtpmVersions"');
    out.swtpmVersions = v as TpmHostFacts['swtpmVersions'];
  }
  if (o.emulatorSocket !== undefined) {
    if (o.emulatorSocket !== null && (typeof o.emulatorSocket !== 'string' || !o.emulatorSocket.startsWith('/'))) throw bad('"emulatorSocket"');
    out.emulatorSocket = o.emulatorSocket as string | null;
  }
  if (o.devices !== undefined) {
    if (o.devices !== 'libvirt-test-mock' && (!Array.isArray(o.devices) || !o.devices.every((p) => typeof p === 'string' && p.startsWith('/')))) throw bad('"devices"');
    out.devices = o.devices as TpmHostFacts['devices'];
  }
  return out;
}
