import { BnlabError } from '@bnlab/core';
import { collectWithin } from '../formats/output_limit.js';
import type { SizeLimit } from '../formats/output_limit.js';

type Format = 'gzip' | 'deflate';

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/**
 * The decompressed chunks of `body`, read one by one: a reader that stops early cancels the
 * decompression. Corrupt or truncated data throws `DATA_FORMAT` naming `source`.
 */
async function* decompressedChunks(body: ReadableStream<Uint8Array>, format: Format, source: string): AsyncGenerator<Uint8Array> {
  const reader = body.pipeThrough(new DecompressionStream(format) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>).getReader();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (e) {
        if (e instanceof BnlabError) throw e;
        throw new BnlabError('DATA_FORMAT', `${source}: is not a complete ${format} stream (${(e as Error).message})`, {
          where: source,
          cause: e,
        });
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Decompresses a whole gzip file with the platform's `DecompressionStream` (browsers, Node ≥ 18).
 * With `limit`, reading stops as soon as the output passes it (a `DATA_FORMAT` error naming
 * `source`), so a small file that inflates to gigabytes costs no more than the limit.
 *
 * @param limit the most bytes the file may decompress to, or a {@link SizeLimit} that tells from
 *   its first bytes @default no limit
 * @param what what the limit is, for the message
 */
export function gunzipWeb(
  bytes: Uint8Array,
  source: string,
  limit: number | SizeLimit = Number.POSITIVE_INFINITY,
  what?: string,
): Promise<Uint8Array> {
  return collectWithin(decompressedChunks(streamOf(bytes), 'gzip', source), source, limit, what);
}

/**
 * Decompresses zlib-wrapped deflate data (PNG) with `DecompressionStream('deflate')`, stopping
 * (with an error) as soon as the output passes `maxBytes`.
 */
export function inflateWeb(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  return collectWithin(decompressedChunks(streamOf(bytes), 'deflate', 'zlib data'), 'zlib data', maxBytes);
}

/**
 * Decompresses a gzip stream chunk by chunk, as an async iterable of chunks; a corrupt or
 * truncated stream throws a `DATA_FORMAT` {@link BnlabError} naming `source`.
 */
export function gunzipChunksWeb(body: ReadableStream<Uint8Array>, source: string): AsyncGenerator<Uint8Array> {
  return decompressedChunks(body, 'gzip', source);
}
