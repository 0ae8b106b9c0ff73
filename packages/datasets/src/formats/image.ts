import { BnlabError } from '@bnlab/core';
import jpeg from 'jpeg-js';
import { decodePng, isPng } from './png.js';
import type { DecodeImageOptions, DecodedImage, Inflate } from './png.js';

/** True when `bytes` start like a JPEG file (SOI marker). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * Decodes a JPEG (baseline or progressive, through jpeg-js) or a PNG file to 8-bit HWC pixels with
 * `channels` channels: RGB images become gray with PIL's luma weights (299, 587, 114)/1000, gray
 * images are repeated over three channels.
 *
 * Throws a `DATA_FORMAT` {@link BnlabError} naming `source` when the bytes are neither, or do not
 * decode.
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
  options: DecodeImageOptions = {}
): Promise<DecodedImage> {
  let image: DecodedImage;
  if (isJpeg(bytes)) image = decodeJpeg(bytes, source);
  else if (isPng(bytes)) image = await decodePng(bytes, source, inflate, options);
  else throw new BnlabError('DATA_FORMAT', `${source}: is neither a JPEG nor a PNG file`, { where: source });
  return toChannels(image, channels);
}

function decodeJpeg(bytes: Uint8Array, source: string): DecodedImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: 64,
      maxMemoryUsageInMB: 256,
    });
  } catch (e) {
    throw new BnlabError('DATA_FORMAT', `${source}: is not a valid JPEG file (${(e as Error).message})`, {
      where: source,
      cause: e,
    });
  }
  if (!(decoded.width > 0 && decoded.height > 0) || decoded.data.length !== decoded.width * decoded.height * 3) {
    throw new BnlabError('DATA_FORMAT', `${source}: is not a valid JPEG file (no image data)`, { where: source });
  }
  return { width: decoded.width, height: decoded.height, channels: 3, data: decoded.data };
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
      out[i] =
        ((src[3 * i] as number) * 19595 +
          (src[3 * i + 1] as number) * 38470 +
          (src[3 * i + 2] as number) * 7471 +
          0x8000) >>
        16;
    }
  }
  return { width: image.width, height: image.height, channels, data: out };
}
