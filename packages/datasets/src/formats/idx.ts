import { BnlabError } from '@bnlab/core';
import type { SizeLimit } from './output_limit.js';

/** Element types of the IDX format (third byte of the magic number). */
export type IdxDataType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** A parsed IDX file: its element type, its dimensions and its values in row-major order. */
export interface IdxArray {
  readonly dtype: IdxDataType;
  readonly shape: readonly number[];
  /** A view on the input bytes for `uint8` (no copy); a new typed array for the other types. */
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** IDX magic number of MNIST-style image files: unsigned bytes, rank 3. */
export const IDX_IMAGES_MAGIC = 2051;
/** IDX magic number of MNIST-style label files: unsigned bytes, rank 1. */
export const IDX_LABELS_MAGIC = 2049;

const TYPE_CODES: Readonly<Record<number, { dtype: IdxDataType; size: number }>> = {
  8: { dtype: 'uint8', size: 1 },
  9: { dtype: 'int8', size: 1 },
  11: { dtype: 'int16', size: 2 },
  12: { dtype: 'int32', size: 4 },
  13: { dtype: 'float32', size: 4 },
  14: { dtype: 'float64', size: 8 },
};

function formatError(source: string, message: string): BnlabError {
  return new BnlabError('DATA_FORMAT', `${source}: ${message}`, { where: source });
}

/** What an IDX header says: the element type, the dimensions, and the sizes they imply. */
interface IdxHeader {
  readonly dtype: IdxDataType;
  readonly shape: readonly number[];
  /** Values: the product of the dimensions. */
  readonly count: number;
  /** `4 + 4 × rank`. */
  readonly headerBytes: number;
  /** `count ×` the size of one value. */
  readonly dataBytes: number;
}

/**
 * Reads the header at the start of `bytes`, or returns `undefined` when `bytes` end inside it
 * (after the magic number). Throws `DATA_FORMAT` for a wrong magic number, rank 0, or fewer than
 * 4 bytes when `complete` (the whole file).
 */
function readIdxHeader(bytes: Uint8Array, source: string, complete: boolean): IdxHeader | undefined {
  if (bytes.length < 4) {
    if (!complete) return undefined;
    throw formatError(source, `is ${bytes.length} bytes long; an IDX file needs at least a 4-byte magic number`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const type = TYPE_CODES[bytes[2] as number];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined) {
    throw formatError(
      source,
      `wrong IDX magic number ${magic} (0x${magic.toString(16).padStart(8, '0')}): it must start with two zero ` +
        'bytes and a type code 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e',
    );
  }
  const rank = bytes[3] as number;
  if (rank === 0) throw formatError(source, 'has rank 0 in its magic number; an IDX array needs at least one dimension');
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    if (!complete) return undefined;
    throw formatError(source, `is truncated: its rank-${rank} header needs ${headerBytes} bytes, the file has ${bytes.length}`);
  }
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i);
    shape.push(d);
    count *= d;
  }
  return { dtype: type.dtype, shape, count, headerBytes, dataBytes: count * type.size };
}

/**
 * The {@link SizeLimit} of a compressed IDX file: the size its header declares (header and
 * data), so that decompression stops as soon as the file inflates past it. Throws `DATA_FORMAT`
 * naming `source` for a wrong magic number, and for a header declaring more than `maxBytes` (the
 * most its compressed bytes can inflate to, see {@link maxGunzippedBytes}): such a file is
 * truncated, and nothing of it needs decompressing to tell.
 */
export function idxSizeLimit(source: string, maxBytes = Number.POSITIVE_INFINITY): SizeLimit {
  return (head) => {
    const header = readIdxHeader(head, source, false);
    if (header === undefined) return undefined;
    const total = header.headerBytes + header.dataBytes;
    if (total > maxBytes) {
      throw formatError(
        source,
        `is truncated: its header declares shape [${header.shape.join(', ')}] of ${header.dtype}, ${total} bytes, ` +
          `more than the ${maxBytes} its compressed size can hold`,
      );
    }
    return total;
  };
}

