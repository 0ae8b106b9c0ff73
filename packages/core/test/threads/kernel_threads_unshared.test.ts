// The wasm backend started by tfjs before initBackend asked for threads: its heap is not
// shared, so bnlab's kernels stay on one thread, and initBackend says why.
import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { initBackend } from '../../src/backend/init_backend.js';

test('threads asked for after tfjs started the wasm backend: a warning, one thread, kernels still run', async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  const warnings: string[] = [];
  const info = await initBackend({ threads: 2, onWarning: (m) => warnings.push(m) });
  expect(info.kernelThreads).toBe(1);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(
    /2 threads asked for, bnlab's kernels run on 1: the wasm backend was started before initBackend\(\{ threads \}\)/,
  );
  const y = tf.conv2d(tf.ones([2, 8, 8, 16]) as tf.Tensor4D, tf.ones([3, 3, 16, 8]) as tf.Tensor4D, 1, 'valid');
  expect(Array.from(new Set(await y.data()))).toEqual([144]);
});
