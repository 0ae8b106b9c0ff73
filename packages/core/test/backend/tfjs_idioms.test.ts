// Importing bnlab and starting the wasm backend the tfjs way (`await tf.ready()`, where wasm
// is the highest-priority backend, or `tf.setBackend('wasm')`) must give a backend that trains
// a CNN with bnlab's kernels — not "Kernel 'Conv2DBackpropFilter' not registered".
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '../../src/index.js';
import { initBackend } from '../../src/backend/init_backend.js';
import { WASM_TRAINING_KERNELS } from '../../src/kernels/register.js';
import { Rng } from '../../src/rng.js';
import { on, randn, relError } from '../support/backends.js';

test('await tf.ready() starts wasm with bnlab’s kernels, and a CNN’s gradients match the cpu backend', async () => {
  await tf.ready();
  expect(tf.getBackend()).toBe('wasm');
  for (const k of WASM_TRAINING_KERNELS) expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(k.kernelFunc);
  const rng = new Rng(7);
  const x = randn(rng, 2 * 9 * 9 * 3);
  const w = randn(rng, 3 * 3 * 3 * 8, 0.3);
  // Conv2DBackpropFilter (added), Conv2DBackpropInput, MaxPool and its gradient, Sum, Mean
  // (replaced, falling back to stock kernels set up at the backend's start).
  const grads = () => {
    const f = (xs: tf.Tensor4D, ws: tf.Tensor4D) => tf.mean(tf.square(tf.maxPool(tf.relu(tf.conv2d(xs, ws, 1, 'same')), 2, 2, 'valid')));
    const [gx, gw] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([tf.tensor4d(x, [2, 9, 9, 3]), tf.tensor4d(w, [3, 3, 3, 8])]);
    return [gx!, gw!, tf.sum(tf.tensor4d(x, [2, 9, 9, 3]), [1, 2])];
  };
  const onWasm = await on('wasm', grads);
  const onCpu = await on('cpu', grads);
  onWasm.forEach((v, i) => expect(relError(v, onCpu[i]!)).toBeLessThan(1e-4));
  // model.fit of a CNN: the first thing a tfjs user writes.
  await tf.setBackend('wasm');
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [9, 9, 3], filters: 4, kernelSize: 3 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const h = await model.fit(tf.tensor4d(x, [2, 9, 9, 3]), tf.tensor1d([0, 1]), { epochs: 2, verbose: 0 });
  expect(h.history['loss']!.every((l) => Number.isFinite(l as number))).toBe(true);
  // initBackend afterwards reports the kernels the start registered.
  const info = await initBackend();
  expect(info.kernels.length).toBe(WASM_TRAINING_KERNELS.length);
  expect((await initBackend()).kernels).toEqual([]);
});
