import { BnlabError, Rng } from '@bnlab/core';
import type { Batch, BatchOptions, Dataset } from '@bnlab/core';
import { tensor, tensor1d } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { resolveAugmentation } from './augmentation.js';
import type { ImageAugmentation } from './augmentation.js';
import { ImageAugmenter } from './augmenter.js';
import { computeChannelStats, resolveScaling } from './scaling.js';
import type { ChannelStats, PixelScaling, ResolvedScaling } from './scaling.js';
import { withDefaults } from '../with_defaults.js';

/** What an {@link ImageDataset} is made of. */
export interface ImageDatasetInit {
  /** e.g. `'mnist/train'`. */
  name: string;
  /** All images as bytes, NHWC, `count × H × W × C`. Kept as given (not copied). */
  images: Uint8Array;
  /** One label per image, each below `classNames.length`. */
  labels: Uint8Array;
  /** `[height, width, channels]`. */
  imageShape: readonly [number, number, number];
  classNames: readonly string[];
  /** How batches turn bytes into floats. @default 'unit' */
  scaling?: PixelScaling | ResolvedScaling;
  /**
   * The examples of this dataset, as positions in `images`/`labels` (each below the number of
   * images). @default all, in order
   */
  indices?: Uint32Array;
}

/** How {@link ImageDataset.batches} cuts and augments batches. */
export interface ImageBatchOptions extends BatchOptions {
  /**
   * Random crops and flips of every example, drawn from `seed` (a stream of its own: the order
   * is the same with or without them) and applied as each batch is made. For training batches
   * only. @default none
   */
  augment?: ImageAugmentation;
}

const DEFAULT_BATCH_OPTIONS: Required<Omit<BatchOptions, 'batchSize'>> = { shuffle: false, seed: 0, dropRemainder: false };

function isResolved(s: PixelScaling | ResolvedScaling): s is ResolvedScaling {
  return typeof s === 'object' && s !== null && 'table' in s;
}

/**
 * A labelled image dataset held in memory as bytes (full MNIST: 47 MB, not the 188 MB of
 * float32). {@link ImageDataset.batches} makes float32 tensors one batch at a time; they belong
 * to the consumer, who disposes them, so `tf.memory().numTensors` stays flat over an epoch.
 *
 * {@link ImageDataset.split} and {@link ImageDataset.withScaling} return views that share the
 * bytes.
 *
 * @example
 * ```ts
 * const { train, test } = await mnist.load();
 * const [fit, validation] = train.split(0.1, 42);   // Keras validation_split=0.1, seeded
 * for await (const { xs, ys } of fit.batches({ batchSize: 128, shuffle: true, seed: epoch })) {
 *   // … train on xs [128, 28, 28, 1] float32 in [0, 1], ys [128] int32
 *   xs.dispose(); ys.dispose();
 * }
 * ```
 */
export class ImageDataset implements Dataset {
  readonly name: string;
  readonly size: number;
  readonly imageShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** The scaling batches apply, with its numbers fixed. */
  readonly scaling: ResolvedScaling;
  private readonly images: Uint8Array;
  private readonly labels: Uint8Array;
  private readonly indices: Uint32Array;
  private readonly imageBytes: number;

