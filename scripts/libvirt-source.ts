// libvirt 9.0.0's source as Debian 12 ships it (source package libvirt 9.0.0-4+deb12u2,
// Debian's patches applied), unpacked in a cache outside the repository: its test data are
// libvirt's files, never ours to commit. Fetched with apt-get source (a deb-src line for
// bookworm is added when apt has none) and dpkg-source -x, as root; the .dsc is checked
// against a pinned digest, and dpkg-source checks the tarballs against the .dsc.
//
// Where it looks, first match wins: $VIRTGOLD_LIBVIRT_SRC (an unpacked tree), then
// ${XDG_CACHE_HOME:-~/.cache}/virtgold/libvirt-src-9.0.0-4+deb12u2/src (what this fetches),
// then ~/.cache/virtgold-src/src (where earlier sessions on these machines unpacked it).
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEBIAN_VERSION = '9.0.0-4+deb12u2';
const DSC = `libvirt_${DEBIAN_VERSION}.dsc`;
const DSC_SHA256 = '4c6794d4af567cb984d1996a7c9f6b66102f5ccb81faffe2dcef8a95656a16f0';
const DEB_SRC = '/etc/apt/sources.list.d/virtgold-bookworm-src.sources';

const log = (m: string) => process.stderr.write(`libvirt-source: ${m}\n`);

export class FetchError extends Error {}

export const cacheDir = () => join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'virtgold', `libvirt-src-${DEBIAN_VERSION}`);

/** An unpacked tree of exactly this Debian version. */
function isTree(dir: string): boolean {
  try {
    return readFileSync(join(dir, 'debian/changelog'), 'utf8').startsWith(`libvirt (${DEBIAN_VERSION})`) &&
      existsSync(join(dir, 'tests/qemuxml2argvdata'));
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  const r = await execa(cmd, args, { cwd, reject: false, stdin: 'ignore', all: true, env: { DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.exitCode !== 0) {
    const tail = (r.all ?? r.shortMessage ?? '').trim().split('\n').slice(-3).join(' / ');
    throw new FetchError(`${cmd} ${args.join(' ')} failed: ${tail}`);
  }
}

async function hasSourcesIndex(): Promise<boolean> {
  const r = await execa('apt-get', ['indextargets', '--format', '$(CREATED_BY) $(RELEASE)'], { reject: false });
  return /^Sources bookworm$/m.test(r.stdout ?? '');
}

async function download(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) throw new FetchError(`fetching needs root (apt-get source); or unpack ${DSC} yourself and set VIRTGOLD_LIBVIRT_SRC`);
  const which = await execa('sh', ['-c', 'command -v dpkg-source'], { reject: false });
  if (which.exitCode !== 0) {
    log('installing dpkg-dev (dpkg-source)');
    await run('apt-get', ['update', '-qq']);
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'dpkg-dev']);
  }
  if (!(await hasSourcesIndex())) {
    log(`adding a deb-src line for bookworm (${DEB_SRC})`);
    writeFileSync(DEB_SRC, 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n');
    await run('apt-get', ['update', '-qq']);
  }
  log(`downloading the source package libvirt=${DEBIAN_VERSION} into ${dir}`);
  await run('apt-get', ['source', '-qq', '--download-only', `libvirt=${DEBIAN_VERSION}`], dir);
}

/** The unpacked source tree, fetched into the cache when no tree is there yet. */
export async function libvirtSource(): Promise<string> {
  const given = process.env.VIRTGOLD_LIBVIRT_SRC;
  if (given) {
    if (!isTree(given)) throw new FetchError(`VIRTGOLD_LIBVIRT_SRC=${given} is not an unpacked libvirt ${DEBIAN_VERSION} source tree`);
    return given;
  }
  const dir = cacheDir();
  const tree = join(dir, 'src');
  for (const t of [tree, join(homedir(), '.cache/virtgold-src/src')]) if (isTree(t)) return t;

  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, DSC))) await download(dir);
  const digest = createHash('sha256').update(readFileSync(join(dir, DSC))).digest('hex');
  if (digest !== DSC_SHA256) throw new FetchError(`${join(dir, DSC)} has sha256 ${digest}, expected ${DSC_SHA256}; delete it and retry`);
  // Unpacked beside the final place and renamed, so a half-unpacked tree is never taken.
  const tmp = mkdtempSync(join(dir, 'unpack-'));
  try {
    log(`unpacking ${DSC} (Debian's patches applied)`);
    await run('dpkg-source', ['-x', DSC, join(tmp, 'src')], dir);
    if (!isTree(join(tmp, 'src'))) throw new FetchError(`${DSC} did not unpack into a libvirt ${DEBIAN_VERSION} tree`);
    renameSync(join(tmp, 'src'), tree);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return tree;
}
