import { isBnlabError } from '@bnlab/core';
import type { BnlabErrorCode } from '@bnlab/core';

/** Expects `fn` to throw a BnlabError with `code` whose message contains every `parts`. */
export function expectBnlabError(fn: () => unknown, code: BnlabErrorCode, ...parts: string[]): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected a BnlabError ${code}, but nothing was thrown`);
  if (!isBnlabError(error, code)) throw error;
  for (const part of parts) expect(error.message).toContain(part);
}