  /**
   * Checks that the bytes hold a whole number of images, that there is one label per image,
   * every label is below the number of classes and every index below the number of images;
   * throws a `DATA_FORMAT` or `INVALID_ARGUMENT` {@link BnlabError} otherwise.
   */
  constructor(init: ImageDatasetInit) {
    const [h, w, c] = init.imageShape;
    if (![h, w, c].every((d) => Number.isInteger(d) && d > 0)) {
      throw new BnlabError('INVALID_ARGUMENT', `imageShape [${init.imageShape.join(', ')}] must hold three positive integers`, {
        where: 'imageShape',
      });
    }
    if (init.classNames.length === 0 || init.classNames.length > 256) {
      throw new BnlabError('INVALID_ARGUMENT', `classNames has ${init.classNames.length} names; it needs 1 to 256`, {
        where: 'classNames',
      });
    }
    this.imageBytes = h * w * c;
    if (init.images.length % this.imageBytes !== 0) {
      throw new BnlabError(
        'DATA_FORMAT',
        `${init.name}: ${init.images.length} image bytes are not a whole number of ${h}×${w}×${c} images`,
        { where: init.name },
      );
    }
    const count = init.images.length / this.imageBytes;
    if (init.labels.length !== count) {
      throw new BnlabError(
        'DATA_FORMAT',
        `${init.name}: ${init.labels.length} labels for ${count} images; there must be one label per image`,
        { where: init.name },
      );
    }
    const numClasses = init.classNames.length;
    if (init.indices !== undefined) {
      for (let i = 0; i < init.indices.length; i++) {
        if ((init.indices[i] as number) >= count) {
          throw new BnlabError(
            'INVALID_ARGUMENT',
            `${init.name}: indices[${i}] is ${init.indices[i]}, beyond the ${count} images: indices must be in [0, ${count})`,
            { where: 'indices' },
          );
        }
      }
    } else {
      // Labels are checked once, when the bytes first become a dataset; views share them.
      for (let i = 0; i < count; i++) {
        if ((init.labels[i] as number) >= numClasses) {
          throw new BnlabError(
            'DATA_FORMAT',
            `${init.name}: label ${init.labels[i]} of example ${i} is out of range: labels must be in [0, ${numClasses})`,
            { where: init.name },
          );
        }
      }
    }
    this.name = init.name;
    this.images = init.images;
    this.labels = init.labels;
    this.imageShape = [h, w, c];
    this.classNames = [...init.classNames];
    this.numClasses = numClasses;
    this.indices = init.indices ?? Uint32Array.from({ length: count }, (_, i) => i);
    this.size = this.indices.length;
    const scaling = init.scaling ?? 'unit';
    this.scaling = isResolved(scaling) ? scaling : resolveScaling(scaling, c, () => this.channelStats());
  }

