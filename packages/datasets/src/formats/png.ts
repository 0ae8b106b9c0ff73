import { BnlabError } from '@bnlab/core';
import { withDefaults } from '../with_defaults.js';

/**
 * Decompresses zlib-wrapped deflate data (PNG's IDAT stream), stopping once the output passes
 * `maxBytes` (the size the image's header implies): it then throws, or returns more than
 * `maxBytes` bytes, which {@link decodePng} rejects. Node's `zlib.inflateSync(data, {
 * maxOutputLength: maxBytes })` and this package's `inflateNode` and {@link inflateWeb} do so.
 */
export type Inflate = (data: Uint8Array, maxBytes: number) => Promise<Uint8Array> | Uint8Array;

/** Options of {@link decodePng} and {@link decodeImage}. */
export interface DecodeImageOptions {
  /**
   * Images with more pixels than this are refused from their header, before anything is
   * decompressed or allocated (a file of a few bytes may declare gigapixels).
   * @default 16777216 (2^24, e.g. 4096×4096)
   */
  maxPixels?: number;
}

/** The default of {@link DecodeImageOptions.maxPixels}. */
export const MAX_IMAGE_PIXELS = 1 << 24;

/** A decoded image: 8-bit samples, HWC. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** 1 (gray) or 3 (RGB). */
  readonly channels: 1 | 3;
  /** `height × width × channels` bytes. */
  readonly data: Uint8Array;
}

const DEFAULTS: Required<DecodeImageOptions> = { maxPixels: MAX_IMAGE_PIXELS };

