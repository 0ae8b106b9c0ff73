import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { activeBackend, initBackend, Rng } from '@bnlab/core';
import type { NormalizationSpec } from '@bnlab/core';
import { convNet4, kerasCnn, mlp } from '../src/index.js';

// Short training runs on the wasm backend: every norm type, both positions, trains (the loss on
// a fixed batch falls), so gradients flow through the normalization layers and the dropped biases.

beforeAll(async () => {
  await initBackend();
});

/**
 * A learnable toy task: 28×28 images of noise with one bright 7×7 square in one of four
 * quadrants; the label is the quadrant.
 */
function quadrants(count: number, seed: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const rng = new Rng(seed);
  const pixels = new Float32Array(count * 28 * 28);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const q = i % 4;
    labels[i] = q;
    const top = (q >> 1) * 14 + 3 + rng.int(5);
    const left = (q & 1) * 14 + 3 + rng.int(5);
    for (let p = 0; p < 28 * 28; p++) pixels[i * 784 + p] = 0.2 * rng.uniform();
    for (let r = top; r < top + 7; r++) for (let c = left; c < left + 7; c++) pixels[i * 784 + r * 28 + c] = 1;
  }
  return {
    xs: tf.tensor4d(pixels, [count, 28, 28, 1]),
    ys: tf.oneHot(tf.tensor1d(labels, 'int32'), 4) as tf.Tensor2D,
  };
}

async function lossBeforeAfter(model: LayersModel, steps: number, lr = 0.01): Promise<[number, number]> {
  const { xs, ys } = quadrants(32, 1);
  model.compile({ optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy' });
  const first = (await model.trainOnBatch(xs, ys)) as number;
  let last = first;
  for (let i = 1; i < steps; i++) last = (await model.trainOnBatch(xs, ys)) as number;
  return [first, last];
}

const NORMS: NormalizationSpec[] = [
  { type: 'none' },
  { type: 'batch' },
  { type: 'layer' },
  { type: 'group', groups: 4 },
  { type: 'instance' },
];

describe('training on wasm', () => {
  test('the wasm backend is the one in use', () => {
    expect(activeBackend()).toBe('wasm');
  });

  test.each(NORMS.map((n) => [n.type, n] as const))('kerasCnn with %s norm learns the toy task', async (_, norm) => {
    const model = kerasCnn({
      numClasses: 4,
      norm,
      options: { filters: [8, 8, 8], denseUnits: 16, seed: 1 },
    });
    const [first, last] = await lossBeforeAfter(model, 12);
    expect(first).toBeGreaterThan(1); // about ln 4 = 1.386 at the start
    expect(last).toBeLessThan(0.7 * first);
  });

  test('after-activation placement trains too (mlp, seed 001 layout)', async () => {
    const model = mlp({
      numClasses: 4,
      norm: { type: 'batch' },
      placement: { position: 'after-activation' },
      options: { hiddenUnits: [32, 16], seed: 2 },
    });
    const [first, last] = await lossBeforeAfter(model, 12);
    expect(last).toBeLessThan(0.7 * first);
  });

  test("convNet4 with seed 002's after-pool layout takes a training step on 28×28×1", async () => {
    const model = convNet4({
      inputShape: [28, 28, 1],
      numClasses: 4,
      norm: { type: 'batch' },
      placement: { layers: [1, 3], position: 'after-activation' },
      options: { filters: [8, 8, 16, 16], denseUnits: 16, seed: 3 },
    });
    const before = model.getLayer('block1_conv').getWeights()[0]!.dataSync().slice();
    const [first, last] = await lossBeforeAfter(model, 3);
    expect(Number.isFinite(first) && Number.isFinite(last)).toBe(true);
    const after = model.getLayer('block1_conv').getWeights()[0]!.dataSync();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
  });
});