  /**
   * Batches of `{xs, ys, size}`: `xs` float32 `[n, H, W, C]` scaled by {@link ImageDataset.scaling},
   * `ys` int32 `[n]`. With `shuffle`, the order is a permutation seeded by `seed` (the same seed
   * gives the same order, in Node and browsers). Tensors are made when a batch is requested, two
   * per batch, and belong to the consumer. With `augment`, each example is cropped and flipped
   * as its bytes are copied into the batch ({@link ImageAugmentation}), seeded by `seed` too.
   */
  async *batches(options: ImageBatchOptions): AsyncGenerator<Batch, void, undefined> {
    const { batchSize } = options;
    const { shuffle, seed, dropRemainder } = withDefaults(options, DEFAULT_BATCH_OPTIONS);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new BnlabError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}`, {
        where: 'batchSize',
      });
    }
    const augmentation = options.augment !== undefined ? resolveAugmentation(options.augment, this.imageShape) : undefined;
    const augmenter =
      augmentation !== undefined && (augmentation.padding > 0 || augmentation.flip)
        ? new ImageAugmenter({ augmentation, imageShape: this.imageShape, table: this.scaling.table, seed })
        : undefined;
    let order = this.indices;
    if (shuffle) {
      const permutation = new Rng(seed).permutation(this.size);
      order = new Uint32Array(this.size);
      for (let i = 0; i < this.size; i++) order[i] = this.indices[permutation[i] as number] as number;
    }
    for (let start = 0; start < this.size; start += batchSize) {
      const n = Math.min(batchSize, this.size - start);
      if (n < batchSize && dropRemainder) return;
      yield this.makeBatch(order.subarray(start, start + n), augmenter);
    }
  }

  /**
   * Splits off the last `fraction` of the examples after a shuffle seeded by `seed`, as Keras's
   * `validation_split` does (there without the shuffle): `[rest, heldOut]` with
   * `heldOut.size = size − floor(size × (1 − fraction))`. Both share this dataset's bytes and
   * scaling.
   */
  split(fraction: number, seed = 0): [ImageDataset, ImageDataset] {
    if (!(fraction > 0 && fraction < 1)) {
      throw new BnlabError('INVALID_ARGUMENT', `split fraction must be in (0, 1), got ${fraction}`, {
        where: 'fraction',
      });
    }
    const keep = Math.floor(this.size * (1 - fraction));
    if (keep === 0 || keep === this.size) {
      throw new BnlabError(
        'INVALID_ARGUMENT',
        `split(${fraction}) of ${this.size} examples leaves an empty part; both parts need at least one example`,
        { where: 'fraction' },
      );
    }
    const permutation = new Rng(seed).permutation(this.size);
    const shuffled = new Uint32Array(this.size);
    for (let i = 0; i < this.size; i++) shuffled[i] = this.indices[permutation[i] as number] as number;
    return [
      this.view(`${this.name}[split ${1 - fraction}]`, shuffled.slice(0, keep)),
      this.view(`${this.name}[held out ${fraction}]`, shuffled.slice(keep)),
    ];
  }

  /** The examples at `positions` (0 ≤ position < size), in that order, as a view on the same bytes. */
  subset(positions: ArrayLike<number>, name = `${this.name}[subset]`): ImageDataset {
    const indices = new Uint32Array(positions.length);
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i] as number;
      if (!Number.isInteger(p) || p < 0 || p >= this.size) {
        throw new BnlabError('INVALID_ARGUMENT', `subset position ${p} must be an integer in [0, ${this.size})`, {
          where: 'positions',
        });
      }
      indices[i] = this.indices[p] as number;
    }
    return this.view(name, indices);
  }

  /**
   * The same examples with another scaling, as a view on the same bytes (`'standardize'` uses this
   * dataset's statistics).
   */
  withScaling(scaling: PixelScaling | ResolvedScaling): ImageDataset {
    const resolved = isResolved(scaling) ? scaling : resolveScaling(scaling, this.imageShape[2], () => this.channelStats());
    return new ImageDataset({ ...this.init(), name: this.name, indices: this.indices, scaling: resolved });
  }

  /** Per-channel mean and standard deviation of this dataset's pixels, in [0, 1] units. */
  channelStats(): ChannelStats {
    const [h, w, c] = this.imageShape;
    return computeChannelStats(this.images, h * w, c, this.indices);
  }

  /** The number of examples of each class, indexed by label. */
  labelCounts(): number[] {
    const counts = new Array<number>(this.numClasses).fill(0);
    for (let i = 0; i < this.size; i++) counts[this.labels[this.indices[i] as number] as number]++;
    return counts;
  }

  /** The label of example `i`. */
  label(i: number): number {
    return this.labels[this.position(i)] as number;
  }

  /** The bytes of example `i`, HWC (a view; do not modify). */
  image(i: number): Uint8Array {
    const p = this.position(i);
    return this.images.subarray(p * this.imageBytes, (p + 1) * this.imageBytes);
  }

  /**
   * The whole dataset as one batch of tensors. Only for small sets: full MNIST as float32 is
   * 188 MB; prefer {@link ImageDataset.batches}.
   */
  toTensors(): Batch {
    return this.makeBatch(this.indices);
  }

  private position(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new BnlabError('INVALID_ARGUMENT', `example index ${i} must be an integer in [0, ${this.size})`, {
        where: 'index',
      });
    }
    return this.indices[i] as number;
  }

  private makeBatch(positions: Uint32Array, augmenter?: ImageAugmenter): Batch {
    const n = positions.length;
    const [h, w, c] = this.imageShape;
    const bytes = this.imageBytes;
    const xs = new Float32Array(n * bytes);
    const ys = new Int32Array(n);
    const table = this.scaling.table;
    for (let b = 0; b < n; b++) {
      const p = positions[b] as number;
      ys[b] = this.labels[p] as number;
      const src = p * bytes;
      const dst = b * bytes;
      if (augmenter !== undefined) {
        augmenter.write(this.images, src, xs, dst, augmenter.draw());
      } else if (c === 1) {
        for (let k = 0; k < bytes; k++) xs[dst + k] = table[this.images[src + k] as number] as number;
      } else {
        for (let k = 0, ch = 0; k < bytes; k++) {
          xs[dst + k] = table[ch * 256 + (this.images[src + k] as number)] as number;
          ch = ch + 1 === c ? 0 : ch + 1;
        }
      }
    }
    const xsTensor: Tensor = tensor(xs, [n, h, w, c], 'float32');
    const ysTensor: Tensor = tensor1d(ys, 'int32');
    return { xs: xsTensor, ys: ysTensor, size: n };
  }

  private view(name: string, indices: Uint32Array): ImageDataset {
    return new ImageDataset({ ...this.init(), name, indices, scaling: this.scaling });
  }

  private init(): Omit<ImageDatasetInit, 'name' | 'indices' | 'scaling'> {
    return { images: this.images, labels: this.labels, imageShape: this.imageShape, classNames: this.classNames };
  }
}
