import { BnlabError } from '@bnlab/core';
import { decodeJpeg, isJpeg, readJpegFrame } from './jpeg.js';
import { decodePng, isPng, resolveMaxPixels } from './png.js';
import type { DecodeImageOptions, DecodedImage, Inflate } from './png.js';

/**
 * The size a JPEG or PNG file declares in its header (JPEG's frame header, PNG's IHDR), read
 * without decoding: `undefined` when the bytes are neither or end before it. Lets a caller that
 * knows the size to expect refuse a file before decoding it.
 */
export function declaredImageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (isJpeg(bytes)) {
    const frame = readJpegFrame(bytes);
    return frame === undefined ? undefined : { width: frame.width, height: frame.height };
  }
  // IHDR is the first chunk: its data (width, height) starts at byte 16.
  if (isPng(bytes) && bytes.length >= 24 && String.fromCharCode(...bytes.subarray(12, 16)) === 'IHDR') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  return undefined;
}

/**
 * Decodes a JPEG (baseline or progressive, through jpeg-js) or a PNG file to 8-bit HWC pixels with
 * `channels` channels: RGB images become gray with PIL's luma weights (299, 587, 114)/1000, gray
 * images are repeated over three channels.
 *
 * Throws a `DATA_FORMAT` {@link BnlabError} naming `source` when the bytes are neither, do not
 * decode, or declare more than `options.maxPixels` pixels (checked from the header, before
 * anything is allocated).
 *
 * @param bytes the whole file
 * @param source the file name, for error messages
 * @param channels 1 (gray) or 3 (RGB)
 * @param inflate zlib decompression with an output cap, for PNG (see {@link Inflate})
 */
export async function decodeImage(
  bytes: Uint8Array,
  source: string,
  channels: 1 | 3,
  inflate: Inflate,
  options: DecodeImageOptions = {},
): Promise<DecodedImage> {
  let image: DecodedImage;
  if (isJpeg(bytes)) image = decodeJpeg(bytes, source, resolveMaxPixels(options));
  else if (isPng(bytes)) image = await decodePng(bytes, source, inflate, options);
  else throw new BnlabError('DATA_FORMAT', `${source}: is neither a JPEG nor a PNG file`, { where: source });
  return toChannels(image, channels);
}

function toChannels(image: DecodedImage, channels: 1 | 3): DecodedImage {
  if (image.channels === channels) return image;
  const n = image.width * image.height;
  const src = image.data;
  const out = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      const v = src[i] as number;
      out[3 * i] = v;
      out[3 * i + 1] = v;
      out[3 * i + 2] = v;
    }
  } else {
    // PIL's "L" conversion: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16 ≈ .299 R + .587 G + .114 B.
    for (let i = 0; i < n; i++) {
      out[i] = ((src[3 * i] as number) * 19595 + (src[3 * i + 1] as number) * 38470 + (src[3 * i + 2] as number) * 7471 + 0x8000) >> 16;
    }
  }
  return { width: image.width, height: image.height, channels, data: out };
}
