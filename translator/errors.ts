// Translation errors carry libvirt's error class so the message reads the way
// `virsh` prints it (without the leading "error: "), which is what `.err` goldens hold.

export type ErrorKind =
  | 'XML error'
  | 'unsupported configuration'
  | 'internal error'
  | 'invalid argument'
  | 'operation failed'
  | 'Requested operation is not valid'
  | 'argument unsupported'
  | 'Secret not found'
  | 'unsupported' // something libvirt supports that virtgold does not implement yet
  | 'bare'; // errors libvirt prints without a class prefix (e.g. VIR_ERR_NO_NAME)

/** Longest message kept, in characters: a value of megabytes makes no better error. */
export const MAX_MESSAGE = 1000;

/** An error message as one bounded, printable line: what virsh shows on the line of its
 *  `error:` (the message up to its first newline; a value may carry one), with other
 *  control characters written as escapes (so none reaches a terminal raw) and anything
 *  past MAX_MESSAGE characters cut. The harness puts libvirt's messages through the same
 *  function before it compares them. */
export function oneLine(message: string): string {
  const first = message.split('\n', 1)[0]!;
  const visible = first.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => {
    const code = c.charCodeAt(0);
    return code === 0x0d ? '\\r' : code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  if (visible.length <= MAX_MESSAGE) return visible; // (UTF-16 units: never fewer than characters)
  const chars = [...visible];
  return chars.length <= MAX_MESSAGE ? visible : `${chars.slice(0, MAX_MESSAGE).join('')}… (${chars.length - MAX_MESSAGE} more characters)`;
}

export class TranslationError extends Error {
  readonly kind: ErrorKind;
  readonly detail: string;
  constructor(kind: ErrorKind, detail: string) {
    super(oneLine(kind === 'bare' ? detail : `${kind}: ${detail}`));
    this.name = 'TranslationError';
    this.kind = kind;
    this.detail = detail;
  }
}

export const xmlError = (detail: string) => new TranslationError('XML error', detail);
export const unsupportedConfig = (detail: string) => new TranslationError('unsupported configuration', detail);
export const internalError = (detail: string) => new TranslationError('internal error', detail);
export const notImplemented = (what: string) =>
  new TranslationError('unsupported', `${what} is not implemented by the virtgold translator`);

export function isTranslationError(e: unknown): e is TranslationError {
  return e instanceof TranslationError;
}
