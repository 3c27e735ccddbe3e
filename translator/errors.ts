// Translation errors carry libvirt's error class so the message reads the way
// `virsh` prints it (without the leading "error: "), which is what `.err` goldens hold.

export type ErrorKind =
  | 'XML error'
  | 'unsupported configuration'
  | 'internal error'
  | 'invalid argument'
  | 'operation failed'
  | 'unsupported' // something libvirt supports that virtgold does not implement yet
  | 'bare'; // errors libvirt prints without a class prefix (e.g. VIR_ERR_NO_NAME)

export class TranslationError extends Error {
  readonly kind: ErrorKind;
  readonly detail: string;
  constructor(kind: ErrorKind, detail: string) {
    super(kind === 'bare' ? detail : `${kind}: ${detail}`);
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
