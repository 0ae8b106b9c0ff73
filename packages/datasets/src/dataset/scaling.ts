import { BnlabError } from '@bnlab/core';

/**
 * How bytes become floats in a batch:
 * - `'unit'`: `x / 255`, in [0, 1] (Keras `x / 255.0`; torchvision `ToTensor`);
 * - `'raw'`: `x` as a float, in [0, 255];
 * - `'standardize'`: per channel `(x / 255 − mean_c) / std_c`, with the mean and standard deviation
 *   of the training split (loaders compute them once and apply them to every split);
 * - `{ mean, std }`: the same with given per-channel values in [0, 1] units (e.g. MNIST's
 *   `{ mean: [0.1307], std: [0.3081] }`, torchvision's `Normalize`).
 */
export type PixelScaling = 'unit' | 'raw' | 'standardize' | ChannelStats;

/** Per-channel mean and standard deviation of pixels scaled to [0, 1]. */
export interface ChannelStats {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * A scaling with its numbers fixed: a per-channel affine map `x ↦ x * scale_c + shift_c` from the
 * byte `x`, as a lookup table of `256 × channels` float32 values.
 */
export interface ResolvedScaling {
  /** What was asked for (`'standardize'` is resolved to its numbers in {@link ResolvedScaling.stats}). */
  readonly kind: 'unit' | 'raw' | 'standardize';
  /** The mean and std applied, for `'standardize'`. */
  readonly stats?: ChannelStats;
  /** `table[c * 256 + x]` is the float of byte `x` in channel `c`. */
  readonly table: Float32Array;
}

/**
 * Fixes a {@link PixelScaling} for `channels` channels. `'standardize'` needs `trainStats`
 * (the training split's {@link ChannelStats}). Throws `INVALID_ARGUMENT` for a std that is not
 * positive or a mean/std whose length is not `channels`.
 */
export function resolveScaling(scaling: PixelScaling, channels: number, trainStats?: () => ChannelStats): ResolvedScaling {
  const table = new Float32Array(256 * channels);
  if (scaling === 'unit' || scaling === 'raw') {
    const factor = scaling === 'unit' ? 1 / 255 : 1;
    for (let c = 0; c < channels; c++) for (let x = 0; x < 256; x++) table[c * 256 + x] = x * factor;
    return { kind: scaling, table };
  }
  let stats: ChannelStats;
  if (scaling === 'standardize') {
    if (trainStats === undefined) {
      throw new BnlabError('INVALID_ARGUMENT', "scaling 'standardize' needs the training split's statistics", {
        where: 'scaling',
      });
    }
    stats = trainStats();
  } else if (typeof scaling === 'object' && scaling !== null && Array.isArray(scaling.mean) && Array.isArray(scaling.std)) {
    stats = scaling;
  } else {
    throw new BnlabError(
      'INVALID_ARGUMENT',
      `scaling must be 'unit', 'raw', 'standardize' or { mean, std }, got ${JSON.stringify(scaling)}`,
      { where: 'scaling' },
    );
  }
  if (stats.mean.length !== channels || stats.std.length !== channels) {
    throw new BnlabError(
      'INVALID_ARGUMENT',
      `scaling mean (${stats.mean.length} values) and std (${stats.std.length} values) must have one value per ` + `channel (${channels})`,
      { where: 'scaling' },
    );
  }
  for (let c = 0; c < channels; c++) {
    const mean = stats.mean[c] as number;
    const std = stats.std[c] as number;
    if (!Number.isFinite(mean) || !(std > 0) || !Number.isFinite(std)) {
      throw new BnlabError(
        'INVALID_ARGUMENT',
        `scaling of channel ${c}: mean (${mean}) must be finite and std (${std}) finite and positive`,
        { where: 'scaling' },
      );
    }
    for (let x = 0; x < 256; x++) table[c * 256 + x] = (x / 255 - mean) / std;
  }
  return { kind: 'standardize', stats: { mean: [...stats.mean], std: [...stats.std] }, table };
}

/**
 * Per-channel mean and (population) standard deviation, in [0, 1] units, of the pixels of the
 * images at `indices` in an NHWC byte array. Exact: counts byte values per channel, so there is
 * no rounding drift however many pixels there are.
 */
export function computeChannelStats(
  images: Uint8Array,
  pixelsPerImage: number,
  channels: number,
  indices: ArrayLike<number>,
): ChannelStats {
  const counts = new Float64Array(256 * channels);
  const imageBytes = pixelsPerImage * channels;
  for (let i = 0; i < indices.length; i++) {
    const start = (indices[i] as number) * imageBytes;
    if (channels === 1) {
      for (let k = start; k < start + imageBytes; k++) counts[images[k] as number]++;
    } else {
      for (let k = start, c = 0; k < start + imageBytes; k++) {
        counts[c * 256 + (images[k] as number)]++;
        c = c + 1 === channels ? 0 : c + 1;
      }
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let n = 0;
    let sum = 0;
    for (let x = 0; x < 256; x++) {
      const k = counts[c * 256 + x] as number;
      n += k;
      sum += k * x;
    }
    const m = n > 0 ? sum / n : 0;
    let sq = 0;
    for (let x = 0; x < 256; x++) sq += (counts[c * 256 + x] as number) * (x - m) ** 2;
    mean.push(m / 255);
    std.push(n > 0 ? Math.sqrt(sq / n) / 255 : 0);
  }
  return { mean, std };
}
