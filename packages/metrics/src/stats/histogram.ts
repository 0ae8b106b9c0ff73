import { BnlabError } from '@bnlab/core';

/** Equal-width bins of a histogram. */
export interface Histogram {
  /** Left edges of the bins; the last bin is closed on the right. */
  edges: number[];
  /** Width of every bin. */
  binWidth: number;
  /** Number of values in each bin. */
  counts: number[];
  /** Number of finite values counted. */
  total: number;
}

/** Options of {@link histogram}. */
export interface HistogramOptions {
  /** Number of bins. @default 40 */
  bins?: number;
  /** Range `[min, max]` of the bins; values outside are not counted. @default the data's range */
  range?: [number, number];
}

/** Counts `values` into equal-width bins (non-finite values are skipped). */
export function histogram(values: ArrayLike<number>, options: HistogramOptions = {}): Histogram {
  const bins = options.bins ?? 40;
  if (!Number.isInteger(bins) || bins < 1) {
    throw new BnlabError('INVALID_ARGUMENT', `bins must be an integer ≥ 1, got ${bins}`, { where: 'bins' });
  }
  let lo = Infinity;
  let hi = -Infinity;
  if (options.range) {
    [lo, hi] = options.range;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
      throw new BnlabError('INVALID_ARGUMENT', `range [${lo}, ${hi}] must be finite with min < max`, {
        where: 'range',
      });
    }
  } else {
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (lo === Infinity) {
      lo = 0;
      hi = 1;
    } else if (hi === lo) {
      lo -= 0.5;
      hi += 0.5;
    }
  }
  const binWidth = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v) || v < lo || v > hi) continue;
    const b = Math.min(bins - 1, Math.floor((v - lo) / binWidth));
    counts[b] = (counts[b] as number) + 1;
    total++;
  }
  const edges = counts.map((_, i) => lo + i * binWidth);
  return { edges, binWidth, counts, total };
}
