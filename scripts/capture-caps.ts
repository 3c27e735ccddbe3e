// Turns libvirt's probe cache (/var/cache/libvirt/qemu/capabilities) into the shipped
// snapshots. Host-specific parts are neutralized the way libvirt's own test data
// (tests/qemucapabilitiesdata) does it: the header libvirt's loader requires stays, with
// neutral values (file times and the probing libvirt's version 0, microcode version 0;
// the emulator path is Debian's), and what it does not require goes: the QEMU module
// directory's time, the host kernel, the host CPU's signature and CPUID dump (libvirt
// only compares them to tell a stale cache). QEMU's expansion of the host CPU
// (<hostCPU>, one per accelerator) stays, as in libvirt's own test data: libvirt derives
// host-model from it (virQEMUCapsInitHostCPUModel), and it is what QEMU answered, not
// the machine's CPUID. The snapshots then load in libvirt's own loader unchanged.
// Beside each snapshot it writes the host's firmware descriptors, as libvirt merges them
// (firmware/<snapshot>/: /etc/qemu/firmware overrides /usr/share/qemu/firmware by file
// name, an empty file hides one), since libvirt's firmware choice reads them.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCaps, loadFirmwareDescriptors } from '../translator/index.js';
import { writeFileAtomic } from '../harness/goldens.js';

const CACHE = process.env.VIRTGOLD_CAPS_CACHE ?? '/var/cache/libvirt/qemu/capabilities';
const EMULATORS: Record<string, string> = {
  '/usr/bin/qemu-system-x86_64': 'x86_64',
  '/usr/bin/qemu-system-s390x': 's390x',
};

const NEUTRAL = /^(\s*)<(qemuctime|selfctime|selfvers|microcodeVersion)>.*<\/\2>\s*$/;
const DROP_LINES = /^\s*<(qemumoddirmtime|kernelVersion|hostCPUSignature)>.*<\/\1>\s*$/;
const DROP_BLOCKS = /^\s*<(cpudata)\b/;

export function normalizeProbe(text: string): string {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (DROP_LINES.test(line)) continue;
    const neutral = NEUTRAL.exec(line);
    if (neutral) {
      out.push(`${neutral[1]}<${neutral[2]}>0</${neutral[2]}>`);
      continue;
    }
    const block = DROP_BLOCKS.exec(line);
    if (block) {
      if (line.trimEnd().endsWith('/>')) continue;
      const close = `</${block[1]}>`;
      while (i < lines.length && !lines[i]!.includes(close)) i++;
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}

const FIRMWARE_DIRS = (process.env.VIRTGOLD_FIRMWARE_DIRS ?? '/usr/share/qemu/firmware:/etc/qemu/firmware').split(':');

/** The host's descriptors, later directories overriding earlier ones by file name. */
function hostFirmware(): Map<string, string> {
  const files = new Map<string, string>();
  for (const dir of FIRMWARE_DIRS) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const text = readFileSync(join(dir, name), 'utf8');
      if (text === '') files.delete(name);
      else files.set(name, text);
    }
  }
  return files;
}

function writeFirmware(snapshot: string, files: Map<string, string>): void {
  const dir = join(dirname(snapshot), '..', 'firmware', basename(snapshot, '.xml'));
  // refuse to write what the harness could not read back
  loadFirmwareDescriptors([...files].map(([name, text]) => ({ name, text })));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeFileAtomic(join(dir, name), text);
  console.log(`wrote ${dir} (${files.size} firmware descriptors)`);
}

function main(): void {
  const firmware = hostFirmware();
  const outDir = resolve(process.argv[2] ?? 'capabilities');
  const found = new Set<string>();
  for (const file of readdirSync(CACHE).filter((f) => f.endsWith('.xml')).sort()) {
    const text = readFileSync(join(CACHE, file), 'utf8');
    const emulator = /<emulator>([^<]*)<\/emulator>/.exec(text)?.[1];
    const arch = emulator ? EMULATORS[emulator] : undefined;
    if (!arch) continue;
    const normalized = normalizeProbe(text);
    const caps = loadCaps(normalized, file); // refuse to write something we cannot read back
    if (caps.arch !== arch) throw new Error(`${file}: arch ${caps.arch}, expected ${arch}`);
    const v = caps.version;
    const name = `caps_${v.major}.${v.minor}.0_${arch}.xml`;
    writeFileAtomic(join(outDir, name), normalized);
    writeFirmware(join(outDir, name), firmware);
    found.add(arch);
    console.log(`wrote ${join(outDir, name)} (QEMU ${v.major}.${v.minor}.${v.micro}, ${caps.flags.size} flags, ${caps.machines.length} machines)`);
  }
  for (const arch of Object.values(EMULATORS)) {
    if (!found.has(arch)) {
      console.error(`capture-caps: libvirt has not probed the ${arch} emulator (nothing in ${CACHE})`);
      process.exitCode = 1;
    }
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) main();
