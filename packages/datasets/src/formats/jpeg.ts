import { BnlabError } from '@bnlab/core';
import jpeg from 'jpeg-js';
import type { DecodedImage } from './png.js';

/** True when `bytes` start like a JPEG file (SOI marker). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** A JPEG's frame header (SOF): its size in pixels and its number of colour components. */
export interface JpegFrame {
  readonly width: number;
  readonly height: number;
  readonly components: number;
}

/** SOF markers (C0–CF) except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Reads a JPEG's frame header by walking its marker segments (ITU T.81 B.1), without decoding
 * anything: `undefined` when the bytes end, or the scan starts, before a frame header.
 */
export function readJpegFrame(bytes: Uint8Array): JpegFrame | undefined {
  if (!isJpeg(bytes)) return undefined;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] as number;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // TEM and RSTn carry no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // EOI or SOS before any frame
    const length = ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
    if (isStartOfFrame(marker)) {
      if (at + 10 > bytes.length) return undefined;
      return {
        height: ((bytes[at + 5] as number) << 8) | (bytes[at + 6] as number),
        width: ((bytes[at + 7] as number) << 8) | (bytes[at + 8] as number),
        components: bytes[at + 9] as number,
      };
    }
    at += 2 + length;
  }
  return undefined;
}

/**
 * Decodes a baseline or progressive JPEG (through jpeg-js) to 8-bit RGB. The frame header is
 * read first: a size of zero or more than `maxPixels` pixels is refused before jpeg-js allocates
 * anything (it allocates the whole image's coefficients as soon as it reads the frame header, so
 * a file of a kilobyte may declare 8000×8000 and take 700 MB).
 *
 * Throws a `DATA_FORMAT` {@link BnlabError} naming `source` when the bytes do not decode.
 */
export function decodeJpeg(bytes: Uint8Array, source: string, maxPixels: number): DecodedImage {
  const fail = (why: string, cause?: unknown): BnlabError =>
    new BnlabError('DATA_FORMAT', `${source}: is not a valid JPEG file (${why})`, { where: source, cause });
  const frame = readJpegFrame(bytes);
  if (frame !== undefined) {
    if (frame.width === 0 || frame.height === 0) {
      throw fail(`its frame header declares ${frame.width}×${frame.height} pixels; both must be positive`);
    }
    if (frame.width * frame.height > maxPixels) {
      throw new BnlabError(
        'DATA_FORMAT',
        `${source}: has ${frame.width}×${frame.height} pixels, more than the ${maxPixels} accepted (maxPixels)`,
        { where: source },
      );
    }
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      // Backstops for what the frame check cannot see (e.g. a second frame header); jpeg-js
      // checks its memory only after allocating it. 16 bytes per pixel: 256 MB at 2^24 pixels.
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.max(256, Math.ceil(maxPixels / (1 << 16))),
    });
  } catch (e) {
    throw fail((e as Error).message, e);
  }
  if (!(decoded.width > 0 && decoded.height > 0) || decoded.data.length !== decoded.width * decoded.height * 3) {
    throw fail('no image data');
  }
  return { width: decoded.width, height: decoded.height, channels: 3, data: decoded.data };
}
