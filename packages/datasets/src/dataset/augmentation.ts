import { BnlabError, formatValue } from '@bnlab/core';

/**
 * Pixels of black added on each side before a random crop, by default: 4, as in the CIFAR-10
 * recipe of He et al. 2016 (§4.2) and torchvision's `RandomCrop(32, padding=4)`.
 */
export const DEFAULT_CROP_PADDING = 4;

/** A random crop of the image's own size out of the image padded with black on each side. */
export interface RandomCropOptions {
  /**
   * Pixels added on each side; the crop's top-left corner is drawn uniformly from
   * `[0, 2·padding]²` of the padded image. An integer, at least 0 and smaller than the image's
   * height and width (so that every crop keeps part of the image); 0 leaves images as they are.
   * @default 4
   */
  padding?: number;
}

/**
 * Random changes to training images, drawn anew for each example of each batch while the batch
 * is made: nothing is copied but the batch itself. In torchvision's order, as in
 * `Compose([RandomCrop(H, padding=4), RandomHorizontalFlip(), ToTensor(), Normalize(…)])`: the
 * crop, then the flip, on the bytes, then the dataset's scaling. So the padding is black
 * (byte 0) in every scaling: with `'standardize'` a padded pixel is `(0 − mean_c) / std_c`,
 * not 0, exactly as torchvision pads before `Normalize`.
 *
 * @example
 * ```ts
 * train.batches({ batchSize: 128, shuffle: true, seed: epoch, augment: { crop: { padding: 4 }, flip: true } });
 * ```
 */
export interface ImageAugmentation {
  /** A random crop after padding ({@link RandomCropOptions}); `false` or absent: none. */
  crop?: RandomCropOptions | false;
  /** Mirror left–right with probability 1/2 (torchvision's `RandomHorizontalFlip()`). @default false */
  flip?: boolean;
}

/** An {@link ImageAugmentation} checked against an image shape, with its defaults filled in. */
export interface ResolvedAugmentation {
  /** Padding of the random crop; 0 for no crop. */
  readonly padding: number;
  readonly flip: boolean;
}

const AUGMENTATION_KEYS: readonly string[] = ['crop', 'flip'];
const CROP_KEYS: readonly string[] = ['padding'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(where: string, message: string): BnlabError {
  return new BnlabError('INVALID_ARGUMENT', `${where} ${message}`, { where });
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw invalid(`${where}.${key}`, `is not an option (options of ${where}: ${allowed.join(', ')})`);
    }
  }
}

/**
 * Checks `augment` (types, unknown options, the padding against the image size) and fills in
 * its defaults. Images must be `[height, width, channels]`: a crop or flip of anything else
 * (flat features, `[784]`) is refused. Errors are `INVALID_ARGUMENT` {@link BnlabError}s whose
 * `where` is the faulty field, spelled from `field` (e.g. `'augment.crop.padding'`).
 */
export function resolveAugmentation(augment: ImageAugmentation, imageShape: readonly number[], field = 'augment'): ResolvedAugmentation {
  if (!isPlainObject(augment)) {
    throw invalid(field, `must be an object such as { crop: { padding: 4 }, flip: true }, got ${formatValue(augment)}`);
  }
  checkKeys(augment, AUGMENTATION_KEYS, field);
  const { crop, flip = false } = augment;
  if (typeof flip !== 'boolean') throw invalid(`${field}.flip`, `must be true or false, got ${formatValue(flip)}`);
  const cropping = crop !== undefined && crop !== false;
  let padding = 0;
  if (cropping) {
    if (!isPlainObject(crop)) {
      throw invalid(`${field}.crop`, `must be false or an object such as { padding: 4 }, got ${formatValue(crop)}`);
    }
    checkKeys(crop, CROP_KEYS, `${field}.crop`);
    const given: unknown = crop.padding ?? DEFAULT_CROP_PADDING;
    if (typeof given !== 'number' || !Number.isInteger(given) || given < 0) {
      throw invalid(`${field}.crop.padding`, `must be an integer of at least 0, got ${formatValue(given)}`);
    }
    padding = given;
  }
  if ((cropping || flip) && imageShape.length !== 3) {
    throw invalid(
      field,
      `needs images of shape [height, width, channels], got imageShape [${imageShape.join(', ')}] (rank ${imageShape.length})`,
    );
  }
  const [height, width] = imageShape as readonly [number, number, number];
  if (padding > 0 && !(padding < height && padding < width)) {
    throw invalid(
      `${field}.crop.padding`,
      `(${padding}) must be smaller than the image's height (${height}) and width (${width}), so that every crop keeps part of the image`,
    );
  }
  return { padding, flip };
}
