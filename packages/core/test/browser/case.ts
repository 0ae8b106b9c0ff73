// One training step's worth of bnlab's kernels, computed by the browser page (wasm backend,
// bnlab's kernels) and by the test in Node (tfjs's cpu backend, the reference): a 3×3
// convolution with 8 channels in and out (Winograd), batch norm in training mode, ReLU, 2×2
// max pooling, and the gradients of a weighted sum with respect to the input, the filter and
// the batch-norm scale.
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTraining } from '../../src/ops/batch_norm_training.js';

export const X_SHAPE: [number, number, number, number] = [2, 8, 8, 8];
export const W_SHAPE: [number, number, number, number] = [3, 3, 8, 8];

/** Deterministic inputs, the same on both sides. */
export function inputs(): { x: number[]; w: number[]; r: number[] } {
  const fill = (n: number, a: number, b: number) => Array.from({ length: n }, (_, i) => Math.sin(a * i + b));
  return { x: fill(2 * 8 * 8 * 8, 0.37, 0.1), w: fill(3 * 3 * 8 * 8, 0.71, 0.3).map((v) => v * 0.3), r: fill(2 * 4 * 4 * 8, 1.3, 0.7) };
}

/** The outputs to compare: forward values and the three gradients, flattened. */
export function compute(): Record<string, number[]> {
  const { x: xv, w: wv, r: rv } = inputs();
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, X_SHAPE);
    const w = tf.tensor4d(wv, W_SHAPE);
    const r = tf.tensor4d(rv, [2, 4, 4, 8]);
    const gamma = tf.linspace(0.5, 1.5, 8);
    const forward = (x: tf.Tensor, w: tf.Tensor, gamma: tf.Tensor): tf.Tensor => {
      const conv = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
      const { y } = batchNormTraining(conv, { scale: gamma as tf.Tensor1D });
      return tf.maxPool(tf.relu(y) as tf.Tensor4D, 2, 2, 'valid');
    };
    const y = forward(x, w, gamma);
    const [dx, dw, dgamma] = tf.grads((x: tf.Tensor, w: tf.Tensor, gamma: tf.Tensor) => tf.sum(tf.mul(forward(x, w, gamma), r)))([
      x,
      w,
      gamma,
    ]);
    const flat = (t: tf.Tensor) => Array.from(t.dataSync());
    return { y: flat(y), dx: flat(dx as tf.Tensor), dw: flat(dw as tf.Tensor), dgamma: flat(dgamma as tf.Tensor) };
  });
}
