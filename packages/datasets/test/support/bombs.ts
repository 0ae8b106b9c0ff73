// Decompression bombs (small files that inflate to many megabytes), and a probe of the memory
// a call takes, for the tests of the decompression caps.
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
