import {
  add,
  clone,
  customGrad,
  engine,
  fill,
  gather,
  matMul,
  mean,
  mul,
  reshape,
  rsqrt,
  square,
  sub,
  tile,
  zerosLike,
} from '@tensorflow/tfjs-core';
import type { GradSaveFunc, Tensor, Tensor3D } from '@tensorflow/tfjs-core';
import { groupNorm, groupNormAvailable, standardizeTrailing } from '@bnlab/core';

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
  const shift = shiftOf(x, axes);
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

/**
 * `standardize(x, axes, epsilon).normalized` with a closed-form gradient, for the norms whose
 * statistics go nowhere else (layer, group, instance normalization).
 *
 * Autodiff through `standardize` takes ~20 kernels, several of them full-size broadcasts (and
 * the gradient of the shift's slice, a zero-padded copy of the input, though it contributes
 * nothing). With `x̂` the output and `r = 1 / sqrt(variance + epsilon)`, the exact gradient of
 * the biased-variance standardization is
 *
 *   dx = r · (dy − mean(dy) − x̂ · mean(dy · x̂))   (means over `axes`)
 *
 * (Ioffe & Szegedy, 2015, section 3, collapsed), five full-size element-wise passes and two
 * reductions. The forward pass is `standardize`'s, shift included, so values are unchanged.
 */
export function normalizeOver(x: Tensor, axes: number[], epsilon: number): Tensor {
  const fused = viaGroupNorm(x, axes, epsilon);
  if (fused) return fused;
  const op = customGrad((...args) => {
    const [input, save] = args as [Tensor, GradSaveFunc];
    const { normalized, variance } = standardize(input, axes, epsilon);
    save([normalized, rsqrt(add(variance, epsilon)), input]);
    return {
      value: normalized,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        let [xHat, r] = saved as [Tensor, Tensor];
        if (engine().state.gradientDepth > 0) {
          // A tape records this gradient (a gradient of a gradient): recompute x̂ and r from
          // the input so that the tape can trace them back to it.
          const again = standardize(saved[2] as Tensor, axes, epsilon);
          [xHat, r] = [again.normalized, rsqrt(add(again.variance, epsilon))];
        }
        const meanDy = mean(dy, axes, true);
        const meanDyXHat = mean(mul(dy, xHat), axes, true);
        return mul(sub(sub(dy, meanDy), mul(xHat, meanDyXHat)), r);
      },
    };
  }) as (x: Tensor) => Tensor;
  return op(x);
}

/**
 * {@link normalizeOver} as core's fused `groupNorm` (one group), when `axes` are the trailing
 * axes of a float32 tensor (e.g. layer normalization over the last axis: `[rows, 1, features]`)
 * and the active backend has its kernels; else null.
 */
function viaGroupNorm(x: Tensor, axes: number[], epsilon: number): Tensor | null {
  const sorted = [...axes].sort((a, b) => a - b);
  const first = sorted[0];
  const trailing = first !== undefined && first >= 1 && sorted.every((a, i) => a === first + i) && sorted[sorted.length - 1] === x.rank - 1;
  if (!trailing || x.dtype !== 'float32' || x.size === 0 || !groupNormAvailable()) return null;
  return standardizeTrailing(x, first, epsilon);
}

/**
 * The values at index 0 of every axis in `axes` (those axes kept with size 1): the shift of
 * {@link standardize}. As gathers, largest axis first, each copying only its output; tfjs's
 * wasm `Slice` kernel takes time in proportion to the whole input even for one row.
 */
export function firstAlong(x: Tensor, axes: number[]): Tensor {
  const order = [...axes].sort((a, b) => x.shape[b]! - x.shape[a]!);
  return order.reduce((t, axis) => (t.shape[axis] === 1 ? t : gather(t, [0], axis)), x);
}

/**
 * {@link firstAlong} as a constant to autodiff. The gathers run inside the custom gradient's
 * forward pass, which the tape does not record (tfjs-backend-wasm has no kernel for the
 * gather's own gradient, `UnsortedSegmentSum`).
 */
