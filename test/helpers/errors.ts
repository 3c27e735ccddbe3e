// The message of the TranslationError a call throws (any other exception, or none, fails the test).
import { TranslationError } from '../../translator/errors.js';

export function err(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof TranslationError) return e.message;
    throw e;
  }
  throw new Error('expected a TranslationError');
}

/** The message of whatever a call throws (host-facts and other errors too), or 'no error'. */
export function anyErrorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}