/**
 * Parses an IDX file (the format of MNIST and Fashion-MNIST, as described on
 * yann.lecun.com/exdb/mnist): a 4-byte magic number (two zero bytes, a type code, the rank),
 * the rank's dimensions as big-endian 32-bit integers, then the values, big-endian.
 *
 * The input must be uncompressed (see {@link isGzip}, {@link idxSizeLimit}). Throws a
 * `DATA_FORMAT` {@link BnlabError} that names `source` when the magic number is wrong, the
 * header or the data is truncated, or bytes follow the data.
 *
 * @param bytes the whole file
 * @param source the file name or URL, for error messages
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const { dtype, shape, count, headerBytes, dataBytes: expected } = readIdxHeader(bytes, source, true) as IdxHeader;
  const found = bytes.length - headerBytes;
  if (found < expected) {
    throw formatError(
      source,
      `is truncated: shape [${shape.join(', ')}] of ${dtype} needs ${expected} bytes of data after the ` +
        `${headerBytes}-byte header, the file has ${found}`,
    );
  }
  if (found > expected) {
    throw formatError(
      source,
      `has ${found - expected} bytes after the data: shape [${shape.join(', ')}] of ${dtype} needs exactly ` +
        `${expected} bytes after the ${headerBytes}-byte header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { dtype, shape: [...shape], data: readValues(bytes, view, headerBytes, count, dtype) };
}

function readValues(bytes: Uint8Array, view: DataView, offset: number, n: number, dtype: IdxDataType): IdxArray['data'] {
  switch (dtype) {
    case 'uint8':
      return bytes.subarray(offset, offset + n);
    case 'int8':
      return new Int8Array(bytes.buffer, bytes.byteOffset + offset, n).slice();
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(offset + 2 * i);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(offset + 4 * i);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(offset + 4 * i);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(offset + 8 * i);
      return out;
    }
  }
}

/** Images read from an IDX file: `count` images of `rows × cols` unsigned bytes, row-major. */
export interface IdxImages {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** `count * rows * cols` bytes (a view on the input, no copy). */
  readonly pixels: Uint8Array;
}

function describeMagic(bytes: Uint8Array): string {
  const magic = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  return `${magic} (${TYPE_CODES[bytes[2] as number]?.dtype ?? 'unknown type'}, rank ${bytes[3]})`;
}

/**
 * Reads an `idx3-ubyte` image file (magic 2051: unsigned bytes, rank 3 `[count, rows, cols]`).
 * Throws a `DATA_FORMAT` {@link BnlabError} naming `source` for any other magic number or rank,
 * for truncated or overlong files, and for a dimension of 0 (no images, or empty images).
 */
export function readIdxImages(bytes: Uint8Array, source: string): IdxImages {
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && (bytes[2] !== 0x08 || bytes[3] !== 3)) {
    throw formatError(
      source,
      `wrong IDX magic number ${describeMagic(bytes)}: an image file must have magic ${IDX_IMAGES_MAGIC} ` + '(unsigned bytes, rank 3)',
    );
  }
  const idx = parseIdx(bytes, source);
  const [count, rows, cols] = idx.shape as [number, number, number];
  if (count === 0) throw formatError(source, `holds 0 images (shape [${idx.shape.join(', ')}]); a dataset needs at least one`);
  if (rows === 0 || cols === 0) {
    throw formatError(source, `holds images of ${rows}×${cols} pixels (shape [${idx.shape.join(', ')}]); both must be positive`);
  }
  return { count, rows, cols, pixels: idx.data as Uint8Array };
}

/**
 * Reads an `idx1-ubyte` label file (magic 2049: unsigned bytes, rank 1). With `numClasses`,
 * also checks every label is in `[0, numClasses)`. Throws a `DATA_FORMAT` {@link BnlabError}
 * naming `source` (and the first bad label's index and value), and for a file of 0 labels.
 */
export function readIdxLabels(bytes: Uint8Array, source: string, numClasses?: number): Uint8Array {
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && (bytes[2] !== 0x08 || bytes[3] !== 1)) {
    throw formatError(
      source,
      `wrong IDX magic number ${describeMagic(bytes)}: a label file must have magic ${IDX_LABELS_MAGIC} ` + '(unsigned bytes, rank 1)',
    );
  }
  const labels = parseIdx(bytes, source).data as Uint8Array;
  if (labels.length === 0) throw formatError(source, 'holds 0 labels; a dataset needs at least one');
  if (numClasses !== undefined) checkLabelRange(labels, numClasses, source);
  return labels;
}

/**
 * Throws a `DATA_FORMAT` {@link BnlabError} naming `source`, the index and the value of the first
 * label outside `[0, numClasses)`.
 */
export function checkLabelRange(labels: Uint8Array, numClasses: number, source: string): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (label >= numClasses) {
      throw formatError(source, `label ${label} at index ${i} is out of range: labels must be in [0, ${numClasses})`);
    }
  }
}
