import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadFile } from '../../src/node/download.js';
import { startServer } from '../support/http_server.js';
import type { TestServer } from '../support/http_server.js';
import { useTempDir } from '../support/temp_dir.js';
import { failure } from '../support/failure.js';

const tempDir = useTempDir();
const body = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31 + 7) % 256);
const sha = createHash('sha256').update(body).digest('hex');
const fast = { retries: 2, backoffMs: 5, idleTimeoutMs: 2000 };
const small = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
const smallSha = createHash('sha256').update(small).digest('hex');

/** `p`, or 'still running' when it has not settled after `ms` (a download that never ends). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'still running'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => resolve('still running'), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

let server: TestServer;
let n = 0;
/** A fresh, empty cache folder per test. */
function folder(): string {
  const dir = join(tempDir(), `cache-${n++}`);
  mkdirSync(dir);
  return dir;
}

beforeAll(async () => {
  server = await startServer({
    'good.bin': { body },
    'drop.bin': { body, behaviour: 'drop' },
    'drop-chunked.bin': { body, behaviour: 'drop-chunked' },
    'flaky.bin': { body, behaviour: 'drop', times: 2 },
    'corrupt.bin': { body, behaviour: 'corrupt' },
    'corrupt-once.bin': { body, behaviour: 'corrupt', times: 1 },
    'stall.bin': { body, behaviour: 'stall' },
    'gone.bin': { body, behaviour: '404' },
    'busy.bin': { body, behaviour: '500', times: 1 },
    'full-disk.bin': { body },
    'stale.bin': { body },
    'trickle.bin': { body: small, behaviour: 'trickle' },
    'trickle-chunked.bin': { body: small, behaviour: 'trickle-chunked' },
    'loop.bin': { body, behaviour: 'redirect-loop' },
  });
});
afterAll(() => server.close());

const requestsOf = (name: string) => server.requests.filter((r) => r === name).length;

