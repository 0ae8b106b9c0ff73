import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip, inflateSync } from 'node:zlib';
import { BnlabError } from '@bnlab/core';
import { isGzip } from '../formats/gzip.js';
import { collectWithin } from '../formats/output_limit.js';
import type { SizeLimit } from '../formats/output_limit.js';

/**
 * Decompresses a whole gzip file in memory; a corrupt or truncated one throws `DATA_FORMAT`
 * naming `source`. With `limit`, decompression stops as soon as the output passes it (a
 * `DATA_FORMAT` error too), so a small file that inflates to gigabytes costs no more than the
 * limit.
 *
 * @param limit the most bytes the file may decompress to, or a {@link SizeLimit} that tells from
 *   its first bytes @default no limit
 * @param what what the limit is, for the message
 */
export async function gunzipNode(
  bytes: Uint8Array,
  source: string,
  limit: number | SizeLimit = Number.POSITIVE_INFINITY,
  what?: string,
): Promise<Uint8Array> {
  const gunzip = createGunzip({ chunkSize: 1 << 16 });
  gunzip.end(bytes);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of gunzip as AsyncIterable<Uint8Array>) yield chunk;
    } catch (e) {
      throw new BnlabError('DATA_FORMAT', `${source}: is not a complete gzip file (${(e as Error).message})`, {
        where: source,
        cause: e,
      });
    } finally {
      gunzip.destroy();
    }
  }
  return collectWithin(chunks(), source, limit, what);
}

/**
 * Decompresses zlib-wrapped deflate data (PNG) into at most `maxBytes` bytes: zlib stops, and
 * this throws, as soon as the output would pass them.
 */
export function inflateNode(bytes: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return inflateSync(bytes, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new Error(`zlib data: decompresses to more than ${maxBytes} bytes`);
    throw e;
  }
}

/**
 * A `.tar` or `.tar.gz` file (told apart by its first bytes) as a stream of decompressed chunks,
 * read with bounded memory. Read errors throw `IO_ERROR`, corrupt gzip data `DATA_FORMAT`, both
 * naming `path`.
 */
export async function* archiveChunksNode(path: string): AsyncGenerator<Uint8Array> {
  let head: Uint8Array;
  try {
    const handle = await open(path, 'r');
    try {
      head = new Uint8Array(2);
      const { bytesRead } = await handle.read(head, 0, 2, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new BnlabError('IO_ERROR', `${path}: cannot be read (${(e as Error).message})`, { where: path, cause: e });
  }
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let readError: Error | undefined;
  file.on('error', (e) => {
    readError = e;
  });
  const gzip = isGzip(head);
  const stream = gzip ? file.pipe(createGunzip()) : file;
  if (gzip) file.on('error', (e) => stream.destroy(e));
  try {
    for await (const chunk of stream as AsyncIterable<Uint8Array>) yield chunk;
  } catch (e) {
    if (readError !== undefined) {
      throw new BnlabError('IO_ERROR', `${path}: cannot be read (${readError.message})`, {
        where: path,
        cause: readError,
      });
    }
    throw new BnlabError('DATA_FORMAT', `${path}: is not a complete gzip file (${(e as Error).message})`, {
      where: path,
      cause: e,
    });
  } finally {
    file.destroy();
    stream.destroy();
  }
}
