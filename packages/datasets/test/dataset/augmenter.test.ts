import { Rng } from '@bnlab/core';
import { ImageAugmenter } from '../../src/dataset/augmenter.js';
import type { AugmentationDraw } from '../../src/dataset/augmenter.js';
import { resolveScaling } from '../../src/dataset/scaling.js';

type Shape = readonly [number, number, number];

/** An augmenter with 'raw' scaling (floats equal the bytes) unless a table is given. */
function augmenter(shape: Shape, padding: number, flip: boolean, seed = 0, table?: Float32Array): ImageAugmenter {
  return new ImageAugmenter({
    augmentation: { padding, flip },
    imageShape: shape,
    table: table ?? resolveScaling('raw', shape[2]).table,
    seed,
  });
}

function apply(a: ImageAugmenter, shape: Shape, image: Uint8Array, draw: AugmentationDraw): number[] {
  // NaN shows a float left unwritten.
  const out = new Float32Array(shape[0] * shape[1] * shape[2]).fill(NaN);
  a.write(image, 0, out, 0, draw);
  return Array.from(out);
}

/**
 * An independent reference: pads the image with black for real, cuts the crop, mirrors it,
 * then scales each byte with the table.
 */
function reference(shape: Shape, image: Uint8Array, padding: number, draw: AugmentationDraw, table: Float32Array): number[] {
  const [h, w, c] = shape;
  const ph = h + 2 * padding;
  const pw = w + 2 * padding;
  const padded = new Uint8Array(ph * pw * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) padded[((y + padding) * pw + x + padding) * c + k] = image[(y * w + x) * c + k] as number;
  const out: number[] = [];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const cx = draw.flip ? w - 1 - x : x;
      for (let k = 0; k < c; k++) out.push(table[k * 256 + (padded[((y + draw.top) * pw + cx + draw.left) * c + k] as number)] as number);
    }
  return out;
}

/** A 3×3 single-channel image with distinct bytes 1…9, row by row. */
const NINE = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
const S3: Shape = [3, 3, 1];

