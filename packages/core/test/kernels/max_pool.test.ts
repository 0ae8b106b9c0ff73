/**
 * bnlab's wasm `MaxPool` (2×2 windows, stride 2, SIMD) against the cpu backend's, on the
 * shapes it covers (even and odd sizes, 'same' on even sizes), the NaN semantics of the cpu
 * backend, and the cases it hands back to tfjs-backend-wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { Rng } from '../../src/rng.js';
import { on, randn } from '../support/backends.js';

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

async function same(
  shape: [number, number, number, number],
  values: Float32Array,
  size: number,
  stride: number,
  pad: 'valid' | 'same',
): Promise<void> {
  const run = (): tf.Tensor[] => [tf.maxPool(tf.tensor4d(values, shape), size, stride, pad)];
  const [w] = await on('wasm', run);
  const [c] = await on('cpu', run);
  // A maximum is one of the inputs: the results must be identical.
  expect(Array.from(w as Float32Array)).toEqual(Array.from(c as Float32Array));
}

describe('MaxPool on wasm', () => {
  it.each([
    { shape: [2, 26, 26, 32], pad: 'valid' }, // the benchmark CNN's first pooling
    { shape: [3, 11, 11, 64], pad: 'valid' }, // odd size: the last row and column are dropped
    { shape: [2, 8, 6, 4], pad: 'same' }, // 'same' on even sizes: no padding
  ] as const)('2×2, stride 2, $shape, $pad, as on cpu', async ({ shape, pad }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    await same([...shape], randn(new Rng(71), n), 2, 2, pad);
  });

  it.each([
    { shape: [2, 7, 7, 3], size: 2, stride: 2, pad: 'valid' }, // channels not a multiple of 4
    { shape: [2, 7, 7, 4], size: 2, stride: 2, pad: 'same' }, // padded windows
    { shape: [2, 9, 9, 4], size: 3, stride: 2, pad: 'valid' }, // overlapping windows
  ] as const)('other windows go to tfjs-wasm: $shape, $size×$size, stride $stride, $pad', async ({ shape, size, stride, pad }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    await same([...shape], randn(new Rng(72), n), size, stride, pad);
  });

  it('ignores NaN in a window as the cpu backend does (-Infinity when all four are NaN)', async () => {
    const v = new Float32Array(2 * 2 * 2 * 4);
    // Window of channel 0: NaN, 1, 2, 3 → 3; channel 1: all NaN → -Infinity;
    // channel 2: 5, NaN, -1, NaN → 5; channel 3: -2, -3, NaN, -1 → -1.
    const ch = [
      [NaN, 1, 2, 3],
      [NaN, NaN, NaN, NaN],
      [5, NaN, -1, NaN],
      [-2, -3, NaN, -1],
    ];
    for (let p = 0; p < 4; p++) for (let c = 0; c < 4; c++) v[p * 4 + c] = ch[c]![p]!;
    const run = (): tf.Tensor[] => [tf.maxPool(tf.tensor4d(v.subarray(0, 16), [1, 2, 2, 4]), 2, 2, 'valid')];
    const [w] = await on('wasm', run);
    const [c] = await on('cpu', run);
    expect(Array.from(w as Float32Array)).toEqual([3, -Infinity, 5, -1]);
    expect(Array.from(c as Float32Array)).toEqual([3, -Infinity, 5, -1]);
  });

  it('MaxPoolGrad 2×2 zeroes the input row and column no window covers (odd sizes), whatever the memory held', async () => {
    tf.setBackend('wasm');
    const shape: [number, number, number, number] = [3, 11, 11, 8];
    const x = tf.tensor4d(randn(new Rng(73), 3 * 11 * 11 * 8), shape);
    const y = tf.maxPool(x, 2, 2, 'valid');
    const dy = tf.onesLike(y);
    // Leave garbage where the gradient will be allocated.
    tf.fill(shape, 7).dispose();
    const dx = tf
      .engine()
      .runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' } as never) as tf.Tensor;
    const v = await dx.data();
    for (let b = 0; b < 3; b++) {
      for (let i = 0; i < 11; i++) {
        for (let c = 0; c < 8; c++) {
          expect(v[((b * 11 + 10) * 11 + i) * 8 + c]).toBe(0); // last row
          expect(v[((b * 11 + i) * 11 + 10) * 8 + c]).toBe(0); // last column
        }
      }
    }
    let total = 0;
    for (const g of v) total += g;
    expect(total).toBe(3 * 5 * 5 * 8); // each window's gradient went somewhere, once
    tf.dispose([x, y, dy, dx]);
  });
});
