/** True when `bytes` start with the gzip magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Deflate's largest expansion: a length code of 258 bytes takes at least 2 bits (symbol and
 * distance), so no deflate (or gzip) data inflates to more than 1032 times its size.
 */
export const MAX_DEFLATE_RATIO = 1032;

/** The most bytes `compressedBytes` bytes of gzip data can decompress to. */
export function maxGunzippedBytes(compressedBytes: number): number {
  return compressedBytes * MAX_DEFLATE_RATIO;
}
