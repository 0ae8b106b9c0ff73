import { BnlabError } from '@bnlab/core';
import { withDefaults } from '../with_defaults.js';

/** How downloads are retried, and how long a silent connection is tolerated. */
export interface RetryOptions {
  /** Further attempts after the first one fails. @default 3 */
  retries?: number;
  /** Wait before the first retry, doubled before each next one. @default 1000 */
  backoffMs?: number;
  /** Abort an attempt when no bytes arrive for this long. @default 60000 */
  idleTimeoutMs?: number;
}

/** {@link RetryOptions} with every value set. */
export type ResolvedRetryOptions = Required<RetryOptions>;

/** The defaults of {@link RetryOptions}. */
export const RETRY_DEFAULTS: ResolvedRetryOptions = { retries: 3, backoffMs: 1000, idleTimeoutMs: 60000 };

/** Merges options over the defaults and checks them (`INVALID_ARGUMENT` otherwise). */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const resolved = withDefaults(options, RETRY_DEFAULTS);
  const { retries, backoffMs, idleTimeoutMs } = resolved;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new BnlabError('INVALID_ARGUMENT', `retries must be a non-negative integer, got ${retries}`, {
      where: 'retries',
    });
  }
  if (!(backoffMs >= 0) || !(idleTimeoutMs > 0)) {
    throw new BnlabError(
      'INVALID_ARGUMENT',
      `backoffMs (${backoffMs}) must be ≥ 0 and idleTimeoutMs (${idleTimeoutMs}) > 0`,
      { where: 'download' }
    );
  }
  return resolved;
}

/** An error that a new attempt cannot fix (e.g. HTTP 404). */
export class PermanentError extends Error {
  constructor(readonly error: BnlabError) {
    super(error.message);
  }
}

/**
 * Runs `attempt` until it succeeds, at most `retries + 1` times, waiting `backoffMs × 2^k` before
 * the k-th retry. A {@link PermanentError} stops at once. Rethrows the last error.
 */
export async function withRetries<T>(
  attempt: (index: number) => Promise<T>,
  options: ResolvedRetryOptions
): Promise<T> {
  for (let index = 0; ; index++) {
    try {
      return await attempt(index);
    } catch (e) {
      if (e instanceof PermanentError) throw e.error;
      if (index >= options.retries) throw e;
      await new Promise((resolve) => setTimeout(resolve, options.backoffMs * 2 ** index));
    }
  }
}
