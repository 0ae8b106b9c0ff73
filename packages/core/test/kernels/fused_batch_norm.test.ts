/**
 * bnlab's wasm FusedBatchNorm (batch norm with given statistics) against the formula
 * y = (x − mean) · scale / √(variance + ε) + offset evaluated in float64, for channel counts
 * on and off the SIMD width, with and without scale and offset, and a broadcast case that
 * goes back to tfjs's own kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { Rng } from '../../src/rng.js';
import { randn } from '../support/backends.js';

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

function reference(
  x: Float32Array,
  c: number,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  offset?: Float32Array,
  scale?: Float32Array,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = i % c;
    y[i] = ((x[i]! - mean[ch]!) * (scale ? scale[ch]! : 1)) / Math.sqrt(variance[ch]! + eps) + (offset ? offset[ch]! : 0);
  }
  return y;
}

describe.each([
  { shape: [3, 5, 4, 8], affine: true },
  { shape: [7, 6], affine: true },
  { shape: [2, 3, 3, 5], affine: false },
  { shape: [4, 1, 1, 12], affine: false },
])('FusedBatchNorm $shape (scale and offset: $affine)', ({ shape, affine }) => {
  test('equals the float64 formula', () => {
    const rng = new Rng(71);
    const c = shape[shape.length - 1]!;
    const n = shape.reduce((a, b) => a * b, 1);
    // Large mean, small spread: the centring must come before the scaling.
    const x = Float32Array.from(randn(rng, n), (v) => 1000 + v);
    const mean = Float32Array.from(randn(rng, c), (v) => 1000 + 0.1 * v);
    const variance = Float32Array.from(randn(rng, c), (v) => 0.5 + v * v);
    const offset = affine ? randn(rng, c) : undefined;
    const scale = affine ? randn(rng, c) : undefined;
    const y = tf
      .batchNorm(
        tf.tensor(x, shape),
        tf.tensor1d(mean),
        tf.tensor1d(variance),
        offset && tf.tensor1d(offset),
        scale && tf.tensor1d(scale),
        1e-3,
      )
      .dataSync();
    const want = reference(x, c, mean, variance, 1e-3, offset, scale);
    let worst = 0;
    want.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(y[i]! - v));
    });
    // float32 x − mean is exact here to ~6e-5 (ulp of 1000); scaled by at most |γ|/σ.
    expect(worst).toBeLessThan(1e-3);
  });
});

test('statistics of another shape than [C] (broadcast) go to tfjs-wasm and stay right', () => {
  const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const y = tf.batchNorm(x, tf.scalar(2), tf.scalar(4), undefined, undefined, 0).dataSync();
  expect(Array.from(y)).toEqual([-0.5, 0, 0.5, 1, 1.5, 2]);
});
