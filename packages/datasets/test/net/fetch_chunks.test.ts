import { BnlabError } from '@bnlab/core';
import { fetchChunks } from '../../src/net/fetch_chunks.js';
import { PermanentError } from '../../src/net/retry.js';
import { startServer } from '../support/http_server.js';

/** A fetch answering with an endless body of 1 kB chunks, recording whether the body was cancelled. */
function endlessFetch(): { fetch: typeof fetch; cancelled: () => boolean; pulled: () => number } {
  let cancelled = false;
  let pulled = 0;
  const fetchFn = (async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(1024));
        },
        cancel() {
          cancelled = true;
        },
      }),
    )) as unknown as typeof fetch;
  return { fetch: fetchFn, cancelled: () => cancelled, pulled: () => pulled };
}

const url = 'http://127.0.0.1:9/data.bin';

describe('fetchChunks', () => {
  it('turns an error of onChunk (a full disk) into a permanent IO_ERROR and cancels the body', async () => {
    const stub = endlessFetch();
    let chunks = 0;
    const e = await fetchChunks(url, { fetch: stub.fetch, idleTimeoutMs: 5000, timeoutMs: undefined }, () => {
      if (++chunks === 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PermanentError); // withRetries does not try again
    const error = (e as PermanentError).error;
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toBe(`${url}: the received bytes could not be stored (ENOSPC: no space left on device, write)`);
    expect(stub.cancelled()).toBe(true);
  });

  it('passes a BnlabError of onChunk through unchanged, as permanent, and cancels the body', async () => {
    const stub = endlessFetch();
    const own = new BnlabError('IO_ERROR', '/cache/.x.part: cannot write', { where: '/cache/.x.part' });
    const e = await fetchChunks(url, { fetch: stub.fetch, idleTimeoutMs: 5000, timeoutMs: undefined }, () => {
      throw own;
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PermanentError);
    expect((e as PermanentError).error).toBe(own);
    expect(stub.cancelled()).toBe(true);
  });

  it('does not count a slow onChunk (a slow disk) as network silence', async () => {
    const body = new Uint8Array(300_000);
    const server = await startServer({ 'slow-disk.bin': { body } });
    try {
      let chunks = 0;
      const total = await fetchChunks(`${server.url}slow-disk.bin`, { fetch, idleTimeoutMs: 50, timeoutMs: undefined }, async () => {
        if (++chunks === 1) await new Promise((resolve) => setTimeout(resolve, 150));
      });
      expect(total).toBe(body.length);
      expect(chunks).toBeGreaterThan(1);
    } finally {
      await server.close();
    }
  });
});
