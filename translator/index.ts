// The reference translator, in libvirt's stage order:
//   parse (XML → model) → post-parse (defaults, implicit devices) → addresses →
//   validation → format (XML) | aliases + command (argv)
// Each stage is a driver in stages/ that walks the device kinds of devices/registry.ts
// in libvirt's order; what differs per machine family is in machines/.
import { renderArgs, type QemuCommand } from './argv.js';
import type { QemuCaps } from './capabilities.js';
import type { StageContext } from './devices/kind.js';
import type { DomainDef } from './model.js';
import { assignAddresses } from './stages/addresses.js';
import { assignAliases } from './stages/aliases.js';
import { buildCommand } from './stages/command.js';
import { formatDomain } from './stages/format.js';
import { parseDomain } from './stages/parse.js';
import { postParse } from './stages/postparse.js';
import { validateDefine, validateDomain, validateStart } from './stages/validate.js';

export type Mode = 'xml2argv' | 'xml2xml';
export const MODES: Mode[] = ['xml2argv', 'xml2xml'];

/** What `virsh define` makes of the XML: parsed, post-parsed, addressed, validated. */
export function defineDomain(xml: string, caps: QemuCaps): StageContext {
  const def: DomainDef = parseDomain(xml);
  const { machine } = postParse(def, caps);
  if (!machine) {
    // A machine the snapshot does not know: libvirt only says so in validation.
    validateDomain(def, caps);
    throw new Error('unreachable: validation accepted an unknown machine');
  }
  const ctx: StageContext = { def, caps, machine };
  assignAddresses(ctx);
  validateDefine(ctx);
  return ctx;
}

/** The QEMU command libvirt would build for the domain, before it is rendered. */
export function commandOf(xml: string, caps: QemuCaps): QemuCommand {
  const ctx = defineDomain(xml, caps);
  validateStart(ctx);
  assignAliases(ctx.def);
  return buildCommand(ctx.def, caps, ctx.machine);
}

/** Translate one domain; throws TranslationError for anything libvirt would refuse. */
export function translate(mode: Mode, xml: string, caps: QemuCaps): string {
  return mode === 'xml2xml' ? formatDomain(defineDomain(xml, caps)) : renderArgs(commandOf(xml, caps));
}

export { TranslationError, isTranslationError } from './errors.js';
export { loadCaps, CapsError, type QemuCaps } from './capabilities.js';
// What the harness may use besides translate(): it imports nothing else from translator/.
export { HOST_ARCH } from './stages/postparse.js';
export { renderArgs, shellQuote } from './argv.js';
export type { QemuCommand };
