// <shmem> (libvirt's virDomainShmemDef): ivshmem-plain (a memory-backend-file under
// /dev/shm) and ivshmem-doorbell (a unix socket chardev to the ivshmem server, whose
// -chardev is written here: it is a plain client socket). The legacy 'ivshmem' model
// is refused as libvirt refuses it with every snapshot's QEMU (it went in QEMU 4.0).
import { hasFlag } from '../capabilities.js';
import { escapeComma } from '../argv.js';
import { unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, TriState } from '../model.js';
import { propEnum, propOnOff, propUInt } from '../xml/props.js';
import { child, escapeXml, textOf, type XElement } from '../xml/tree.js';
import { sanitizePath } from '../domain/os.js';
import { scaledBytes } from '../domain/units.js';
import { addressProps, formatInfo, parseDeviceInfo, zpciDevice } from './info.js';
import type { DeviceKind } from './kind.js';
import { pciFlags } from '../pci/connect.js';

export interface ShmemDef {
  name: string;
  model: 'ivshmem' | 'ivshmem-plain' | 'ivshmem-doorbell';
  role?: 'master' | 'peer';
  /** bytes; 0: none */
  size: bigint;
  /** <server>, with its socket path when given (else libvirt's default when it starts) */
  server?: { path?: string };
  msi?: { vectors: number; ioeventfd?: TriState };
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    shmem: ShmemDef[];
  }
}

const MODELS = ['ivshmem', 'ivshmem-plain', 'ivshmem-doorbell'] as const;
const ROLES = ['default', 'master', 'peer'] as const;

/** virDomainShmemDefParseXML */
function parse(e: XElement): ShmemDef {
  const modelEl = child(e, 'model');
  const model = (modelEl && propEnum(modelEl, 'type', MODELS)) || 'ivshmem';
  const name = e.attrs.name;
  if (name === undefined) throw xmlError("shmem element must contain 'name' attribute");
  const d: ShmemDef = { name, model, size: 0n, info: {} };
  if (model !== 'ivshmem') {
    const role = propEnum(e, 'role', ROLES, { nonZero: true });
    if (role && role !== 'default') d.role = role;
  }
  const sizeEl = child(e, 'size');
  if (sizeEl && textOf(sizeEl) !== '') d.size = scaledBytes(textOf(sizeEl), './size[1]', sizeEl.attrs.unit, 1);
  const server = child(e, 'server');
  if (server) d.server = server.attrs.path !== undefined ? { path: sanitizePath(server.attrs.path) } : {};
  const msi = child(e, 'msi');
  if (msi) {
    d.msi = { vectors: propUInt(msi, 'vectors', { base0: true }) ?? 0 };
    const io = propOnOff(msi, 'ioeventfd');
    if (io) d.msi.ioeventfd = io;
  }
  if (d.msi && !d.server) throw xmlError('msi option is only supported with a server');
  d.info = parseDeviceInfo(e, '<shmem>', false);
  return d;
}

export const shmem: DeviceKind<ShmemDef> = {
  element: 'shmem',
  parse,
  info: (d) => d.info,
  // qemuDomainShmemDefPostParse
  postParse(d) {
    if (d.model !== 'ivshmem-doorbell' && !d.size) d.size = 4n << 20n;
    if (d.model === 'ivshmem') return;
    if (!d.server) {
      if (d.model === 'ivshmem-doorbell') throw unsupportedConfig(`shmem model '${d.model}' is supported only with server option enabled`);
    } else {
      if (d.model === 'ivshmem-plain') throw unsupportedConfig(`shmem model '${d.model}' is supported only with server option disabled`);
      if (d.size) throw unsupportedConfig(`shmem model '${d.model}' does not support size setting`);
      d.msi ??= { vectors: 0 };
      d.msi.ioeventfd ??= 'on';
    }
  },
  pci: (d) => ({ info: d.info, connect: pciFlags, function: -1 }),
  // virDomainShmemDefValidate
  validateConf(d) {
    if (d.name.includes('/')) throw unsupportedConfig("shmem name cannot include '/' character");
    if (d.name === '.') throw unsupportedConfig("shmem name cannot be equal to '.'");
    if (d.name === '..') throw unsupportedConfig("shmem name cannot be equal to '..'");
  },
  // qemuValidateDomainDeviceDefShmem
  validate(d, { caps }) {
    // (no snapshot's QEMU has the legacy device)
    if (d.model === 'ivshmem') throw unsupportedConfig('ivshmem device is not supported with this QEMU binary');
    if (!hasFlag(caps, d.model)) throw unsupportedConfig(`shmem model '${d.model}' is not supported by this QEMU binary`);
  },
  alias: (_d, i) => `shmem${i}`,
  // virDomainShmemDefFormat
  format(w, d) {
    w.open(`<shmem name='${escapeXml(d.name)}'${d.role ? ` role='${d.role}'` : ''}>`);
    w.line(`<model type='${d.model}'/>`);
    if (d.size) w.line(`<size unit='M'>${d.size >> 20n}</size>`);
    if (d.server) w.line(`<server${d.server.path !== undefined ? ` path='${escapeXml(d.server.path)}'` : ''}/>`);
    if (d.msi) w.line(`<msi${d.msi.vectors ? ` vectors='${d.msi.vectors}'` : ''}${d.msi.ioeventfd ? ` ioeventfd='${d.msi.ioeventfd}'` : ''}/>`);
    formatInfo(w, d.info);
    w.close('</shmem>');
  },
  // qemuBuildShmemCommandLine (after -sandbox)
  command(d, { def }) {
    if (d.size) {
      if (d.size & (d.size - 1n)) throw xmlError('shmem size must be a power of two');
      if (d.size < 1024n * 1024n) throw xmlError('shmem size must be at least 1 MiB (1024 KiB)');
    }
    if (d.info.address?.type !== 'pci') throw unsupportedConfig("only 'pci' addresses are supported for the shared memory device");
    const alias = d.info.alias!;
    const out: string[][] = [];
    const p: Record<string, unknown> = { driver: d.model, id: alias };
    if (d.server) {
      p.chardev = `char${alias}`;
    } else {
      out.push(['-object', `{"qom-type":"memory-backend-file","id":${JSON.stringify(`shmmem-${alias}`)},"mem-path":${JSON.stringify(`/dev/shm/${d.name}`)},"size":${d.size},"share":true}`]);
      p.memdev = `shmmem-${alias}`;
      if (d.role) p.master = d.role === 'master' ? 'on' : 'off';
    }
    if (d.msi?.vectors) p.vectors = d.msi.vectors;
    if (d.msi?.ioeventfd) p.ioeventfd = d.msi.ioeventfd === 'on';
    out.push(...zpciDevice(d.info), ['-device', JSON.stringify({ ...p, ...addressProps(d.info, def) })]);
    // qemuDomainPrepareShmemChardev gives a server without a path libvirt's default
    if (d.server) out.push(['-chardev', `socket,id=char${alias},path=${escapeComma(d.server.path ?? `/var/lib/libvirt/shmem-${d.name}-sock`)}`]);
    return out;
  },
};
