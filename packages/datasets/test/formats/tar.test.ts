import { isBnlabError } from '@bnlab/core';
import { extract } from 'tar-stream';
import { readTar } from '../../src/formats/tar.js';
import type { TarEntry } from '../../src/formats/tar.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { archiveChunksNode } from '../../src/node/decompress.js';
import { archiveChunksWeb } from '../../src/web/archive_chunks_web.js';
import { chunked, concatBytes, paxGlobalHeader, tarBytes, tarGzBytes } from '../support/tar_bytes.js';
import { useTempDir } from '../support/temp_dir.js';
import { bufferGrowth } from '../support/bombs.js';

const tempDir = useTempDir();

async function entries(bytes: Uint8Array, chunk = 1 << 16): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for await (const e of readTar(chunked(bytes, chunk), 'fixture.tar')) out.push(e);
  return out;
}

/** The same archive read by tar-stream's extractor, as the reference. */
async function referenceEntries(bytes: Uint8Array): Promise<{ path: string; type: string; data: number[] }[]> {
  const ex = extract();
  const out: { path: string; type: string; data: number[] }[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out.push({ path: header.name, type: header.type ?? 'file', data: Array.from(Buffer.concat(chunks)) });
        next();
      });
    });
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.end(Buffer.from(bytes));
  await done;
  return out;
}

const long = `cifar10-jpeg/train/${'a'.repeat(120)}/${'b'.repeat(80)}/0001.jpg`;
const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % 251);