/** `options.maxPixels` or its default, checked (`INVALID_ARGUMENT` unless positive). */
export function resolveMaxPixels(options: DecodeImageOptions): number {
  const { maxPixels } = withDefaults(options, DEFAULTS);
  if (!(maxPixels > 0)) {
    throw new BnlabError('INVALID_ARGUMENT', `maxPixels must be a positive number, got ${maxPixels}`, {
      where: 'maxPixels',
    });
  }
  return maxPixels;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (crcTable[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** zlib's Adler-32 checksum of `bytes` (RFC 1950 §8). */
function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 bytes is the most that can be summed before b may pass 2^32 (zlib's NMAX).
  for (let start = 0; start < bytes.length; start += 5552) {
    const end = Math.min(bytes.length, start + 5552);
    for (let i = start; i < end; i++) {
      a += bytes[i] as number;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Samples per pixel of each PNG colour type, and the bit depths it allows. */
const COLOR_TYPES: Readonly<Record<number, { samples: number; depths: readonly number[] }>> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16] },
  2: { samples: 3, depths: [8, 16] },
  3: { samples: 1, depths: [1, 2, 4, 8] },
  4: { samples: 2, depths: [8, 16] },
  6: { samples: 4, depths: [8, 16] },
};

/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes a PNG file (all colour types and bit depths, interlaced or not) to 8-bit gray or RGB:
 * alpha is dropped (as `convert('RGB')` does in PIL), palettes are expanded, 16-bit samples keep
 * their high byte and 1/2/4-bit gray is scaled to 0–255. Chunk CRCs are checked.
 *
 * The image data is decompressed with a cap of the size the header implies, so a small file that
 * inflates to gigabytes costs no more memory than its declared image.
 *
 * Throws a `DATA_FORMAT` {@link BnlabError} naming `source` on any malformed or truncated input,
 * image data that decompresses to more than its size or is followed by more data, and images of
 * more than `maxPixels` pixels.
 *
 * @param bytes the whole file
 * @param source the file name, for error messages
 * @param inflate zlib decompression with an output cap (see {@link Inflate})
 */
export async function decodePng(
  bytes: Uint8Array,
  source: string,
  inflate: Inflate,
  options: DecodeImageOptions = {},
): Promise<DecodedImage> {
  const maxPixels = resolveMaxPixels(options);
  const fail = (message: string): BnlabError => new BnlabError('DATA_FORMAT', `${source}: ${message}`, { where: source });
  if (!isPng(bytes)) throw fail('is not a PNG file (wrong signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = -1;
  let interlaced = false;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let seenEnd = false;
  let at = 8;
  while (at < bytes.length && !seenEnd) {
    if (at + 12 > bytes.length) throw fail(`is truncated inside the chunk header at byte ${at}`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const dataStart = at + 8;
    const dataEnd = dataStart + length;
    if (length > 0x7fffffff || dataEnd + 4 > bytes.length) throw fail(`is truncated: chunk '${type}' at byte ${at} runs past the end`);
    if (crc32(bytes, at + 4, dataEnd) !== view.getUint32(dataEnd)) throw fail(`has a bad CRC in chunk '${type}' at byte ${at}`);
    const data = bytes.subarray(dataStart, dataEnd);
    if (type === 'IHDR') {
      if (colorType >= 0) throw fail(`has a second IHDR chunk at byte ${at}; a PNG has exactly one`);
      if (length !== 13) throw fail(`has an IHDR chunk of ${length} bytes; it must have 13`);
      width = view.getUint32(dataStart);
      height = view.getUint32(dataStart + 4);
      depth = data[8] as number;
      colorType = data[9] as number;
      if (data[10] !== 0 || data[11] !== 0) throw fail('uses an unknown compression or filter method');
      if ((data[12] as number) > 1) throw fail(`has interlace method ${data[12]}; it must be 0 or 1`);
      interlaced = data[12] === 1;
    } else if (colorType < 0) {
      throw fail(`starts with chunk '${type}'; the first chunk must be IHDR`);
    } else if (type === 'PLTE') {
      if (palette !== undefined) throw fail(`has a second PLTE chunk at byte ${at}; a PNG has at most one`);
      if (idat.length > 0) throw fail(`has its PLTE chunk at byte ${at}, after image data; it must come before IDAT`);
      palette = data;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      seenEnd = true;
    }
    at = dataEnd + 4;
  }
  if (colorType < 0) throw fail('has no IHDR chunk');
  if (!seenEnd) throw fail('is truncated: no IEND chunk');
  const color = COLOR_TYPES[colorType];
  if (color === undefined || !color.depths.includes(depth)) {
    throw fail(`has colour type ${colorType} with bit depth ${depth}, which PNG does not allow`);
  }
  if (width === 0 || height === 0) throw fail(`has size ${width}×${height}; both must be positive`);
  if (width * height > maxPixels) {
    throw fail(`has ${width}×${height} pixels, more than the ${maxPixels} accepted (maxPixels)`);
  }
  if (colorType === 3 && (palette === undefined || palette.length % 3 !== 0)) throw fail('is a palette image without a valid PLTE chunk');

  let compressed: Uint8Array;
  if (idat.length === 1) compressed = idat[0] as Uint8Array;
  else {
    compressed = new Uint8Array(idat.reduce((s, c) => s + c.length, 0));
    let o = 0;
    for (const c of idat) {
      compressed.set(c, o);
      o += c.length;
    }
  }

  const samples = color.samples;
  const bitsPerPixel = samples * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  // The filtered rows' size: a filter byte and the packed samples per row, over every pass.
  let expected = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const passWidth = Math.ceil((width - x0) / dx);
    const passHeight = Math.ceil((height - y0) / dy);
    if (passWidth > 0 && passHeight > 0) expected += passHeight * (1 + Math.ceil((passWidth * bitsPerPixel) / 8));
  }
  const declared = `the ${expected} bytes its ${width}×${height} header declares`;
  let raw: Uint8Array;
  try {
    raw = await inflate(compressed, expected);
  } catch (e) {
    throw new BnlabError('DATA_FORMAT', `${source}: its image data does not decompress to ${declared} (${(e as Error).message})`, {
      where: source,
      cause: e,
    });
  }
  if (raw.length > expected) throw fail(`has image data that decompresses to more than ${declared}`);
  // Before allocating the image: a few bytes of IDAT must not cost a 4096×4096 buffer.
  if (raw.length < expected) {
    throw fail(`is truncated: its image data decompresses to ${raw.length} of ${declared}`);
  }
  // A zlib stream ends with the Adler-32 of its output: if the last 4 bytes of the image data
  // are not that, the stream ended earlier and something (a second stream) follows it, which
  // zlib's inflate (and Node's DecompressionStream) would silently ignore.
  const end = compressed.length - 4;
  const trailer =
    end >= 0
      ? (((compressed[end] as number) << 24) |
          ((compressed[end + 1] as number) << 16) |
          ((compressed[end + 2] as number) << 8) |
          (compressed[end + 3] as number)) >>>
        0
      : -1;
  if (trailer !== adler32(raw)) {
    throw fail('has more image data after the end of its zlib stream (a second stream, or trailing bytes)');
  }

  const outChannels: 1 | 3 = colorType === 0 || colorType === 4 ? 1 : 3;
  const out = new Uint8Array(width * height * outChannels);
  let offset = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const passWidth = Math.ceil((width - x0) / dx);
    const passHeight = Math.ceil((height - y0) / dy);
    if (passWidth <= 0 || passHeight <= 0) continue;
    const rowBytes = Math.ceil((passWidth * bitsPerPixel) / 8);
    let previous = new Uint8Array(rowBytes);
    let row = new Uint8Array(rowBytes);
    for (let py = 0; py < passHeight; py++) {
      const filter = raw[offset] as number;
      const line = raw.subarray(offset + 1, offset + 1 + rowBytes);
      offset += 1 + rowBytes;
      unfilter(filter, line, previous, row, bpp, fail);
      writeRow(row, y0 + py * dy, x0, dx, passWidth);
      const t = previous;
      previous = row;
      row = t;
    }
  }
  return { width, height, channels: outChannels, data: out };

  function sample(row: Uint8Array, index: number): number {
    // The 8-bit value of the index-th sample of a row.
    if (depth === 8) return row[index] as number;
    if (depth === 16) return row[2 * index] as number;
    const perByte = 8 / depth;
    const byte = row[Math.floor(index / perByte)] as number;
    const shift = 8 - depth * ((index % perByte) + 1);
    return (byte >> shift) & ((1 << depth) - 1);
  }

  function writeRow(row: Uint8Array, y: number, x0: number, dx: number, count: number): void {
    const maxValue = (1 << depth) - 1;
    for (let i = 0; i < count; i++) {
      const o = (y * width + x0 + i * dx) * outChannels;
      if (colorType === 3) {
        const index = sample(row, i);
        if (3 * index + 2 >= (palette as Uint8Array).length) {
          throw fail(`uses palette index ${index}, beyond its ${(palette as Uint8Array).length / 3}-colour palette`);
        }
        out[o] = (palette as Uint8Array)[3 * index] as number;
        out[o + 1] = (palette as Uint8Array)[3 * index + 1] as number;
        out[o + 2] = (palette as Uint8Array)[3 * index + 2] as number;
      } else if (outChannels === 1) {
        const v = sample(row, i * samples);
        out[o] = depth < 8 ? Math.round((v * 255) / maxValue) : v;
      } else {
        out[o] = sample(row, i * samples);
        out[o + 1] = sample(row, i * samples + 1);
        out[o + 2] = sample(row, i * samples + 2);
      }
    }
  }
}

function unfilter(
  filter: number,
  line: Uint8Array,
  previous: Uint8Array,
  row: Uint8Array,
  bpp: number,
  fail: (message: string) => BnlabError,
): void {
  const n = line.length;
  switch (filter) {
    case 0:
      row.set(line);
      return;
    case 1:
      for (let i = 0; i < n; i++) row[i] = ((line[i] as number) + (i >= bpp ? (row[i - bpp] as number) : 0)) & 0xff;
      return;
    case 2:
      for (let i = 0; i < n; i++) row[i] = ((line[i] as number) + (previous[i] as number)) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? (row[i - bpp] as number) : 0;
        row[i] = ((line[i] as number) + ((left + (previous[i] as number)) >> 1)) & 0xff;
      }
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? (row[i - bpp] as number) : 0;
        const upLeft = i >= bpp ? (previous[i - bpp] as number) : 0;
        row[i] = ((line[i] as number) + paeth(left, previous[i] as number, upLeft)) & 0xff;
      }
      return;
    default:
      throw fail(`uses row filter type ${filter}; PNG defines 0 to 4`);
  }
}
