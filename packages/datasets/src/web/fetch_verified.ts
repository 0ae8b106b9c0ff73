import { BnlabError } from '@bnlab/core';
import { fetchChunks } from '../net/fetch_chunks.js';
import { resolveRetryOptions, withRetries } from '../net/retry.js';
import type { RetryOptions } from '../net/retry.js';
import { sha256Web } from './sha256.js';

/** Options of {@link fetchVerified}. */
export interface FetchVerifiedOptions extends RetryOptions {
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Fetches a whole file into memory with retries and, when `sha256` is given, checks its SHA-256
 * (a mismatch is retried, then thrown as `CHECKSUM_MISMATCH`; nothing is returned or kept).
 * Works wherever `fetch` and Web Crypto exist (browsers, Node ≥ 19).
 */
export async function fetchVerified(url: string, sha256: string | undefined, options: FetchVerifiedOptions = {}): Promise<Uint8Array> {
  const retry = resolveRetryOptions(options);
  const fetchFn = options.fetch ?? globalThis.fetch;
  return withRetries(async () => {
    const chunks: Uint8Array[] = [];
    const limits = { fetch: fetchFn, idleTimeoutMs: retry.idleTimeoutMs, timeoutMs: retry.timeoutMs };
    const total = await fetchChunks(url, limits, (chunk) => {
      chunks.push(chunk);
    });
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.length;
    }
    if (sha256 !== undefined) {
      const actual = await sha256Web(bytes);
      if (actual !== sha256.toLowerCase()) {
        throw new BnlabError(
          'CHECKSUM_MISMATCH',
          `${url}: SHA-256 is ${actual}, expected ${sha256.toLowerCase()}: the download is corrupt and was discarded`,
          { where: url },
        );
      }
    }
    return bytes;
  }, retry);
}
