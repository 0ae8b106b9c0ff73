import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { Rng } from '../../src/rng.js';
import { on, randn } from '../support/backends.js';

beforeAll(async () => {
  await initBackend({ strict: true });
});

describe('Tile on wasm', () => {
  it('tiles a hand-worked 2×2 example', async () => {
    const [t] = await on('wasm', () => [tf.tile(tf.tensor2d([1, 2, 3, 4], [2, 2]), [2, 3])]);
    expect(Array.from(t as Float32Array)).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
  });

  it.each([
    { shape: [1, 1, 1, 5], reps: [4, 3, 2, 1] },
    { shape: [2, 3], reps: [1, 1] },
    { shape: [3], reps: [4] },
    { shape: [2, 1, 3], reps: [2, 4, 1] },
    { shape: [2, 2, 2, 2], reps: [1, 2, 1, 3] },
  ])('matches cpu for $shape × $reps', async ({ shape, reps }) => {
    const v = randn(
      new Rng(1),
      shape.reduce((a, b) => a * b, 1),
    );
    const run = (): tf.Tensor[] => [tf.tile(tf.tensor(v, shape), reps)];
    const [w] = await on('wasm', run);
    const [c] = await on('cpu', run);
    expect(Array.from(w as Float32Array)).toEqual(Array.from(c as Float32Array));
  });

  it('keeps int32 and bool dtypes', async () => {
    tf.setBackend('wasm');
    const i = tf.tile(tf.tensor1d([7, -8], 'int32'), [2]);
    const b = tf.tile(tf.tensor1d([1, 0], 'bool'), [3]);
    expect(i.dtype).toBe('int32');
    expect(Array.from(await i.data())).toEqual([7, -8, 7, -8]);
    expect(b.dtype).toBe('bool');
    expect(Array.from(await b.data())).toEqual([1, 0, 1, 0, 1, 0]);
    tf.dispose([i, b]);
  });
});
