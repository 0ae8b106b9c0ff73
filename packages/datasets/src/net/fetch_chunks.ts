import { BnlabError } from '@bnlab/core';
import { PermanentError } from './retry.js';

/**
 * A fetch whose body is read chunk by chunk with an idle timeout: calls `onChunk` for every chunk
 * and resolves with the number of bytes once the body is complete. Throws `DOWNLOAD_FAILED` (as a
 * {@link PermanentError} for HTTP statuses a retry cannot change) for HTTP errors, dropped
 * connections, short bodies and silence longer than `idleTimeoutMs`. An error thrown by `onChunk`
 * (such as a full disk) is not a network failure: it is thrown as a {@link PermanentError}, the
 * `BnlabError` itself when it is one, else as `IO_ERROR`. However it ends early, the body is
 * cancelled and the request aborted.
 */
export async function fetchChunks(
  url: string,
  fetchFn: typeof fetch,
  idleTimeoutMs: number,
  onChunk: (chunk: Uint8Array) => void | Promise<void>
): Promise<number> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), idleTimeoutMs);
  };
  const failed = (message: string, cause?: unknown): BnlabError =>
    new BnlabError('DOWNLOAD_FAILED', `${url}: ${message}`, { where: url, cause });
  arm();
  try {
    let response: Response;
    try {
      response = await fetchFn(url, { signal: controller.signal });
    } catch (e) {
      throw failed(
        controller.signal.aborted ? `no response within ${idleTimeoutMs} ms` : `request failed (${describe(e)})`,
        e
      );
    }
    if (!response.ok) {
      const error = failed(`HTTP ${response.status} ${response.statusText}`.trim());
      await response.body?.cancel().catch(() => undefined);
      // 408 timeout, 425 too early, 429 too many requests and 5xx may pass; other statuses will not.
      const transient =
        response.status === 408 || response.status === 425 || response.status === 429 || response.status >= 500;
      throw transient ? error : new PermanentError(error);
    }
    if (response.body === null) throw failed('the response has no body');
    // With a Content-Encoding, fetch decodes the body and Content-Length counts the encoded bytes.
    const encoding = response.headers.get('content-encoding');
    const encoded = encoding !== null && encoding !== '' && encoding !== 'identity';
    const expected = encoded ? Number.NaN : Number(response.headers.get('content-length') ?? Number.NaN);
    const reader = response.body.getReader();
    let received = 0;
    let complete = false;
    try {
      for (;;) {
        arm();
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (e) {
          const why = controller.signal.aborted
            ? `no data for ${idleTimeoutMs} ms`
            : `the connection broke (${describe(e)})`;
          throw failed(`${why} after ${received}${Number.isFinite(expected) ? ` of ${expected}` : ''} bytes`, e);
        }
        if (result.done) break;
        if (timer !== undefined) clearTimeout(timer); // the idle timeout is about the network, not onChunk
        received += result.value.length;
        try {
          await onChunk(result.value);
        } catch (e) {
          // Not the network's fault (e.g. the disk is full): a new attempt would fail the same way.
          throw new PermanentError(
            e instanceof BnlabError
              ? e
              : new BnlabError('IO_ERROR', `${url}: the received bytes could not be stored (${describe(e)})`, {
                  where: url,
                  cause: e,
                })
          );
        }
      }
      complete = true;
    } finally {
      if (!complete) {
        // Stop the transfer: release the connection instead of leaving the body to arrive unread.
        await reader.cancel().catch(() => undefined);
        controller.abort();
      }
    }
    if (Number.isFinite(expected) && received !== expected) {
      throw failed(`the body has ${received} bytes but Content-Length announced ${expected}`);
    }
    return received;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}
