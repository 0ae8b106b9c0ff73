/**
 * The fused ReLU gradient on wasm: dy · step(x) with tfjs's step (0 at x = 0, NaN for NaN),
 * checked against values written out by hand, its use in place of tfjs's three kernels,
 * and the stock gradient coming back when bnlab's kernels are unregistered.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../../src/kernels/register.js';

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

const gradOfRelu = (x: number[], dy: number[]) =>
  tf.tidy(() =>
    tf
      .grad((t: tf.Tensor) => tf.mul(tf.relu(t), tf.tensor1d(dy)))(tf.tensor1d(x))
      .dataSync(),
  );

test('dy where x > 0, 0 where x ≤ 0, NaN for NaN x or non-finite dy times 0', () => {
  // Nine values: the vector loop and the scalar tail both run.
  const x = [2, -1, 0, NaN, 3, -0.5, 1e-30, -1e-30, 7];
  const dy = [5, 5, 5, 5, -2, Infinity, 4, 4, 1.5];
  expect(Array.from(gradOfRelu(x, dy))).toEqual([5, 0, 0, NaN, -2, NaN, 4, 0, 1.5]);
});

test('runs as one kernel instead of Step, Cast and Multiply', async () => {
  const x = tf.randomNormal([64, 32]);
  const dy = tf.randomNormal([64, 32]);
  const names = async () => (await tf.profile(() => tf.grad((t: tf.Tensor) => tf.mul(tf.relu(t), dy))(x))).kernels.map((k) => k.name);
  expect(await names()).toContain('BnlabReluGrad');
  unregisterWasmTrainingKernels();
  try {
    const stock = await names();
    expect(stock).not.toContain('BnlabReluGrad');
    expect(stock).toContain('Step');
  } finally {
    registerWasmTrainingKernels();
  }
  expect(await names()).toContain('BnlabReluGrad');
});

test('a gradient of the gradient works (the fused kernel steps aside while a tape records)', () => {
  // d/dx Σ ∂(Σ relu(y)²)/∂y = d/dx Σ 2·relu(x) = 2·step(x).
  const x = tf.tensor1d([1.5, -2, 3, -0.5, 0.25]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.grad((u: tf.Tensor) => tf.sum(tf.square(tf.relu(u))))(t)))(x);
  expect(Array.from(g.dataSync())).toEqual([2, 0, 2, 0, 2]);
});
