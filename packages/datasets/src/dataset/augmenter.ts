import { Rng } from '@bnlab/core';
import type { ResolvedAugmentation } from './augmentation.js';

/** The random choices for one example: where the crop starts in the padded image, and the flip. */
export interface AugmentationDraw {
  /** Row of the padded image the crop starts at, in `[0, 2·padding]`. */
  readonly top: number;
  /** Column of the padded image the crop starts at, in `[0, 2·padding]`. */
  readonly left: number;
  /** Whether the crop is mirrored left–right. */
  readonly flip: boolean;
}

/** What an {@link ImageAugmenter} works with. */
export interface ImageAugmenterInit {
  augmentation: ResolvedAugmentation;
  /** `[height, width, channels]` of every image. */
  imageShape: readonly [number, number, number];
  /** The dataset's scaling table: `table[c * 256 + x]` is the float of byte `x` in channel `c`. */
  table: Float32Array;
  /** Seed of the draws; the same seed gives the same draws on every platform. */
  seed: number;
}

/**
 * Augments images as they are copied into a batch: each call of {@link ImageAugmenter.draw}
 * takes the next example's crop and flip from a seeded stream, {@link ImageAugmenter.write}
 * writes the cropped, flipped and scaled image straight from the dataset's bytes into the
 * batch's floats, so no padded or augmented copy is ever made.
 *
 * The stream is forked from `Rng(seed)` rather than being `Rng(seed)` itself, the stream a
 * shuffle with the same seed uses: turning augmentation on does not change the order of the
 * examples. Per example, in order: `top` and `left` (when cropping), then the flip (when
 * flipping), so the draws of an epoch do not depend on the batch size.
 */
export class ImageAugmenter {
  private readonly rng: Rng;
  private readonly padding: number;
  private readonly flip: boolean;
  private readonly imageShape: readonly [number, number, number];
  private readonly table: Float32Array;
  /** Per channel, the scaled value of a padded (black, byte 0) pixel. */
  private readonly fill: Float32Array;

  constructor(init: ImageAugmenterInit) {
    this.rng = new Rng(init.seed).fork();
    this.padding = init.augmentation.padding;
    this.flip = init.augmentation.flip;
    this.imageShape = init.imageShape;
    this.table = init.table;
    const channels = init.imageShape[2];
    this.fill = Float32Array.from({ length: channels }, (_, c) => init.table[c * 256] as number);
  }

  /** The next example's random choices. */
  draw(): AugmentationDraw {
    const offsets = 2 * this.padding + 1;
    const top = this.padding > 0 ? this.rng.int(offsets) : 0;
    const left = this.padding > 0 ? this.rng.int(offsets) : 0;
    const flip = this.flip && this.rng.uniform() < 0.5;
    return { top, left, flip };
  }

  /**
   * Writes the image whose bytes start at `source[from]` (HWC) into `target` from `to`, as
   * `draw` says: output pixel `(y, x)` is padded pixel `(y + top, x' + left)` with
   * `x' = W − 1 − x` when flipped, else `x` (the crop, then the flip), scaled by the table.
   */
  write(source: Uint8Array, from: number, target: Float32Array, to: number, draw: AugmentationDraw): void {
    const [h, w, c] = this.imageShape;
    const { table, fill } = this;
    const rowLength = w * c;
    // Image coordinates of the crop's corner (negative inside the padding).
    const shiftY = draw.top - this.padding;
    const shiftX = draw.left - this.padding;
    // Output columns [x0, x1) show image pixels; the rest show padding. Walking them, the
    // source column goes up by one (or down by one when flipped).
    const x0 = Math.max(0, draw.flip ? shiftX : -shiftX);
    const x1 = Math.min(w, draw.flip ? w + shiftX : w - shiftX);
    const firstColumn = draw.flip ? w - 1 - x0 + shiftX : x0 + shiftX;
    const step = draw.flip ? -c : c;
    let d = to;
    for (let y = 0; y < h; y++) {
      const sy = y + shiftY;
      if (sy < 0 || sy >= h) {
        for (let k = 0; k < rowLength; k++) target[d + k] = fill[k % c] as number;
        d += rowLength;
        continue;
      }
      for (let x = 0; x < x0; x++) for (let ch = 0; ch < c; ch++) target[d++] = fill[ch] as number;
      let s = from + sy * rowLength + firstColumn * c;
      if (c === 1) {
        for (let x = x0; x < x1; x++, s += step) target[d++] = table[source[s] as number] as number;
      } else if (c === 3) {
        for (let x = x0; x < x1; x++, s += step) {
          target[d++] = table[source[s] as number] as number;
          target[d++] = table[256 + (source[s + 1] as number)] as number;
          target[d++] = table[512 + (source[s + 2] as number)] as number;
        }
      } else {
        for (let x = x0; x < x1; x++, s += step) {
          for (let ch = 0; ch < c; ch++) target[d++] = table[ch * 256 + (source[s + ch] as number)] as number;
        }
      }
      for (let x = x1; x < w; x++) for (let ch = 0; ch < c; ch++) target[d++] = fill[ch] as number;
    }
  }
}