describe('ImageAugmenter', () => {
  it('crops a 3×3 image padded by 1 at a known offset, exactly', () => {
    const a = augmenter(S3, 1, true);
    expect(apply(a, S3, NINE, { top: 1, left: 1, flip: false })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(apply(a, S3, NINE, { top: 0, left: 0, flip: false })).toEqual([0, 0, 0, 0, 1, 2, 0, 4, 5]);
    expect(apply(a, S3, NINE, { top: 2, left: 1, flip: false })).toEqual([4, 5, 6, 7, 8, 9, 0, 0, 0]);
    expect(apply(a, S3, NINE, { top: 1, left: 2, flip: false })).toEqual([2, 3, 0, 5, 6, 0, 8, 9, 0]);
    expect(apply(a, S3, NINE, { top: 2, left: 2, flip: false })).toEqual([5, 6, 0, 8, 9, 0, 0, 0, 0]);
  });

  it('flips after cropping (torchvision order), exactly', () => {
    const a = augmenter(S3, 1, true);
    expect(apply(a, S3, NINE, { top: 1, left: 1, flip: true })).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7]);
    // The crop [0 0 0; 0 1 2; 0 4 5], mirrored.
    expect(apply(a, S3, NINE, { top: 0, left: 0, flip: true })).toEqual([0, 0, 0, 2, 1, 0, 5, 4, 0]);
    expect(apply(a, S3, NINE, { top: 1, left: 2, flip: true })).toEqual([0, 3, 2, 0, 6, 5, 0, 9, 8]);
  });

  it('keeps the channels of a pixel together and pads every channel with the scaled black', () => {
    const shape: Shape = [1, 2, 3];
    const image = Uint8Array.from([10, 20, 30, 40, 50, 60]);
    const stats = { mean: [0.5, 0.2, 0.3], std: [0.25, 0.5, 0.1] };
    const table = resolveScaling(stats, 3).table;
    const out = apply(augmenter(shape, 1, true, 0, table), shape, image, { top: 1, left: 0, flip: true });
    // The crop is [black, pixel 0]; mirrored: [pixel 0, black].
    const scaled = (x: number, k: number) => (x / 255 - (stats.mean[k] as number)) / (stats.std[k] as number);
    const expected = [scaled(10, 0), scaled(20, 1), scaled(30, 2), -2, -0.4, -3];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 5));
  });

  it('matches the reference for every offset and flip, for 1, 2, 3 and 4 channels and every scaling', () => {
    const rng = new Rng(7);
    for (const shape of [
      [5, 4, 1],
      [4, 5, 2],
      [6, 6, 3],
      [3, 5, 4],
    ] as Shape[]) {
      const image = Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, () => rng.int(256));
      for (const scaling of ['unit', 'raw', { mean: Array(shape[2]).fill(0.4), std: Array(shape[2]).fill(0.2) }] as const) {
        const table = resolveScaling(scaling, shape[2]).table;
        for (const padding of [1, 2, 3]) {
          const a = augmenter(shape, padding, true, 0, table);
          for (let top = 0; top <= 2 * padding; top++)
            for (let left = 0; left <= 2 * padding; left++)
              for (const flip of [false, true]) {
                const draw = { top, left, flip };
                expect(apply(a, shape, image, draw)).toEqual(reference(shape, image, padding, draw, table));
              }
        }
      }
    }
  });

  it('writes at the given offsets and nowhere else', () => {
    const a = augmenter(S3, 1, true);
    const out = new Float32Array(20).fill(-1);
    const source = new Uint8Array(18);
    source.set(NINE, 9);
    a.write(source, 9, out, 5, { top: 1, left: 1, flip: true });
    expect(Array.from(out)).toEqual([-1, -1, -1, -1, -1, 3, 2, 1, 6, 5, 4, 9, 8, 7, -1, -1, -1, -1, -1, -1]);
  });

  it('flipping twice restores the image', () => {
    const shape: Shape = [4, 5, 3];
    const rng = new Rng(3);
    const image = Uint8Array.from({ length: 60 }, () => rng.int(256));
    const a = augmenter(shape, 0, true);
    const once = Uint8Array.from(apply(a, shape, image, { top: 0, left: 0, flip: true }));
    expect(Array.from(once)).not.toEqual(Array.from(image));
    expect(apply(a, shape, once, { top: 0, left: 0, flip: true })).toEqual(Array.from(image));
  });

  it('draws the same stream for the same seed, another for another seed', () => {
    const draws = (seed: number) => {
      const a = augmenter([32, 32, 3], 4, true, seed);
      return Array.from({ length: 50 }, () => a.draw());
    };
    expect(draws(1)).toEqual(draws(1));
    // Pinned: Rng's integer arithmetic gives these on every platform; a change here changes
    // every augmented run ever recorded.
    expect(draws(1).slice(0, 4)).toEqual([
      { top: 1, left: 0, flip: false },
      { top: 2, left: 6, flip: true },
      { top: 2, left: 7, flip: false },
      { top: 0, left: 4, flip: false },
    ]);
    expect(draws(2)).not.toEqual(draws(1));
    // Not the shuffle's stream: the offsets are not Rng(seed)'s first numbers.
    const shuffleStream = new Rng(1);
    expect(
      draws(1)
        .slice(0, 5)
        .map((d) => d.top),
    ).not.toEqual(Array.from({ length: 5 }, () => shuffleStream.int(9)));
  });

  it('draws nothing that is not asked for: no offsets without crop, no flips without flip', () => {
    const crop = augmenter([8, 8, 1], 2, false, 5);
    const flip = augmenter([8, 8, 1], 0, true, 5);
    for (let i = 0; i < 200; i++) {
      expect(crop.draw().flip).toBe(false);
      const d = flip.draw();
      expect([d.top, d.left]).toEqual([0, 0]);
    }
  });

  it('draws every offset in [0, 2·padding] about equally often and flips about half the time', () => {
    const padding = 4;
    const a = augmenter([32, 32, 3], padding, true, 11);
    const n = 18000;
    const tops = new Array<number>(2 * padding + 1).fill(0);
    const lefts = new Array<number>(2 * padding + 1).fill(0);
    let flips = 0;
    for (let i = 0; i < n; i++) {
      const d = a.draw();
      tops[d.top]++;
      lefts[d.left]++;
      if (d.flip) flips++;
    }
    expect(tops).toHaveLength(9);
    expect(lefts).toHaveLength(9);
    // Each offset: expected 2000, standard deviation about 42.
    for (const count of [...tops, ...lefts]) expect(Math.abs(count - n / 9)).toBeLessThan(250);
    // Flips: expected 9000, standard deviation about 67.
    expect(Math.abs(flips / n - 0.5)).toBeLessThan(0.02);
  });
});
