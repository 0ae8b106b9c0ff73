import { add, clone, customGrad, mean, mul, reshape, rsqrt, slice, square, sub, zerosLike } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

/** What {@link standardize} returns: the standardized input and the statistics it used. */
export interface Standardized {
  /** `(x − mean) / sqrt(variance + epsilon)`, shaped like the input. */
  normalized: Tensor;
  /** Mean over the reduced axes, kept as size-1 dimensions. */
  mean: Tensor;
  /** Biased (divide-by-N) variance over the reduced axes, kept as size-1 dimensions. */
  variance: Tensor;
}

/**
 * The one routine every bnlab normalization is built on: mean and biased variance of `x` over
 * `axes`, then `(x − mean) / sqrt(variance + epsilon)`.
 *
 * Float32 needs care here. The one-pass `E[x²] − E[x]²` cancels catastrophically when
 * |mean| ≫ std (inputs around 1e4 with unit spread lose every significant digit, and the
 * "variance" can go negative), so the variance is the mean of the squared *centered* values
 * (two passes). Before that, the data are shifted by one of their own values per group
 * ("shifted data" algorithm): `x − shift` is exact for nearby values, so the mean of the
 * shifted values, and the centering, lose nothing to a large common offset; constant inputs
 * come out exactly zero. The output does not depend on the shift, so no gradient flows
 * through it; all other gradients come from tfjs's autodiff through these elementary ops
 * (including the terms through the mean and the variance), on every backend.
 */
export function standardize(x: Tensor, axes: number[], epsilon: number): Standardized {
  const size = x.shape.map((d, a) => (axes.includes(a) ? 1 : d));
  const shift = stopGradient(slice(x, new Array<number>(x.rank).fill(0), size));
  const shifted = sub(x, shift);
  const shiftedMean = mean(shifted, axes, true);
  const centered = sub(shifted, shiftedMean);
  const variance = mean(square(centered), axes, true);
  return {
    normalized: mul(centered, rsqrt(add(variance, epsilon))),
    mean: add(shiftedMean, shift),
    variance,
  };
}

/** `(x − mean) / sqrt(variance + epsilon)` with given statistics (inference-mode batch norm). */
export function normalizeWith(x: Tensor, m: Tensor, variance: Tensor, epsilon: number): Tensor {
  return mul(sub(x, m), rsqrt(add(variance, epsilon)));
}

/**
 * Group standardization: splits the channel axis of `x` into `groups` groups of consecutive
 * channels and standardizes each sample and group over everything else except the batch axis.
 * `groups = 1` is layer normalization over all non-batch axes, `groups = channels` instance
 * normalization.
 */
export function groupStandardize(x: Tensor, channelAxis: number, groups: number, epsilon: number): Tensor {
  const shape = x.shape;
  const channels = shape[channelAxis]!;
  const grouped = [...shape.slice(0, channelAxis), groups, channels / groups, ...shape.slice(channelAxis + 1)];
  const axes: number[] = [];
  for (let a = 1; a < grouped.length; a++) if (a !== channelAxis) axes.push(a);
  return reshape(standardize(reshape(x, grouped), axes, epsilon).normalized, shape);
}

/**
 * `y · gamma + beta` with gamma and beta (either may be absent) reshaped to `broadcastShape`.
 * Missing weights are skipped, never read: tfjs's own layers crash here (tfjs issue 2868).
 */
export function affine(y: Tensor, gamma: Tensor | null, beta: Tensor | null, broadcastShape: number[]): Tensor {
  let out = y;
  if (gamma !== null) out = mul(out, reshape(gamma, broadcastShape));
  if (beta !== null) out = add(out, reshape(beta, broadcastShape));
  return out;
}

/** The identity whose gradient is zero (tfjs has no `stopGradient`). */
export const stopGradient: (x: Tensor) => Tensor = customGrad((...inputs) => ({
  value: clone(inputs[0] as Tensor),
  gradFunc: (dy: Tensor) => zerosLike(dy),
})) as (x: Tensor) => Tensor;
