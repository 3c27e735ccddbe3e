// Turns libvirt's probe cache (/var/cache/libvirt/qemu/capabilities) into the shipped
// snapshots. Host-specific parts are dropped the way libvirt's own test data drops
// them, so two machines capture identical files: file times, the probing libvirt's
// own version, the host kernel, the host CPU (signature, CPUID dump, host model).
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCaps } from '../translator/index.js';
import { writeFileAtomic } from '../harness/goldens.js';

const CACHE = process.env.VIRTGOLD_CAPS_CACHE ?? '/var/cache/libvirt/qemu/capabilities';
const EMULATORS: Record<string, string> = {
  '/usr/bin/qemu-system-x86_64': 'x86_64',
  '/usr/bin/qemu-system-s390x': 's390x',
};

const DROP_LINES = /^\s*<(emulator|qemuctime|qemumoddirmtime|selfctime|selfvers|kernelVersion|hostCPUSignature|microcodeVersion)>.*<\/\1>\s*$/;
const DROP_BLOCKS = /^\s*<(cpudata|hostCPU)\b/;

export function normalizeProbe(text: string): string {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (DROP_LINES.test(line)) continue;
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

function main(): void {
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

main();
