import { BnlabError } from '@bnlab/core';

/**
 * Exponential moving average with bias correction, as TensorBoard's smoothing slider:
 * `m_t = w·m_{t−1} + (1 − w)·x_t`, reported as `m_t / (1 − w^t)` so the curve does not start
 * at zero. Non-finite points are passed through and do not enter the average.
 *
 * @param weight the smoothing weight `w` in [0, 1); 0 returns the values unchanged.
 */
export function emaSmooth(values: ArrayLike<number>, weight = 0.9): number[] {
  if (!(weight >= 0 && weight < 1)) {
    throw new BnlabError('INVALID_ARGUMENT', `smoothing weight must be in [0, 1), got ${weight}`, {
      where: 'weight',
    });
  }
  const out: number[] = [];
  let m = 0;
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    if (!Number.isFinite(x)) {
      out.push(x);
      continue;
    }
    k++;
    m = weight * m + (1 - weight) * x;
    out.push(m / (1 - weight ** k));
  }
  return out;
}
