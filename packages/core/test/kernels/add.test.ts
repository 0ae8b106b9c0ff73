/**
 * bnlab's wasm `Add` for a per-channel vector broadcast over a tensor (a bias add) against
 * the cpu backend's, and the adds it hands back to tfjs-backend-wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { Rng } from '../../src/rng.js';
import { on, randn } from '../support/backends.js';

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

async function same(run: () => tf.Tensor[]): Promise<void> {
  const w = await on('wasm', run);
  const c = await on('cpu', run);
  // One float32 addition per element on both: identical results.
  w.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(c[i] as Float32Array)));
}

describe('Add on wasm', () => {
  it.each([
    { x: [4, 6, 6, 32], v: [32] }, // a conv layer's bias
    { x: [5, 12], v: [1, 12] }, // a dense layer's, as [1, C]
    { x: [2, 3, 3, 8], v: [1, 1, 1, 8] },
    { x: [3, 4, 5, 7], v: [7] }, // channels not a multiple of 4: the scalar path
  ])('$x + $v (and the other way round) as on cpu', async ({ x, v }) => {
    const xs = randn(new Rng(81), size(x));
    const vs = randn(new Rng(82), size(v));
    await same(() => [tf.add(tf.tensor(xs, x), tf.tensor(vs, v)), tf.add(tf.tensor(vs, v), tf.tensor(xs, x))]);
  });

  it('propagates NaN and infinities as the cpu backend', async () => {
    await same(() => [
      tf.add(
        tf.tensor2d([
          [NaN, 1, Infinity, -Infinity],
          [2, 3, 4, 5],
        ]),
        tf.tensor1d([1, NaN, -Infinity, 1]),
      ),
    ]);
  });

  it.each([
    { a: [3, 4], b: [3, 4] }, // same shape
    { a: [3, 4], b: [] }, // a scalar
    { a: [3, 4], b: [3, 1] }, // broadcast over the last axis
    { a: [4], b: [4] },
  ])('other adds go to tfjs-wasm: $a + $b', async ({ a, b }) => {
    const as = randn(new Rng(83), size(a));
    const bs = randn(new Rng(84), size(b));
    await same(() => [tf.add(tf.tensor(as, a), tf.tensor(bs, b))]);
  });

  it('int32 adds go to tfjs-wasm', async () => {
    const [w] = await on('wasm', () => [
      tf.add(
        tf.tensor2d(
          [
            [1, 2],
            [3, 4],
          ],
          [2, 2],
          'int32',
        ),
        tf.tensor1d([10, 20], 'int32'),
      ),
    ]);
    expect(Array.from(w as ArrayLike<number>)).toEqual([11, 22, 13, 24]);
  });
});
