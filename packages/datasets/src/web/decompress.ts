import { BnlabError } from '@bnlab/core';

type Format = 'gzip' | 'deflate';

function stream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

async function decompress(bytes: Uint8Array, format: Format, source: string): Promise<Uint8Array> {
  try {
    const out = stream(bytes).pipeThrough(
      new DecompressionStream(format) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>
    );
    return new Uint8Array(await new Response(out).arrayBuffer());
  } catch (e) {
    throw new BnlabError('DATA_FORMAT', `${source}: is not a complete ${format} stream (${(e as Error).message})`, {
      where: source,
      cause: e,
    });
  }
}

/** Decompresses a whole gzip file with the platform's `DecompressionStream` (browsers, Node ≥ 18). */
export function gunzipWeb(bytes: Uint8Array, source: string): Promise<Uint8Array> {
  return decompress(bytes, 'gzip', source);
}

/** Decompresses zlib-wrapped deflate data (PNG) with `DecompressionStream('deflate')`. */
export function inflateWeb(bytes: Uint8Array): Promise<Uint8Array> {
  return decompress(bytes, 'deflate', 'zlib data');
}

/**
 * Decompresses a gzip stream chunk by chunk, as an async iterable of chunks; a corrupt or
 * truncated stream throws a `DATA_FORMAT` {@link BnlabError} naming `source`.
 */
export async function* gunzipChunksWeb(body: ReadableStream<Uint8Array>, source: string): AsyncGenerator<Uint8Array> {
  const reader = body
    .pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>)
    .getReader();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (e) {
        if (e instanceof BnlabError) throw e;
        throw new BnlabError('DATA_FORMAT', `${source}: is not a complete gzip stream (${(e as Error).message})`, {
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
