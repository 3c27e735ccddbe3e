// The reference translator, in libvirt's stage order:
//   parse (XML → model) → post-parse (defaults, implicit devices) → addresses →
//   validation → format (XML) | aliases + command (argv)
// Each stage is a driver in stages/ that walks the device kinds of devices/registry.ts
// in libvirt's order; what differs per machine family is in machines/.
import { renderArgs, type QemuCommand } from './argv.js';
import type { QemuCaps } from './capabilities.js';
import type { StageContext } from './devices/kind.js';
import type { DomainDef } from './model.js';
import { TranslationError, xmlError } from './errors.js';
import { withDeadline } from './deadline.js';
import { decodeUtf8 } from './xml/chars.js';
import { MAX_XML_BYTES } from './xml/tree.js';
import { capsForDefine } from './domain/graphics-host.js';
import { assignAddresses, assignStartAddresses } from './stages/addresses.js';
import { assignAliases } from './stages/aliases.js';
import { buildCommand } from './stages/command.js';
import { formatDomain } from './stages/format.js';
import { parseDomain } from './stages/parse.js';
import { postParseCheckName } from './domain/parse.js';
import { postParse, unknownMachineAddresses } from './stages/postparse.js';
import { validateDefine, validateDomain, validateStart } from './stages/validate.js';

export type Mode = 'xml2argv' | 'xml2xml';
export const MODES: Mode[] = ['xml2argv', 'xml2xml'];

/** The document as text: bytes must be UTF-8, as libxml2 requires of what libvirt reads. */
function textOf(xml: string | Uint8Array): string {
  if (typeof xml === 'string') return xml;
  if (xml.length > MAX_XML_BYTES) throw xmlError(`domain XML is larger than the ${MAX_XML_BYTES} byte limit`);
  const r = decodeUtf8(xml);
  if ('badLine' in r) throw new TranslationError('bare', `(domain_definition):${r.badLine}: Input is not proper UTF-8, indicate encoding !`);
  return r.text;
}

/** What `virsh define` makes of the XML: parsed, post-parsed, addressed, validated. */
export function defineDomain(xml: string | Uint8Array, caps: QemuCaps): StageContext {
  const def: DomainDef = parseDomain(textOf(xml));
  const { machine } = postParse(def, caps);
  if (!machine) {
    // A machine the snapshot does not know: libvirt only says so in validation.
    unknownMachineAddresses(def);
    postParseCheckName(def);
    validateDomain(def, caps);
    throw new Error('unreachable: validation accepted an unknown machine');
  }
  const ctx: StageContext = { def, caps, machine };
  assignAddresses(ctx);
  postParseCheckName(def); // the last check of post-parse, after the addresses
  validateDefine(ctx);
  return ctx;
}

/** The QEMU command libvirt would build for the domain, before it is rendered. */
export function commandOf(xml: string | Uint8Array, caps: QemuCaps): QemuCommand {
  const ctx = defineDomain(xml, caps);
  validateStart(ctx);
  assignStartAddresses(ctx);
  assignAliases(ctx.def);
  return buildCommand(ctx.def, caps, ctx.machine);
}

/** Translate one domain; throws TranslationError for anything libvirt would refuse, and
 *  TranslationTimeout when it takes longer than `timeoutMs`. */
export function translate(mode: Mode, xml: string | Uint8Array, caps: QemuCaps, timeoutMs?: number): string {
  return withDeadline(timeoutMs, () => (mode === 'xml2xml' ? formatDomain(defineDomain(xml, capsForDefine(caps))) : renderArgs(commandOf(xml, caps))));
}

export { TranslationError, isTranslationError, oneLine } from './errors.js';
export { TranslationTimeout } from './deadline.js';
export { loadCaps, CapsError, type QemuCaps } from './capabilities.js';
export { loadFirmwareDescriptors, FirmwareError, type FirmwareDescriptor } from './domain/firmware.js';
export { loadHostFacts, HostFactsError, type HostFacts } from './domain/host-facts.js';
export type { HugeTLBFS } from './domain/hugetlbfs.js';
// What the harness may use besides translate(): it imports nothing else from translator/.
export { HOST_ARCH } from './stages/postparse.js';
export { renderArgs, shellQuote } from './argv.js';
export type { QemuCommand };
