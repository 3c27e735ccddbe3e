// A disk's <iotune> (libvirt's virDomainBlockIoTuneInfo): parsed, expanded for group
// members, checked and written back as libvirt does. With -blockdev, libvirt 9.0.0 puts
// no throttling on the command line: it sets it over QMP (block_set_io_throttle) once
// QEMU runs, so a command line does not show it.
import { TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import { strToULL } from '../domain/units.js';
import { child, elements, escapeXml, textOf, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';

/** the numeric fields, in libvirt's parse and format order (group_name sits after
 *  size_iops_sec when formatted) */
const BASIC = ['total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'total_iops_sec', 'read_iops_sec', 'write_iops_sec'] as const;
const MAX = ['total_bytes_sec_max', 'read_bytes_sec_max', 'write_bytes_sec_max', 'total_iops_sec_max', 'read_iops_sec_max', 'write_iops_sec_max'] as const;
const MAX_LENGTH = [
  'total_bytes_sec_max_length', 'read_bytes_sec_max_length', 'write_bytes_sec_max_length',
  'total_iops_sec_max_length', 'read_iops_sec_max_length', 'write_iops_sec_max_length',
] as const;
const FIELDS = [...BASIC, ...MAX, 'size_iops_sec', ...MAX_LENGTH] as const;
type Field = (typeof FIELDS)[number];

export interface IoTune {
  /** only the fields set to a non-zero value */
  values: Partial<Record<Field, bigint>>;
  groupName?: string;
}

/** QEMU_BLOCK_IOTUNE_MAX */
const QEMU_MAX = 1000000000000000n;

/** virDomainDiskDefIotuneParse: each field is the first ./iotune/FIELD's text
 *  (virXPathULongLong: an empty text is no value); undefined without any. */
export function parseIoTune(disk: XElement): IoTune | undefined {
  const iotunes = elements(disk, 'iotune');
  if (!iotunes.length) return undefined;
  // (the XPath looks into every <iotune>: the first element of a name in document order)
  const first = (name: string) => {
    for (const t of iotunes) {
      const e = child(t, name);
      if (e) return textOf(e);
    }
    return undefined;
  };
  const t: IoTune = { values: {} };
  for (const f of FIELDS) {
    const raw = first(f);
    if (raw === undefined || raw === '') continue;
    const v = strToULL(raw);
    if (v === undefined) throw xmlError(`disk iotune field '${f}' must be an integer`);
    if (v) t.values[f] = v;
  }
  const group = first('group_name');
  if (group) t.groupName = group;
  return t;
}

const has = (t: IoTune | undefined, fields: readonly Field[]) => !!t && fields.some((f) => t.values[f]);
/** virDomainBlockIoTuneInfoHasAny */
export const ioTuneHasAny = (t: IoTune | undefined) => has(t, FIELDS);

const equal = (a: IoTune | undefined, b: IoTune | undefined) => FIELDS.every((f) => (a?.values[f] ?? 0n) === (b?.values[f] ?? 0n));

/** virDomainDiskExpandGroupIoTune: a disk that names a group but sets nothing takes
 *  the settings of the first disk of its group that sets some. */
export function expandGroupIoTune<D extends { iotune?: IoTune }>(d: D, disks: readonly D[]): void {
  const t = d.iotune;
  if (!t?.groupName || ioTuneHasAny(t)) return;
  const from = disks.find((o) => o.iotune?.groupName === t.groupName && ioTuneHasAny(o.iotune));
  if (from) d.iotune = { values: { ...from.iotune!.values }, groupName: from.iotune!.groupName };
}

/** virDomainDiskDefValidate's iotune part */
export function validateIoTuneConf(t: IoTune | undefined): void {
  if (!t) return;
  const v = t.values;
  const pair = (total: Field, read: Field, write: Field, what: string) => {
    if (v[total] && (v[read] || v[write])) throw xmlError(`total and read/write ${what} cannot be set at the same time`);
  };
  pair('total_bytes_sec', 'read_bytes_sec', 'write_bytes_sec', 'bytes_sec');
  pair('total_iops_sec', 'read_iops_sec', 'write_iops_sec', 'iops_sec');
  pair('total_bytes_sec_max', 'read_bytes_sec_max', 'write_bytes_sec_max', 'bytes_sec_max');
  pair('total_iops_sec_max', 'read_iops_sec_max', 'write_iops_sec_max', 'iops_sec_max');
}

/** qemuValidateDomainDeviceDefDiskBlkdeviotune */
export function validateIoTuneQemu<D extends { iotune?: IoTune; dst?: string }>(d: D, disks: readonly D[]): void {
  const t = d.iotune;
  if (!t) return;
  // QEMU ignores a group name on its own
  if (t.groupName !== undefined && !ioTuneHasAny(t)) throw unsupportedConfig('group_name can be configured only together with settings');
  if (t.groupName !== undefined) {
    for (const o of disks) {
      if (o.dst === d.dst || o.iotune?.groupName !== t.groupName) continue;
      if (!equal(o.iotune, t)) throw unsupportedConfig(`different iotunes for disks ${d.dst} and ${o.dst}`);
    }
  }
  // (the *_max_length fields are not limited)
  if ([...BASIC, ...MAX, 'size_iops_sec' as const].some((f) => (t.values[f] ?? 0n) > QEMU_MAX)) {
    throw new TranslationError('argument unsupported', `block I/O throttle limit must be no more than ${QEMU_MAX} using QEMU`);
  }
}

/** virDomainDiskDefFormatIotune (nothing when every field is unset) */
export function formatIoTune(w: Writer, t: IoTune | undefined): void {
  if (!t) return;
  const lines: string[] = [];
  for (const f of FIELDS) {
    const v = t.values[f];
    if (v) lines.push(`<${f}>${v}</${f}>`);
    if (f === 'size_iops_sec' && t.groupName !== undefined) lines.push(`<group_name>${escapeXml(t.groupName)}</group_name>`);
  }
  if (!lines.length) return;
  w.open('<iotune>');
  for (const l of lines) w.line(l);
  w.close('</iotune>');
}
