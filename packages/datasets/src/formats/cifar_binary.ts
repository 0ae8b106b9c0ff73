import { BnlabError } from '@bnlab/core';

/** Side of a CIFAR image in pixels. */
export const CIFAR_IMAGE_SIZE = 32;
/** Pixel bytes of one CIFAR image: 32 × 32 × 3. */
export const CIFAR_PIXEL_BYTES = CIFAR_IMAGE_SIZE * CIFAR_IMAGE_SIZE * 3;
/** Bytes of one CIFAR-10 binary record: 1 label byte, then 1024 red, 1024 green, 1024 blue bytes. */
export const CIFAR10_RECORD_BYTES = 1 + CIFAR_PIXEL_BYTES;

/** Records of one CIFAR-10 binary batch file, with the pixels turned to NHWC. */
export interface CifarRecords {
  readonly count: number;
  /** `count × 32 × 32 × 3` bytes, NHWC (each pixel's R, G, B together). */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
}

/**
 * Reads a CIFAR-10 binary batch file (`data_batch_1.bin` … `data_batch_5.bin`,
 * `test_batch.bin`): records of 3073 bytes, a label byte then the image as 1024 red, 1024 green
 * and 1024 blue bytes, each plane row-major (CHW). The images are returned as HWC.
 *
 * Throws a `DATA_FORMAT` {@link BnlabError} naming `source` when the file is empty, its size is
 * not a multiple of 3073, or a label is not below `numClasses`.
 *
 * @param bytes the whole file
 * @param source the file name or URL, for error messages
 * @param numClasses labels must be below this @default 10
 */
export function readCifarBinary(bytes: Uint8Array, source: string, numClasses = 10): CifarRecords {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
    throw new BnlabError(
      'DATA_FORMAT',
      `${source}: size ${bytes.length} bytes is not a positive multiple of ${CIFAR10_RECORD_BYTES} ` +
        `(1 label byte + ${CIFAR_PIXEL_BYTES} pixel bytes per record): ${whole} whole records and ` +
        `${bytes.length - whole * CIFAR10_RECORD_BYTES} bytes left over`,
      { where: source },
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const images = new Uint8Array(count * CIFAR_PIXEL_BYTES);
  const labels = new Uint8Array(count);
  const plane = CIFAR_IMAGE_SIZE * CIFAR_IMAGE_SIZE;
  for (let r = 0; r < count; r++) {
    const at = r * CIFAR10_RECORD_BYTES;
    const label = bytes[at] as number;
    if (label >= numClasses) {
      throw new BnlabError(
        'DATA_FORMAT',
        `${source}: label ${label} of record ${r} (byte ${at}) is out of range: labels must be in [0, ${numClasses})`,
        { where: source },
      );
    }
    labels[r] = label;
    const out = r * CIFAR_PIXEL_BYTES;
    const red = at + 1;
    for (let p = 0; p < plane; p++) {
      const o = out + 3 * p;
      images[o] = bytes[red + p] as number;
      images[o + 1] = bytes[red + plane + p] as number;
      images[o + 2] = bytes[red + 2 * plane + p] as number;
    }
  }
  return { count, images, labels };
}

/**
 * Reads `batches.meta.txt`: one class name per line, in label order; blank lines (the official
 * file ends with one) are ignored. With `numClasses`, throws a `DATA_FORMAT` {@link BnlabError}
 * naming `source` unless exactly that many names are listed.
 */
export function readCifarMeta(bytes: Uint8Array, source: string, numClasses?: number): string[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (numClasses !== undefined && names.length !== numClasses) {
    throw new BnlabError('DATA_FORMAT', `${source}: lists ${names.length} class names; it must list exactly ${numClasses}, one per line`, {
      where: source,
    });
  }
  return names;
}
