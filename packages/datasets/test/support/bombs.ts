// Decompression bombs (small files that inflate to many megabytes), and a probe of the memory
// a call takes, for the tests of the decompression caps.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';

/** zlib-wrapped deflate data of `size` zero bytes (about a thousandth of that). */
export function zlibBomb(size: number): Uint8Array {
  return new Uint8Array(deflateSync(Buffer.alloc(size)));
}

/** A gzip file of `head` followed by `size` zero bytes. */
export function gzipBomb(head: Uint8Array, size: number): Uint8Array {
  const body = Buffer.alloc(head.length + size);
  body.set(head);
  return new Uint8Array(gzipSync(body));
}

/**
 * fixtures/images/solid.jpg (8×8, 286 bytes, by ImageMagick) with its frame header changed to
 * declare `height`×`width` pixels.
 */
export function jpegDeclaring(height: number, width: number): Uint8Array {
  const bytes = new Uint8Array(readFileSync(join(__dirname, '..', 'fixtures', 'images', 'solid.jpg')));
  const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  view.setUint16(sof + 5, height);
  view.setUint16(sof + 7, width);
  return bytes;
}

/**
 * How much array-buffer memory (where Node's zlib output lives) grows while `run` runs, at its
 * peak as far as sampling sees it and at the end (before any collection of what it dropped):
 * an inflated bomb shows, whether or not it was kept.
 */
export async function bufferGrowth(run: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
  };
  const timer = setInterval(sample, 1);
  try {
    await run().catch(() => undefined);
  } finally {
    clearInterval(timer);
    sample();
  }
  return peak;
}
