import { add, mean, mul, rsqrt, square, sub } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

/**
 * The gradient of standardizing `x` over `axes` (biased variance, ε inside the root) from
 * differentiable tfjs ops, recomputed from `x` so that a tape can trace it back (tfjs cannot
 * trace a gradient through a fused kernel's saved outputs): with x̂ = (x − mean) · r and
 * r = 1/√(variance + ε), `dx = r · (dy − mean(dy) − x̂ · mean(dy · x̂))` (means over `axes`).
 * Also returns x̂ and x − mean, for the callers' other gradients.
 */
export function standardizeGradient(
  dy: Tensor,
  x: Tensor,
  axes: number[],
  epsilon: number,
): { dx: Tensor; xHat: Tensor; centered: Tensor } {
  const centered = sub(x, mean(x, axes, true));
  const r = rsqrt(add(mean(square(centered), axes, true), epsilon));
  const xHat = mul(centered, r);
  const dx = mul(sub(sub(dy, mean(dy, axes, true)), mul(xHat, mean(mul(dy, xHat), axes, true))), r);
  return { dx, xHat, centered };
}
