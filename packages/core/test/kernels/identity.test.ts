import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';

beforeAll(async () => {
  await initBackend({ strict: true });
});

describe('Identity on wasm', () => {
  it('clones share data without a copy, and each survives the other being disposed', async () => {
    const before = tf.memory().numDataBuffers;
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = tf.clone(a);
    // no new buffer: the clone shares the original's data
    expect(tf.memory().numDataBuffers - before).toBe(1);
    a.dispose();
    expect(Array.from(await b.data())).toEqual([1, 2, 3, 4]);
    const c = tf.add(b, 1);
    b.dispose();
    expect(Array.from(await c.data())).toEqual([2, 3, 4, 5]);
    c.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
  });

  it('keeps int32 and bool dtypes', async () => {
    const i = tf.clone(tf.tensor1d([5, -6], 'int32'));
    const b = tf.clone(tf.tensor1d([1, 0], 'bool'));
    expect(i.dtype).toBe('int32');
    expect(b.dtype).toBe('bool');
    expect(Array.from(await i.data())).toEqual([5, -6]);
    expect(Array.from(await b.data())).toEqual([1, 0]);
  });
});
