import { isGzip } from '../formats/gzip.js';
import { gunzipChunksWeb } from './decompress.js';

/** The bytes of a `.tar` or `.tar.gz` held in memory, as a stream of (decompressed) chunks. */
export function archiveChunksWeb(bytes: Uint8Array, source: string): AsyncIterable<Uint8Array> {
  if (!isGzip(bytes)) {
    return (async function* () {
      yield bytes;
    })();
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return gunzipChunksWeb(body, source);
}
