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
