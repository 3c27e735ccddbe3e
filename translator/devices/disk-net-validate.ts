// The checks libvirt makes on network, NVMe and vhost-user disk sources, at define time
// (domain_validate.c, qemuDomainValidateStorageSource, qemuValidateDomainDeviceDefDisk)
// and on the way to a command line (qemuProcessStartValidateDisks), each called by
// disk-validate.ts / disk.ts where libvirt makes it.
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { unsupportedConfig, xmlError } from '../errors.js';
import type { DiskDef } from './disk-def.js';
import { chainOf, type StorageSource } from './disk-source.js';
import type { StageContext } from './kind.js';
import type { DomainDef } from '../model.js';
import { validateDeviceSecLabels } from './disk-seclabel.js';
import { requireSharedMemory } from './filesystem.js';

/** virSecretUsageType */
const SECRET_USAGES = ['none', 'volume', 'ceph', 'iscsi', 'tls', 'vtpm'];
const AUTH_PROTOCOLS = ['iscsi', 'http', 'https', 'ftp', 'ftps', 'ssh', 'rbd'];

/** virDomainDiskDefValidateSourceChainOne, its first part: the <auth> of a network image */
export function validateSourceAuthConf(n: StorageSource): void {
  if (n.type !== 'network' || !n.auth || !n.net) return;
  const protocol = n.net.protocol;
  if (!AUTH_PROTOCOLS.includes(protocol)) throw unsupportedConfig(`authentication is not supported for protocol '${protocol}'`);
  const usage = n.auth.secretType;
  if (usage === undefined || !SECRET_USAGES.includes(usage)) throw unsupportedConfig(`unknown secret type '${usage ?? '<null>'}'`);
  if ((protocol === 'iscsi' && usage !== 'iscsi') || (protocol === 'rbd' && usage !== 'ceph')) throw unsupportedConfig(`invalid secret type '${usage}'`);
}

/** virDomainDiskDefValidate: an NVMe namespace, virDomainDiskVhostUserValidate, then
 *  the security label overrides of the chain */
export function validateRemoteDiskConf(d: DiskDef, def: DomainDef): void {
  if (d.src.nvme && d.src.nvme.namespace === 0n) throw unsupportedConfig("NVMe namespace can't be zero");
  if (d.src.type === 'vhostuser') validateVhostUser(d);
  for (const n of chainOf(d.src)) validateDeviceSecLabels(n.seclabels, def.misc.seclabels);
}

/** virDomainDiskVhostUserValidate */
function validateVhostUser(d: DiskDef): void {
  const no = (what: string) => unsupportedConfig(`${what} is not supported with vhostuser disk`);
  if (d.bus !== 'virtio') throw unsupportedConfig('vhostuser disk supports only virtio bus');
  if (d.snapshot !== 'no') throw unsupportedConfig('only snapshot=no is supported with vhostuser disk');
  if (d.cache) throw no('cache');
  if (d.errorPolicy || d.rerrorPolicy) throw no('error_policy');
  if (d.io) throw no('io');
  if (d.ioeventfd) throw no('ioeventfd');
  if (d.copyOnRead) throw no('copy_on_read');
  if (d.discard) throw no('discard');
  if (d.iothread) throw no('iothread');
  if (d.detectZeroes) throw no('detect_zeroes');
  if (d.src.backing !== undefined) throw no('backingStore');
  if (d.src.readonly) throw no('readonly');
  if (d.src.shared) throw no('shareable');
  for (const k of ['serial', 'wwn', 'vendor', 'product'] as const) if (d[k] !== undefined) throw no(k);
  if (d.src.auth) throw no('auth');
  const g = d.geometry;
  if (g && (g.cyls || g.heads || g.secs || g.trans)) throw no('geometry');
  if (d.blockio?.logical || d.blockio?.physical) throw no('blockio');
}

/** virDomainDiskDefValidateStartupPolicy, its first part: local sources and volumes only */
export function validateStartupPolicyType(d: DiskDef): void {
  const t = d.src.type;
  if (d.startupPolicy && t !== 'file' && t !== 'block' && t !== 'volume') {
    throw xmlError(`disk startupPolicy '${d.startupPolicy}' is not allowed for disk of '${t}' type`);
  }
}

/** qemuDomainValidateStorageSource, what can fail for the network sources libvirt
 *  parses before the metadata cache check (readahead, cookies, … are read only for
 *  their protocols and cannot fail here) */
export function validateStorageSourceQemu(n: StorageSource): void {
  const net = n.net;
  if (!net) return;
  if (net.protocol === 'tftp') throw unsupportedConfig("'tftp' protocol is not supported with this QEMU binary");
  if (net.protocol === 'nfs') {
    if (net.hosts.length !== 1) throw unsupportedConfig("'nfs' protocol requires the usage of exactly one host");
    if (net.hosts[0]!.transport !== 'tcp') throw unsupportedConfig("'nfs' host must use TCP protocol");
    if (net.hosts[0]!.port !== 0) throw unsupportedConfig("port cannot be specified in 'nfs' protocol host");
  }
}

/** … and its last check, after the encryption's */
export function validateTlsHostname(n: StorageSource, caps: QemuCaps): void {
  if (n.net?.tlsHostname === undefined) return;
  if (n.net.protocol !== 'nbd') throw unsupportedConfig("'tlsHostname' field is supported only with NBD disks");
  if (!hasFlag(caps, 'blockdev.nbd.tls-hostname')) throw unsupportedConfig("'tlsHostname' field is not supported by this QEMU");
}

/** qemuValidateDomainDeviceDefDisk, after the chain's sources: vhost-user */
export function validateRemoteDiskQemu(d: DiskDef, ctx: StageContext): void {
  if (d.src.type !== 'vhostuser') return;
  if (!hasFlag(ctx.caps, 'vhost-user-blk')) throw unsupportedConfig('vhostuser disk is not supported with this QEMU binary');
  requireSharedMemory(ctx.def, ctx.caps, 'vhostuser');
}

/** qemuProcessStartValidateDisks (QEMU dropped VxHS in 6.0: no snapshot has the flag) */
export function validateDiskStart(d: DiskDef): void {
  if (d.src.net?.protocol === 'vxhs') throw unsupportedConfig('VxHS protocol is not supported with this QEMU binary');
}
