// The reference translator's pipeline, one stage per module:
//   parse (XML → model) → defaults → validate → addresses → format (XML) | command (argv)
import { renderArgs } from './argv.js';
import type { QemuCaps } from './capabilities.js';
import { buildCommand } from './command.js';
import { applyDefaults } from './defaults.js';
import { formatDomain } from './format.js';
import { parseDomain } from './parse.js';
import { assignAddresses, assignAliases } from './addresses.js';
import { validateDefine, validateStart } from './validate.js';
import type { DomainDef } from './model.js';

export type Mode = 'xml2argv' | 'xml2xml';
export const MODES: Mode[] = ['xml2argv', 'xml2xml'];

/** What `virsh define` makes of the XML: parsed, defaulted, validated, addressed. */
export function defineDomain(xml: string, caps: QemuCaps): DomainDef {
  const def = parseDomain(xml);
  applyDefaults(def, caps);
  validateDefine(def, caps);
  assignAddresses(def);
  return def;
}

/** Translate one domain; throws TranslationError for anything libvirt would refuse. */
export function translate(mode: Mode, xml: string, caps: QemuCaps): string {
  const def = defineDomain(xml, caps);
  if (mode === 'xml2xml') return formatDomain(def);
  validateStart(def);
  assignAliases(def);
  return renderArgs(buildCommand(def, caps));
}

export { TranslationError, isTranslationError } from './errors.js';
export { loadCaps, CapsError, type QemuCaps } from './capabilities.js';
// What the harness may use besides translate(): it imports nothing else from translator/.
export { HOST_ARCH } from './defaults.js';
export { renderArgs, shellQuote, type QemuCommand } from './argv.js';
