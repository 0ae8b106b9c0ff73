import { BnlabError } from '@bnlab/core';
import { studentTQuantile } from './student_t.js';

/** A sample's mean with a two-sided confidence interval from Student's t distribution. */
export interface MeanCI {
  /** Number of finite values used. */
  n: number;
  /** Arithmetic mean (NaN when `n` is 0). */
  mean: number;
  /** Sample standard deviation, divisor n − 1 (NaN when `n` < 2). */
  sd: number;
  /** Standard error of the mean, sd / √n (NaN when `n` < 2). */
  se: number;
  /** Half-width of the interval, t(1 − (1 − level)/2, n − 1) · se (NaN when `n` < 2). */
  halfWidth: number;
  /** mean − halfWidth. */
  lower: number;
  /** mean + halfWidth. */
  upper: number;
  /** The confidence level, e.g. 0.95. */
  level: number;
  /** Values left out because they were NaN or infinite. */
  dropped: number;
  /** Smallest finite value (NaN when `n` is 0). */
  min: number;
  /** Largest finite value (NaN when `n` is 0). */
  max: number;
}

/**
 * Fewest values a t-interval is shown for: with two, t has one degree of freedom and the 95%
 * interval is ±12.7 standard errors — wide enough to say nothing — so reports show the range
 * of the values instead.
 */
export const MIN_VALUES_FOR_INTERVAL = 3;

/**
 * The mean of `values` and its two-sided confidence interval at `level` (default 95%),
 * using Student's t with n − 1 degrees of freedom: `mean ± t · sd / √n`. Non-finite values
 * (a diverged run's NaN loss) are left out and counted in `dropped`.
 *
 * @example
 * ```ts
 * meanCI([1, 2, 3, 4, 5]);  // { n: 5, mean: 3, sd: 1.5811…, halfWidth: 1.9632…, … }
 * ```
 */
export function meanCI(values: ArrayLike<number>, level = 0.95): MeanCI {
  if (!(level > 0 && level < 1)) {
    throw new BnlabError('INVALID_ARGUMENT', `level must be strictly between 0 and 1, got ${level}`, {
      where: 'level',
    });
  }
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) finite.push(v);
  }
  const n = finite.length;
  const dropped = values.length - n;
  if (n === 0) {
    return { n, mean: NaN, sd: NaN, se: NaN, halfWidth: NaN, lower: NaN, upper: NaN, level, dropped, min: NaN, max: NaN };
  }
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const mean = finite.reduce((s, v) => s + v, 0) / n;
  if (n === 1) {
    return { n, mean, sd: NaN, se: NaN, halfWidth: NaN, lower: NaN, upper: NaN, level, dropped, min, max };
  }
  // Two passes: the one-pass E[x²] − E[x]² loses everything when |mean| ≫ sd.
  const ss = finite.reduce((s, v) => s + (v - mean) * (v - mean), 0);
  const sd = Math.sqrt(ss / (n - 1));
  const se = sd / Math.sqrt(n);
  const halfWidth = studentTQuantile(1 - (1 - level) / 2, n - 1) * se;
  return { n, mean, sd, se, halfWidth, lower: mean - halfWidth, upper: mean + halfWidth, level, dropped, min, max };
}
