import { BnlabError } from '@bnlab/core';

/** The BnlabError `fn` throws (failing the test when it throws something else, or nothing). */
export function errorOf(fn: () => unknown): BnlabError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BnlabError);
    return e as BnlabError;
  }
  throw new Error('expected a BnlabError, nothing was thrown');
}