describe('tar reader', () => {
  const files = [
    { name: 'root/', type: 'directory' as const },
    { name: 'root/a.bin', data: bytesOf(1000, 1) },
    { name: 'root/empty.txt', data: new Uint8Array(0) },
    { name: long, data: bytesOf(513, 2) },
    { name: 'root/exact.bin', data: bytesOf(1024, 3) },
  ];

  it('reads what tar-stream writes, like tar-stream reads it, whatever the chunk sizes', async () => {
    const archive = await tarBytes(files);
    const reference = await referenceEntries(archive);
    for (const chunk of [1, 7, 512, 100000]) {
      const got = await entries(archive, chunk);
      expect(got.map((e) => ({ path: e.path, type: e.type, data: Array.from(e.data) }))).toEqual(reference);
    }
    const got = await entries(archive);
    expect(got.map((e) => e.path)).toEqual(['root/', 'root/a.bin', 'root/empty.txt', long, 'root/exact.bin']);
    expect(got[3]?.data).toEqual(bytesOf(513, 2));
    expect(got.map((e) => e.type)).toEqual(['directory', 'file', 'file', 'file', 'file']);
  });

  it('skips a pax global header (as git archive writes) and applies per-file pax paths', async () => {
    const archive = concatBytes(
      paxGlobalHeader({ comment: 'd7d05618061fe37d830fb0419063d113c575ccbc' }),
      await tarBytes([{ name: 'short-name', data: bytesOf(10, 4), pax: { path: 'a/much/longer/pax/path.bin' } }]),
    );
    const got = await entries(archive);
    expect(got.map((e) => e.path)).toEqual(['a/much/longer/pax/path.bin']);
    expect(got[0]?.data).toEqual(bytesOf(10, 4));
  });

  it('fails with DATA_FORMAT, naming the archive, on truncation at any point', async () => {
    const archive = await tarBytes(files);
    const cuts = [0, 100, 511, 512, 700, 1536, archive.length - 1024 - 1, archive.length - 1024];
    for (const cut of cuts) {
      await expect(entries(archive.subarray(0, cut))).rejects.toMatchObject({
        code: 'DATA_FORMAT',
        where: 'fixture.tar',
      });
    }
  });

  it('fails on a header whose checksum does not match', async () => {
    const archive = await tarBytes(files);
    const bad = archive.slice();
    bad[512 + 10] = (bad[512 + 10] as number) ^ 0x20; // a byte of the second header's name
    const e = await entries(bad).catch((x: unknown) => x);
    expect(isBnlabError(e, 'DATA_FORMAT')).toBe(true);
    expect((e as Error).message).toMatch(/fixture.tar: has a tar header whose checksum does not match.*at byte 512/);
  });

  it('refuses a member larger than maxEntryBytes before allocating it', async () => {
    const archive = await tarBytes([{ name: 'big.bin', data: bytesOf(5000, 5) }]);
    const got: TarEntry[] = [];
    const run = async () => {
      for await (const e of readTar(chunked(archive, 4096), 'big.tar', { maxEntryBytes: 4096 })) got.push(e);
    };
    await expect(run()).rejects.toThrow(/member of 5000 bytes, more than the limit of 4096/);
  });

  it('keeps the default limit when maxEntryBytes is given as undefined', async () => {
    // a member whose size field (GNU base-256) claims 2^40 bytes
    const archive = await tarBytes([{ name: 'huge.bin', data: bytesOf(10, 1) }]);
    const header = archive.subarray(0, 512);
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header[130] = 1; // 2^40 = 1 << (5 × 8): byte 124 + 11 − 5
    header.fill(0x20, 148, 156);
    const sum = header.reduce((s, b) => s + b, 0);
    header.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    const run = async () => {
      for await (const e of readTar(chunked(archive, 4096), 'huge.tar', { maxEntryBytes: undefined })) void e;
    };
    await expect(run()).rejects.toThrow(/member of 1099511627776 bytes, more than the limit of 1073741824/);
  });

  it('reads its stream to the end, so a .tar.gz without its gzip trailer fails, in Node and on the web', async () => {
    const whole = await tarGzBytes(files);
    const cut = whole.subarray(0, whole.length - 8); // CRC-32 and size removed; every tar block is there
    const path = join(tempDir(), 'no-trailer.tar.gz');
    writeFileSync(path, cut);
    const read = async (chunks: AsyncIterable<Uint8Array>, source: string) => {
      const out: TarEntry[] = [];
      for await (const e of readTar(chunks, source)) out.push(e);
      return out;
    };
    for (const [chunks, source] of [
      [archiveChunksNode(path), path],
      [archiveChunksWeb(cut, 'https://x/no-trailer.tar.gz'), 'https://x/no-trailer.tar.gz'],
    ] as const) {
      const e = await read(chunks, source).catch((x: unknown) => x);
      expect(isBnlabError(e, 'DATA_FORMAT')).toBe(true);
      expect((e as Error).message).toMatch(
        new RegExp(`^${source.replace(/[.?/]/g, '\\$&')}: is not a complete gzip (file|stream) \\(unexpected end of file\\)$`),
      );
    }
    const good = join(tempDir(), 'whole.tar.gz');
    writeFileSync(good, whole);
    expect((await read(archiveChunksNode(good), good)).map((e) => e.path)).toEqual(files.map((f) => f.name));
  });

  it('allocates a member as its bytes arrive, not the size its header declares', async () => {
    const archive = await tarBytes([{ name: 'big.bin', data: bytesOf(4000, 5) }]);
    const header = archive.slice(0, 512);
    // Declare 900 MB (under maxEntryBytes) in the size field, and fix the checksum.
    header.set(new TextEncoder().encode(`${(900e6).toString(8).padStart(11, '0')}\0`), 124);
    header.fill(0x20, 148, 156);
    const sum = header.reduce((s, b) => s + b, 0);
    header.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    const hostile = concatBytes(header, archive.subarray(512, 512 + 4096));
    let error: unknown;
    const growth = await bufferGrowth(() =>
      entries(hostile).catch((e: unknown) => {
        error = e;
      }),
    );
    expect(isBnlabError(error, 'DATA_FORMAT')).toBe(true);
    expect((error as Error).message).toBe(
      'fixture.tar: is truncated: a member of 900000000 bytes ends after 4096 (at byte 0 of the tar stream)',
    );
    expect(growth).toBeLessThan(16 << 20);
  });
});
