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
// name, an empty file hides one), since libvirt's firmware choice reads them, and the
// host's hugetlbfs mounts (host/<snapshot>.json), where libvirt puts huge-page memory.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCaps, loadFirmwareDescriptors, loadHostFacts, type HugeTLBFS } from '../translator/index.js';
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

/** The host's hugetlbfs mounts as libvirt finds them (virFileFindHugeTLBFS, when
 *  qemu.conf names none): each mount's pagesize= option, else the default huge page
 *  size of /proc/meminfo, which also marks the default mount. */
function hostHugetlbfs(): HugeTLBFS[] {
  const meminfo = existsSync('/proc/meminfo') ? readFileSync('/proc/meminfo', 'utf8') : '';
  const dflt = Number(/^Hugepagesize:\s*(\d+) kB/m.exec(meminfo)?.[1] ?? 0);
  const scale: Record<string, number> = { K: 1, M: 1024, G: 1024 * 1024 };
  const out: HugeTLBFS[] = [];
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, path, type, opts] = line.split(' ');
    if (type !== 'hugetlbfs' || !path) continue;
    const m = /(?:^|,)pagesize=(\d+)([KMG])/.exec(opts ?? '');
    const sizeKiB = m ? Number(m[1]) * scale[m[2]!]! : dflt;
    if (sizeKiB > 0) out.push({ path: path.replace(/\\040/g, ' '), sizeKiB, default: sizeKiB === dflt });
  }
  return out;
}

/** The host's online NUMA nodes (virNumaNodeIsAvailable reads the same file). */
function hostNumaNodes(): number[] {
  const file = '/sys/devices/system/node/online';
  const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '0';
  return text.split(',').flatMap((r) => {
    const [a, b] = r.split('-').map(Number);
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
  });
}

function writeHostFacts(snapshot: string, hugetlbfs: HugeTLBFS[]): void {
  const file = join(dirname(snapshot), '..', 'host', `${basename(snapshot, '.xml')}.json`);
  const text = `${JSON.stringify({ hugetlbfs, numaNodes: hostNumaNodes() }, null, 2)}\n`;
  loadHostFacts(text, file); // refuse to write what the harness could not read back
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, text);
  console.log(`wrote ${file} (${hugetlbfs.length} hugetlbfs mounts)`);
}

function main(): void {
  const firmware = hostFirmware();
  const hugetlbfs = hostHugetlbfs();
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
    writeHostFacts(join(outDir, name), hugetlbfs);
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