function shiftOf(x: Tensor, axes: number[]): Tensor {
  const op = customGrad((...args) => {
    const input = args[0] as Tensor;
    return { value: firstAlong(input, axes), gradFunc: () => zerosLike(input) };
  }) as (x: Tensor) => Tensor;
  return op(x);
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
  if (channelAxis === x.rank - 1 && x.rank >= 3 && x.size > 0) return groupStandardizeChannelsLast(x, groups, epsilon);
  const grouped = [...shape.slice(0, channelAxis), groups, channels / groups, ...shape.slice(channelAxis + 1)];
  const axes: number[] = [];
  for (let a = 1; a < grouped.length; a++) if (a !== channelAxis) axes.push(a);
  return reshape(normalizeOver(reshape(x, grouped), axes, epsilon), shape);
}

/**
 * {@link groupStandardize} for channels-last `x` (`[N, …positions, C]`): core's fused
 * `groupNorm` kernel where the backend has it (wasm, cpu), else the same maths laid out for
 * fast tfjs kernels, with the closed-form gradient of {@link normalizeOver}.
 *
 * Viewed as `[N, P, C]` (P positions), every full-size element-wise op broadcasts per-channel
 * values `[N, 1, C]` over the positions, with contiguous channels innermost; the
 * `[N, H, W, G, C/G]` view with `[N, 1, 1, G, 1]` statistics made tfjs-wasm broadcast one
 * value at a time, and its reductions over axes (1, 2, 4) transpose the whole input first.
 * Group means are per-channel means over the positions (a `[1, P] × [P, C]` product per
 * sample), then averaged over each group's channels (all channels have P values) and
 * repeated back per channel. The shift is the first position's value of each group's first
 * channel, as in {@link standardize}.
 */
function groupStandardizeChannelsLast(x: Tensor, groups: number, epsilon: number): Tensor {
  const n = x.shape[0]!;
  const c = x.shape[x.rank - 1]!;
  const p = x.size / (n * c);
  if (x.dtype === 'float32' && groupNormAvailable()) {
    // Core's fused kernel (wasm and cpu): the same maths in one pass per statistic.
    return reshape(groupNorm(reshape(x, [n, p, c]) as Tensor3D, groups, epsilon), x.shape);
  }
  const k = c / groups;
  const perChannel = (t: Tensor): Tensor => (k === 1 ? t : reshape(tile(t, [1, 1, k]), [n, 1, c]));
  const groupMean = (t: Tensor): Tensor => {
    const channelMeans = matMul(fill([n, 1, p], 1 / p), t);
    return k === 1 ? channelMeans : perChannel(mean(reshape(channelMeans, [n, groups, k]), 2, true));
  };
  const standardizeGroups = (input: Tensor): [Tensor, Tensor] => {
    const x3 = reshape(input, [n, p, c]);
    const first = gather(x3, [0], 1);
    const shift = k === 1 ? first : perChannel(gather(reshape(first, [n, groups, k]), [0], 2));
    const shifted = sub(x3, shift);
    const centered = sub(shifted, groupMean(shifted));
    const r = rsqrt(add(groupMean(square(centered)), epsilon));
    return [mul(centered, r), r];
  };
  const op = customGrad((...args) => {
    const [input, save] = args as [Tensor, GradSaveFunc];
    const [xHat, r] = standardizeGroups(input);
    save([xHat, r, input]);
    return {
      value: reshape(xHat, input.shape),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        // For a gradient of a gradient, x̂ and r again from the input (traceable by the tape).
        const [xh, invStd] = engine().state.gradientDepth > 0 ? standardizeGroups(saved[2] as Tensor) : (saved as [Tensor, Tensor]);
        const dy3 = reshape(dy, [n, p, c]);
        const dx = mul(sub(sub(dy3, groupMean(dy3)), mul(xh, groupMean(mul(dy3, xh)))), invStd);
        return reshape(dx, input.shape);
      },
    };
  }) as (x: Tensor) => Tensor;
  return op(x);
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
