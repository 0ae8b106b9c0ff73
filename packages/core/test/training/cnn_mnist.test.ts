/**
 * The benchmark CNN (shared/anchors: Conv32-Pool-Conv64-Pool-Conv64, Dense64, Dense10, 3×3
 * valid convolutions) trains on the wasm backend on real MNIST digits, with and without
 * batch normalization: the loss falls. Stock tfjs-backend-wasm 4.22 cannot even compute
 * the first gradient of this model (no Conv2DBackpropFilter kernel).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/init_backend.js';
import { mnistTrainHead } from '../support/mnist.js';

const BATCH = 64;
const STEPS = 24;

function benchmarkCnn(batchNorm: boolean): tfl.Sequential {
  const model = tfl.sequential();
  const block = (layer: tfl.layers.Layer): void => {
    model.add(layer);
    if (batchNorm) model.add(tfl.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }));
    model.add(tfl.layers.activation({ activation: 'relu' }));
  };
  const conv = (filters: number, inputShape?: number[]): tfl.layers.Layer =>
    tfl.layers.conv2d({
      filters,
      kernelSize: 3,
      useBias: !batchNorm,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      ...(inputShape ? { inputShape } : {}),
    });
  block(conv(32, [28, 28, 1]));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  block(conv(64));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  block(conv(64));
  model.add(tfl.layers.flatten());
  block(tfl.layers.dense({ units: 64, useBias: !batchNorm, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
  model.add(tfl.layers.dense({ units: 10, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  return model;
}

describe('benchmark CNN on wasm, real MNIST', () => {
  const { images, labels } = mnistTrainHead(BATCH * STEPS);

  beforeAll(async () => {
    const info = await initBackend({ strict: true });
    expect(info.backend).toBe('wasm');
  });

  it.each([false, true])(`trains ${STEPS} steps with falling loss (batch norm: %s)`, async (batchNorm) => {
    const model = benchmarkCnn(batchNorm);
    const optimizer = tf.train.adam(1e-3);
    const losses: number[] = [];
    for (let step = 0; step < STEPS; step++) {
      const from = step * BATCH;
      const loss = tf.tidy(() => {
        const xs = tf.div(tf.tensor4d(Float32Array.from(images.subarray(from * 784, (from + BATCH) * 784)), [BATCH, 28, 28, 1]), 255);
        const ys = tf.oneHot(tf.tensor1d(labels.subarray(from, from + BATCH), 'int32'), 10);
        return optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor),
          true,
        ) as tf.Scalar;
      });
      losses.push((await loss.data())[0] as number);
      loss.dispose();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    const first = mean(losses.slice(0, 4));
    const last = mean(losses.slice(-4));
    // Chance level is ln 10 ≈ 2.30. After 24 steps of Adam the loss is well below it.
    expect(first).toBeGreaterThan(1.5);
    expect(last).toBeLessThan(0.6 * first);
    model.dispose();
    optimizer.dispose();
  });
});