describe('downloadFile', () => {
  it('downloads, verifies and renames into place, leaving only the file', async () => {
    const dir = folder();
    await downloadFile(`${server.url}good.bin`, join(dir, 'good.bin'), sha, fast);
    expect(readFileSync(join(dir, 'good.bin')).equals(body)).toBe(true);
    expect(readdirSync(dir)).toEqual(['good.bin']);
  });

  it('retries a connection dropped mid-file and succeeds when the server recovers', async () => {
    const dir = folder();
    await downloadFile(`${server.url}flaky.bin`, join(dir, 'flaky.bin'), sha, fast);
    expect(requestsOf('flaky.bin')).toBe(3);
    expect(readdirSync(dir)).toEqual(['flaky.bin']);
  });

  it.each(['drop.bin', 'drop-chunked.bin'])('gives up on %s after the retries, leaving no partial file', async (name) => {
    const dir = folder();
    const e = await failure(downloadFile(`${server.url}${name}`, join(dir, name), sha, fast));
    expect(e.code).toBe('DOWNLOAD_FAILED');
    expect(e.message).toContain(`${server.url}${name}: `);
    if (name === 'drop.bin') expect(e.message).toMatch(/the connection broke .*after 150000 of 300000 bytes/);
    expect(requestsOf(name)).toBe(3);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects corrupt bytes with CHECKSUM_MISMATCH and removes them; a transient corruption is retried', async () => {
    const dir = folder();
    const e = await failure(downloadFile(`${server.url}corrupt.bin`, join(dir, 'corrupt.bin'), sha, fast));
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    expect(e.message).toMatch(new RegExp(`corrupt.bin: SHA-256 is [0-9a-f]{64}, expected ${sha}: the download is corrupt and was removed`));
    expect(readdirSync(dir)).toEqual([]);
    await downloadFile(`${server.url}corrupt-once.bin`, join(dir, 'x.bin'), sha, fast);
    expect(requestsOf('corrupt-once.bin')).toBe(2);
    expect(readdirSync(dir)).toEqual(['x.bin']);
  });

  it('does not retry a 404, but retries a 500', async () => {
    const dir = folder();
    const e = await failure(downloadFile(`${server.url}gone.bin`, join(dir, 'gone.bin'), sha, fast));
    expect(e.message).toBe(`${server.url}gone.bin: HTTP 404 Not Found`);
    expect(requestsOf('gone.bin')).toBe(1);
    await downloadFile(`${server.url}busy.bin`, join(dir, 'busy.bin'), sha, fast);
    expect(requestsOf('busy.bin')).toBe(2);
  });

  it('aborts a silent connection after idleTimeoutMs, leaving no partial file', async () => {
    const dir = folder();
    const started = Date.now();
    const e = await failure(
      downloadFile(`${server.url}stall.bin`, join(dir, 'stall.bin'), sha, {
        retries: 1,
        backoffMs: 5,
        idleTimeoutMs: 200,
      }),
    );
    expect(e.code).toBe('DOWNLOAD_FAILED');
    expect(e.message).toMatch(/no data for 200 ms after 10 of 300000 bytes/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps an existing verified file if a new download fails', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'f.bin'), body);
    await failure(downloadFile(`${server.url}drop.bin`, join(dir, 'f.bin'), sha, { ...fast, retries: 0 }));
    expect(readFileSync(join(dir, 'f.bin')).equals(body)).toBe(true);
    expect(readdirSync(dir)).toEqual(['f.bin']);
  });

  it('reports a cache folder that cannot be created as IO_ERROR', async () => {
    const file = join(folder(), 'not-a-folder');
    writeFileSync(file, 'x');
    const e = await failure(downloadFile(`${server.url}good.bin`, join(file, 'sub', 'good.bin'), sha, fast));
    expect(e.code).toBe('IO_ERROR');
    expect(e.message).toMatch(/not-a-folder\/sub: cannot create the cache folder/);
  });

  it('stops at once with IO_ERROR naming the file when a write fails (full disk), leaving no partial file', async () => {
    const dir = folder();
    const probe = await open(join(dir, 'probe'), 'w');
    const fileHandle = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const full = jest
      .spyOn(fileHandle, 'write')
      .mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
    try {
      const e = await failure(downloadFile(`${server.url}full-disk.bin`, join(dir, 'full-disk.bin'), sha, fast));
      expect(e.code).toBe('IO_ERROR');
      expect(e.message).toMatch(
        new RegExp(
          `/\\.full-disk\\.bin\\.[0-9a-f]{12}\\.part: cannot write the download of ${server.url}full-disk.bin ` +
            '\\(ENOSPC: no space left on device, write\\)$',
        ),
      );
    } finally {
      full.mockRestore();
    }
    expect(requestsOf('full-disk.bin')).toBe(1); // not retried
    expect(readdirSync(dir)).toEqual(['probe']);
  });

  it('removes temporary files of the same file left by a killed download, but not fresh ones', async () => {
    const dir = folder();
    const stale = '.stale.bin.0123456789ab.part';
    const fresh = '.stale.bin.ba9876543210.part';
    const otherFile = '.other.bin.0123456789ab.part';
    for (const name of [stale, fresh, otherFile]) writeFileSync(join(dir, name), 'partial');
    const old = (Date.now() - 11 * 60 * 1000) / 1000;
    utimesSync(join(dir, stale), old, old);
    utimesSync(join(dir, otherFile), old, old);
    await downloadFile(`${server.url}stale.bin`, join(dir, 'stale.bin'), sha, fast);
    expect(readdirSync(dir).sort()).toEqual([fresh, otherFile, 'stale.bin'].sort());
  });

  it('aborts an attempt past timeoutMs although bytes keep arriving (one every 20 ms)', async () => {
    const dir = folder();
    const started = Date.now();
    const e = await within(
      failure(
        downloadFile(`${server.url}trickle.bin`, join(dir, 'trickle.bin'), smallSha, {
          retries: 1,
          backoffMs: 5,
          idleTimeoutMs: 2000,
          timeoutMs: 300,
        }),
      ),
      5000,
    );
    expect(e).not.toBe('still running');
    const error = e as Error & { code: string };
    expect(error.code).toBe('DOWNLOAD_FAILED');
    expect(error.message).toMatch(
      new RegExp(`^${server.url}trickle.bin: not complete after 300 ms, the time allowed \\(timeoutMs\\) after \\d+ of 1000 bytes$`),
    );
    expect(requestsOf('trickle.bin')).toBe(2); // retried, as a dropped connection
    expect(Date.now() - started).toBeLessThan(2000);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.each([
    ['trickle.bin', 'the announced length', ' of 1000'],
    ['trickle-chunked.bin', 'the bytes received', ''],
  ])('by default, allows %s idleTimeoutMs plus 1 s per 16 KiB of %s', async (name, _, ofTotal) => {
    const dir = folder();
    const e = await within(
      failure(downloadFile(`${server.url}${name}`, join(dir, name), smallSha, { retries: 0, idleTimeoutMs: 250 })),
      5000,
    );
    expect(e).not.toBe('still running');
    // 1000 bytes at 16 KiB/s take 62 ms; a body of unknown length is allowed what has arrived.
    expect((e as Error).message).toMatch(
      new RegExp(
        `^${server.url}${name}: not complete after (312|25\\d) ms, the time allowed \\(timeoutMs: by default 250 ms ` +
          `plus 1 s per 16384 bytes\\) after \\d+${ofTotal} bytes$`,
      ),
    );
    if (ofTotal !== '') expect((e as Error).message).toContain('after 312 ms');
  });

  it.each([
    ['not a url/x.bin', 'is not a valid URL: a download needs an absolute http or https URL (check baseUrl)'],
    ['ftp://127.0.0.1/x.bin', 'has the scheme ftp:; a download needs an http or https URL (check baseUrl)'],
  ])('refuses %s at once, without a request or a retry', async (url, why) => {
    let requests = 0;
    const counting = ((...args: Parameters<typeof fetch>) => {
      requests++;
      return fetch(...args);
    }) as typeof fetch;
    const dir = folder();
    const started = Date.now();
    const e = await failure(downloadFile(url, join(dir, 'x.bin'), sha, { retries: 3, backoffMs: 300, fetch: counting }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe(`${url}: ${why}`);
    expect(requests).toBe(0);
    expect(Date.now() - started).toBeLessThan(250); // the first backoff is 300 ms
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not retry a redirect loop', async () => {
    const dir = folder();
    const e = await failure(downloadFile(`${server.url}loop.bin`, join(dir, 'loop.bin'), sha, fast));
    expect(e.code).toBe('DOWNLOAD_FAILED');
    expect(e.message).toBe(`${server.url}loop.bin: request failed (fetch failed: redirect count exceeded)`);
    expect(requestsOf('loop.bin')).toBe(21); // the request and fetch's 20 redirects, once
    expect(readdirSync(dir)).toEqual([]);
  });
});
