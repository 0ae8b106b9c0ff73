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
  /**
   * Abort an attempt that lasts longer than this in all, however steadily bytes arrive (a server
   * that sends a byte now and then is never silent for `idleTimeoutMs`). The attempt is retried
   * like a dropped connection.
   * @default `idleTimeoutMs` plus 1 s per {@link MIN_DOWNLOAD_BYTES_PER_SECOND} bytes of the
   * announced Content-Length (60 s + 10 min for MNIST's 9.9 MB training images), or of the bytes
   * received so far when the server announces no length: an average of at least 16 KiB/s
   */
  timeoutMs?: number;
}

/**
 * The slowest average transfer rate the default {@link RetryOptions.timeoutMs} allows, in bytes
 * per second (16 KiB/s, 128 kbit/s).
 */
export const MIN_DOWNLOAD_BYTES_PER_SECOND = 16 * 1024;

/** {@link RetryOptions} with every value set (`timeoutMs` stays `undefined` for its derived default). */
export type ResolvedRetryOptions = Required<Omit<RetryOptions, 'timeoutMs'>> & { timeoutMs: number | undefined };

/** The defaults of {@link RetryOptions} (`timeoutMs`'s depends on the download's size). */
export const RETRY_DEFAULTS: Readonly<Required<Omit<RetryOptions, 'timeoutMs'>>> = {
  retries: 3,
  backoffMs: 1000,
  idleTimeoutMs: 60000,
};

/** Merges options over the defaults and checks them (`INVALID_ARGUMENT` otherwise). */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const resolved = { ...withDefaults(options, RETRY_DEFAULTS), timeoutMs: options.timeoutMs };
  const { retries, backoffMs, idleTimeoutMs, timeoutMs } = resolved;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) {
    throw new BnlabError('INVALID_ARGUMENT', `timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`, {
      where: 'timeoutMs',
    });
  }
  if (!Number.isInteger(retries) || retries < 0) {
    throw new BnlabError('INVALID_ARGUMENT', `retries must be a non-negative integer, got ${retries}`, {
      where: 'retries',
    });
  }
  if (!(backoffMs >= 0) || !(idleTimeoutMs > 0)) {
    throw new BnlabError('INVALID_ARGUMENT', `backoffMs (${backoffMs}) must be ≥ 0 and idleTimeoutMs (${idleTimeoutMs}) > 0`, {
      where: 'download',
    });
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
export async function withRetries<T>(attempt: (index: number) => Promise<T>, options: ResolvedRetryOptions): Promise<T> {
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
