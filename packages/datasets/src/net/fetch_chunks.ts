import { BnlabError } from '@bnlab/core';
import { MIN_DOWNLOAD_BYTES_PER_SECOND, PermanentError } from './retry.js';
import type { RetryOptions } from './retry.js';

/** How {@link fetchChunks} fetches, and how long it waits. */
export interface FetchChunksOptions {
  /** The fetch to use. */
  fetch: typeof fetch;
  /** Abort when no bytes arrive for this long. */
  idleTimeoutMs: number;
  /**
   * Abort when the whole attempt lasts longer than this; `undefined` for the default of
   * {@link RetryOptions.timeoutMs} (derived from the size).
   */
  timeoutMs: number | undefined;
}

/**
 * A fetch whose body is read chunk by chunk with an idle timeout and an overall deadline: calls
 * `onChunk` for every chunk and resolves with the number of bytes once the body is complete.
 * Throws `DOWNLOAD_FAILED` for HTTP errors, dropped connections, short bodies, silence longer
 * than `idleTimeoutMs` and an attempt longer than `timeoutMs`; as a {@link PermanentError} when a
 * new attempt cannot change it: an HTTP status such as 404, a redirect loop (more than fetch's 20
 * redirects) or a redirect to a URL fetch refuses. A URL that is not a valid http(s) URL throws
 * `INVALID_ARGUMENT`, permanent too, before any request. An error thrown by `onChunk` (such as a full disk) is not a
 * network failure: it is thrown as a {@link PermanentError}, the `BnlabError` itself when it is
 * one, else as `IO_ERROR`. However it ends early, the body is cancelled and the request aborted.
 */
export async function fetchChunks(
  url: string,
  options: FetchChunksOptions,
  onChunk: (chunk: Uint8Array) => void | Promise<void>,
): Promise<number> {
  const { idleTimeoutMs, timeoutMs } = options;
  const controller = new AbortController();
  const started = Date.now();
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  let allowedMs = Number.POSITIVE_INFINITY;
  let expired = false;
  const arm = (): void => {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => controller.abort(), idleTimeoutMs);
  };
  // The deadline: timeoutMs when given, else idleTimeoutMs plus the time `bytes` take at the
  // slowest rate allowed (the announced length, or what has arrived when none is announced).
  const setDeadline = (bytes: number): void => {
    const allowed = timeoutMs ?? idleTimeoutMs + Math.ceil((bytes * 1000) / MIN_DOWNLOAD_BYTES_PER_SECOND);
    if (allowed === allowedMs) return;
    allowedMs = allowed;
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
    deadlineTimer = setTimeout(
      () => {
        expired = true;
        controller.abort();
      },
      Math.max(0, started + allowed - Date.now()),
    );
  };
  const tooLong = (): string =>
    `not complete after ${allowedMs} ms, the time allowed (timeoutMs${
      timeoutMs === undefined ? `: by default ${idleTimeoutMs} ms plus 1 s per ${MIN_DOWNLOAD_BYTES_PER_SECOND} bytes` : ''
    })`;
  const failed = (message: string, cause?: unknown): BnlabError =>
    new BnlabError('DOWNLOAD_FAILED', `${url}: ${message}`, { where: url, cause });
  const problem = urlProblem(url);
  if (problem !== undefined) {
    throw new PermanentError(new BnlabError('INVALID_ARGUMENT', `${url}: ${problem}`, { where: url }));
  }
  arm();
  setDeadline(0);
  try {
    let response: Response;
    try {
      response = await options.fetch(url, { signal: controller.signal });
    } catch (e) {
      if (expired) throw failed(tooLong(), e);
      if (controller.signal.aborted) throw failed(`no response within ${idleTimeoutMs} ms`, e);
      const error = failed(`request failed (${describe(e)})`, e);
      throw isPermanentFailure(e) ? new PermanentError(error) : error;
    }
    if (!response.ok) {
      const error = failed(`HTTP ${response.status} ${response.statusText}`.trim());
      await response.body?.cancel().catch(() => undefined);
      // 408 timeout, 425 too early, 429 too many requests and 5xx may pass; other statuses will not.
      const transient = response.status === 408 || response.status === 425 || response.status === 429 || response.status >= 500;
      throw transient ? error : new PermanentError(error);
    }
    if (response.body === null) throw failed('the response has no body');
    // With a Content-Encoding, fetch decodes the body and Content-Length counts the encoded bytes.
    const encoding = response.headers.get('content-encoding');
    const encoded = encoding !== null && encoding !== '' && encoding !== 'identity';
    const announced = Number(response.headers.get('content-length') ?? Number.NaN);
    const expected = encoded ? Number.NaN : announced;
    if (Number.isFinite(announced)) setDeadline(announced);
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
          const why = expired
            ? tooLong()
            : controller.signal.aborted
              ? `no data for ${idleTimeoutMs} ms`
              : `the connection broke (${describe(e)})`;
          throw failed(`${why} after ${received}${Number.isFinite(expected) ? ` of ${expected}` : ''} bytes`, e);
        }
        if (result.done) break;
        if (idleTimer !== undefined) clearTimeout(idleTimer); // the idle timeout is about the network, not onChunk
        received += result.value.length;
        if (!Number.isFinite(announced)) setDeadline(received);
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
                }),
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
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    if (deadlineTimer !== undefined) clearTimeout(deadlineTimer);
  }
}

/** Why `url` cannot be fetched at all, or `undefined` (relative URLs count from the page, in browsers). */
function urlProblem(url: string): string | undefined {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    return 'is not a valid URL: a download needs an absolute http or https URL (check baseUrl)';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `has the scheme ${parsed.protocol}; a download needs an http or https URL (check baseUrl)`;
  }
  return undefined;
}

/**
 * A rejected fetch that a new attempt cannot change. Node's fetch (undici) says so in the
 * cause: too many redirects (a loop), a redirect to an invalid URL, to another scheme or to a port
 * fetch blocks. Browsers give one "Failed to fetch" for everything, which stays retried.
 */
function isPermanentFailure(e: unknown): boolean {
  const cause = (e as { cause?: unknown } | undefined)?.cause;
  if ((cause as { code?: unknown } | undefined)?.code === 'ERR_INVALID_URL') return true;
  const message = messageOf(cause) ?? '';
  return /redirect count exceeded|URL scheme must be a HTTP\(S\) scheme|unknown scheme|bad port/.test(message);
}

/** The message of an error, from any realm (Node's fetch rejects with errors of its own realm). */
function messageOf(e: unknown): string | undefined {
  const message = (e as { message?: unknown } | null | undefined)?.message;
  return typeof e === 'object' && typeof message === 'string' ? message : undefined;
}

function describe(e: unknown): string {
  const message = messageOf(e);
  if (message === undefined) return String(e);
  const cause = messageOf((e as { cause?: unknown }).cause);
  return cause === undefined ? message : `${message}: ${cause}`;
}
