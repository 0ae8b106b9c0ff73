import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BnlabError } from '@bnlab/core';
import { fetchChunks } from '../net/fetch_chunks.js';
import { PermanentError, resolveRetryOptions, withRetries } from '../net/retry.js';
import type { RetryOptions } from '../net/retry.js';
import { removeStaleTempFiles, tempFileFor } from './temp_files.js';
import { writeAll } from './write_all.js';

/** Options of {@link downloadFile}. */
export interface DownloadOptions extends RetryOptions {
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Downloads `url` to `dest` safely: the bytes go to a temporary file beside `dest`
 * (`.<name>.<hex>.part`), hashed as they arrive; only a complete file whose SHA-256 equals
 * `sha256` is renamed to `dest`. Anything else (HTTP error, dropped connection, silence, an
 * attempt past `timeoutMs`, wrong checksum) removes the temporary file and is retried with exponential backoff; the last error is
 * thrown (`DOWNLOAD_FAILED`, `CHECKSUM_MISMATCH`). A folder that cannot be written, or a write
 * that fails (a full disk), throws `IO_ERROR` at once, without retries. `dest` never holds a
 * partial or unverified file, and temporary files of `dest` left by a killed process (unmodified
 * for 10 minutes) are removed when a download starts.
 *
 * @param sha256 expected lower-case hex SHA-256, or `undefined` to accept any complete file
 */
export async function downloadFile(url: string, dest: string, sha256: string | undefined, options: DownloadOptions = {}): Promise<void> {
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
  await removeStaleTempFiles(dest);
  await withRetries(async () => {
    const temp = tempFileFor(dest);
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      try {
        handle = await open(temp, 'wx');
      } catch (e) {
        const error = new BnlabError('IO_ERROR', `${folder}: cannot write in the cache folder (${(e as Error).message})`, {
          where: folder,
          cause: e,
        });
        throw new PermanentError(error);
      }
      const hash = createHash('sha256');
      const file = handle;
      const limits = { fetch: fetchFn, idleTimeoutMs: retry.idleTimeoutMs, timeoutMs: retry.timeoutMs };
      await fetchChunks(url, limits, async (chunk) => {
        hash.update(chunk);
        try {
          await writeAll(file, chunk);
        } catch (e) {
          throw new BnlabError('IO_ERROR', `${temp}: cannot write the download of ${url} (${(e as Error).message})`, {
            where: temp,
            cause: e,
          });
        }
      });
      await file.close();
      handle = undefined;
      const actual = hash.digest('hex');
      if (sha256 !== undefined && actual !== sha256.toLowerCase()) {
        throw new BnlabError(
          'CHECKSUM_MISMATCH',
          `${url}: SHA-256 is ${actual}, expected ${sha256.toLowerCase()}: the download is corrupt and was removed`,
          { where: url },
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
