// SCSI persistent reservations of a disk's source (<source><reservations>, libvirt's
// virStoragePRDef): parsed and written back as libvirt does, and QEMU's
// pr-manager-helper objects: one for the helper libvirt runs for the domain (managed,
// its socket in the domain's directory), one per disk for a user's helper.
import { xmlError } from '../errors.js';
import { domainLibDir } from '../domain/ids.js';
import type { DomainDef } from '../model.js';
import { propYesNo, required } from '../xml/props.js';
import { child, escapeXml, type XElement } from '../xml/tree.js';
import type { Writer } from '../xml/writer.js';

/** <source><reservations>: SCSI persistent reservations through a qemu-pr-helper, the
 *  one libvirt runs for the domain (managed) or one at a socket of the user's. */
export interface Reservations {
  managed: boolean;
  /** the helper's socket as the XML gives it (managed: libvirt's own replaces it) */
  path?: string;
}

/** virStoragePRDefParseXML (the <reservations> child of a <source>) */
export function parseReservations(source: XElement): Reservations | undefined {
  const r = child(source, 'reservations');
  if (!r) return undefined;
  const managed = propYesNo(r, 'managed');
  if (managed === undefined) required(r, 'managed');
  // virXPathString: an empty attribute is none
  const s = child(r, 'source');
  const get = (k: string) => (s?.attrs[k] ? s.attrs[k] : undefined);
  const type = get('type');
  const path = get('path');
  const mode = get('mode');
  if (managed === 'no' || type || path || mode) {
    if (!type) throw xmlError('missing connection type for <reservations/>');
    if (!path) throw xmlError('missing path for <reservations/>');
    if (!mode) throw xmlError('missing connection mode for <reservations/>');
  }
  if (type && type !== 'unix') throw xmlError(`unsupported connection type for <reservations/>: ${type}`);
  if (mode && mode !== 'client') throw xmlError(`unsupported connection mode for <reservations/>: ${mode}`);
  return { managed: managed === 'yes', ...(path ? { path } : {}) };
}

/** virStoragePRDefFormat (not migratable: a managed helper's path is kept when given) */
export function formatReservations(w: Writer, r: Reservations): void {
  if (r.path === undefined) {
    w.line(`<reservations managed='${r.managed ? 'yes' : 'no'}'/>`);
    return;
  }
  w.open(`<reservations managed='${r.managed ? 'yes' : 'no'}'>`);
  w.line(`<source type='unix' path='${escapeXml(r.path)}' mode='client'/>`);
  w.close('</reservations>');
}

/** the <source> element with its reservations (a local source: its path attribute given) */
export function formatSourceWithReservations(w: Writer, head: string, r: Reservations): void {
  w.open(`${head}>`);
  formatReservations(w, r);
  w.close('</source>');
}

/** qemuDomainGetManagedPRAlias / qemuDomainGetUnmanagedPRAlias */
export const prManagerAlias = (r: Reservations, storageNode: string) => (r.managed ? 'pr-helper0' : `pr-helper-${storageNode}`);

/** qemuBuildManagedPRCommandLine: the object of libvirt's own helper, once a domain */
export function managedPrObject(def: DomainDef): string[][] {
  if (!def.devices.disk.some((d) => d.src.pr?.managed)) return [];
  return [['-object', JSON.stringify({ 'qom-type': 'pr-manager-helper', id: 'pr-helper0', path: `${domainLibDir(def.name)}/pr-helper0.sock` })]];
}

/** qemuBuildPRManagerInfoProps: the object of a user's helper, before its disk's storage node */
export function unmanagedPrObject(r: Reservations | undefined, storageNode: string): string[][] {
  if (!r || r.managed) return [];
  return [['-object', JSON.stringify({ 'qom-type': 'pr-manager-helper', id: prManagerAlias(r, storageNode), path: r.path })]];
}
