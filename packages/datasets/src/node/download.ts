import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BnlabError } from '@bnlab/core';
import { fetchChunks } from '../net/fetch_chunks.js';
import { PermanentError, resolveRetryOptions, withRetries } from '../net/retry.js';
import type { RetryOptions } from '../net/retry.js';
import { writeAll } from './write_all.js';

/** Options of {@link downloadFile}. */
export interface DownloadOptions extends RetryOptions {
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Downloads `url` to `dest` safely: the bytes go to a temporary file beside `dest`, hashed as they
 * arrive; only a complete file whose SHA-256 equals `sha256` is renamed to `dest`. Anything else
 * (HTTP error, dropped connection, silence, wrong checksum) removes the temporary file and is
 * retried with exponential backoff; the last error is thrown (`DOWNLOAD_FAILED`,
 * `CHECKSUM_MISMATCH`, or `IO_ERROR` when `dest`'s folder cannot be written). `dest` never
 * holds a partial or unverified file.
 *
 * @param sha256 expected lower-case hex SHA-256, or `undefined` to accept any complete file
 */
export async function downloadFile(
  url: string,
  dest: string,
  sha256: string | undefined,
  options: DownloadOptions = {}
): Promise<void> {
  const retry = resolveRetryOptions(options);
  const fetchFn = options.fetch ?? globalThis.fetch;
  const folder = dirname(dest);
  try {
    await mkdir(folder, { recursive: true });
  } catch (e) {
    throw new BnlabError('IO_ERROR', `${folder}: cannot create the cache folder (${(e as Error).message})`, {
      where: folder,
      cause: e,
    });
  }
  await withRetries(async () => {
    const temp = join(folder, `.${basename(dest)}.${randomBytes(6).toString('hex')}.part`);
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      try {
        handle = await open(temp, 'wx');
      } catch (e) {
        const error = new BnlabError(
          'IO_ERROR',
          `${folder}: cannot write in the cache folder (${(e as Error).message})`,
          {
            where: folder,
            cause: e,
          }
        );
        throw new PermanentError(error);
      }
      const hash = createHash('sha256');
      const file = handle;
      await fetchChunks(url, fetchFn, retry.idleTimeoutMs, async (chunk) => {
        hash.update(chunk);
        await writeAll(file, chunk);
      });
      await file.close();
      handle = undefined;
      const actual = hash.digest('hex');
      if (sha256 !== undefined && actual !== sha256.toLowerCase()) {
        throw new BnlabError(
          'CHECKSUM_MISMATCH',
          `${url}: SHA-256 is ${actual}, expected ${sha256.toLowerCase()}: the download is corrupt and was removed`,
          { where: url }
        );
      }
      await rename(temp, dest);
    } catch (e) {
      await handle?.close().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
      throw e;
    }
  }, retry);
}
