import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { activeBackend, initBackend, Rng } from '@bnlab/core';
import type { NormalizationSpec } from '@bnlab/core';
import { convNet4, kerasCnn, mlp, resnet } from '../src/index.js';

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

test('a CIFAR-size ResNet keeps its live tensors and the wasm heap flat across epochs', async () => {
  // ResNet-8 (depth 6n+2, n = 1: every block kind, shortcut A's zero padding included), 32×32×3,
  // batch 16, two steps an epoch; the heap may grow while the first epochs warm tfjs-wasm's
  // allocator up, never after (a leak of tensors or of kernel scratch space would show).
  const model = resnet({ numClasses: 10, norm: { type: 'batch' }, options: { depth: 8, seed: 4 } });
  const rng = new Rng(9);
  const xs = tf.tensor4d(
    Float32Array.from({ length: 32 * 32 * 32 * 3 }, () => rng.normal()),
    [32, 32, 32, 3],
  );
  const ys = tf.oneHot(
    tf.tensor1d(
      Int32Array.from({ length: 32 }, () => rng.int(10)),
      'int32',
    ),
    10,
  );
  const optimizer = tf.train.momentum(0.05, 0.9);
  const heap = (): number => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
  const tensors: number[] = [];
  const heaps: number[] = [];
  for (let epoch = 0; epoch < 6; epoch++) {
    for (let s = 0; s < 2; s++) {
      const loss = tf.tidy(
        () =>
          optimizer.minimize(() => {
            const logits = model.apply(tf.slice(xs, s * 16, 16), { training: true }) as tf.Tensor;
            return tf.losses.softmaxCrossEntropy(tf.slice(ys, s * 16, 16), logits) as tf.Scalar;
          }, true) as tf.Scalar,
      );
      await loss.data();
      loss.dispose();
    }
    tensors.push(tf.memory().numTensors);
    heaps.push(heap());
  }
  expect(new Set(tensors.slice(1)).size).toBe(1);
  expect(heaps[5]).toBe(heaps[2]);
  tf.dispose([xs, ys]);
  optimizer.dispose();
  model.dispose();
});
