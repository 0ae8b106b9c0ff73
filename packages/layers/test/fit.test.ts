import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { NormalizationSpec } from '@bnlab/core';
import { Rng } from '@bnlab/core';
import { batchNormalization, normalization } from '../src/index.js';
import { useBackend } from './support/backends.js';
import { weightName } from './support/fixtures.js';

// model.fit on the wasm backend: the moving statistics update once per training step (tfjs
// runs the layer's call with training: true inside optimizer.minimize, and the layer writes
// the new averages there, as tfjs's own BatchNormalization does), and every layer trains.

function data(rng: Rng, n: number, features: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: features }, (_, j) => rng.normal(j - 1, 1 + j) + (i % 3)));
}

/** Keras moving averages over `batches` in float64, from the moving mean 0 and variance 1. */
function expectedMoving(batches: number[][][], momentum: number): { mean: number[]; variance: number[] } {
  const c = batches[0]![0]!.length;
  const mean = new Array<number>(c).fill(0);
  const variance = new Array<number>(c).fill(1);
  for (const rows of batches) {
    for (let k = 0; k < c; k++) {
      const col = rows.map((r) => r[k]!);
      const mu = col.reduce((a, b) => a + b, 0) / col.length;
      const v = col.reduce((a, b) => a + (b - mu) ** 2, 0) / col.length; // biased
      mean[k] = momentum * mean[k]! + (1 - momentum) * mu;
      variance[k] = momentum * variance[k]! + (1 - momentum) * v;
    }
  }
  return { mean, variance };
}

function movingStats(layer: tfl.layers.Layer): { mean: number[]; variance: number[] } {
  const get = (name: string) =>
    Array.from(
      layer.weights
        .find((w) => weightName(w) === name)!
        .read()
        .dataSync(),
    );
  return { mean: get('moving_mean'), variance: get('moving_variance') };
}

describe('training with model.fit on wasm', () => {
  beforeAll(() => useBackend('wasm'));

  test.each([
    ['2-D input', [3]],
    ['NHWC input', [2, 2, 3]],
  ] as const)('moving statistics follow the Keras averages of each batch (%s)', async (_label, shape) => {
    const rng = new Rng(5);
    const n = 12;
    const perSample = shape.reduce((a, b) => a * b, 1);
    const rows = data(rng, n, perSample);
    const x = tf.tensor(rows.flat(), [n, ...shape]);
    const y = tf.zeros([n, 1]);
    const bn = batchNormalization({ momentum: 0.9, inputShape: [...shape] });
    const model = tfl.sequential({
      layers: [bn, ...(shape.length > 1 ? [tfl.layers.flatten()] : []), tfl.layers.dense({ units: 1, kernelInitializer: 'zeros' })],
    });
    model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
    await model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    // Per channel: the channel is the last of each sample's values (NHWC), so gather them.
    const c = shape[shape.length - 1]!;
    const channelRows = (r: number[]) => Array.from({ length: perSample / c }, (_, p) => r.slice(p * c, p * c + c));
    const batches: number[][][] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      for (let b = 0; b < n; b += 4) batches.push(rows.slice(b, b + 4).flatMap(channelRows));
    }
    const expected = expectedMoving(batches, 0.9);
    const actual = movingStats(bn);
    actual.mean.forEach((v, k) => expect(v).toBeCloseTo(expected.mean[k]!, 5));
    actual.variance.forEach((v, k) => expect(v).toBeCloseTo(expected.variance[k]!, 4));
  });

  test.each([
    { type: 'batch' },
    { type: 'batch', scale: false, center: false },
    { type: 'batch', virtualBatchSize: 3 },
    { type: 'batch', renorm: true, renormClipping: { rmax: 2, dmax: 1 } },
    { type: 'layer', axis: [1, 2, 3] },
    { type: 'group', groups: 2 },
    { type: 'instance', scale: false },
    { type: 'none' },
  ] as NormalizationSpec[])('a small CNN with %j after its conv layer trains', async (spec) => {
    const rng = new Rng(11);
    const n = 16;
    const images = Array.from({ length: n }, () => Array.from({ length: 36 }, () => rng.normal()));
    const labels = images.map((im) => {
      const left = im.filter((_, i) => i % 6 < 3).reduce((a, b) => a + b, 0);
      const right = im.filter((_, i) => i % 6 >= 3).reduce((a, b) => a + b, 0);
      return left > right ? [1, 0] : [0, 1];
    });
    const x = tf.tensor4d(images.flat(), [n, 6, 6, 1]);
    const y = tf.tensor2d(labels);
    const norm = normalization(spec);
    const model = tfl.sequential();
    model.add(
      tfl.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 4,
        kernelSize: 3,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
    );
    if (norm) model.add(norm);
    model.add(tfl.layers.activation({ activation: 'relu' }));
    model.add(tfl.layers.flatten());
    model.add(tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
    model.compile({ optimizer: tf.train.adam(0.03), loss: 'categoricalCrossentropy' });
    const before = norm ? norm.getWeights().map((w) => Array.from(w.dataSync())) : [];
    const history = await model.fit(x, y, { epochs: 12, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history['loss'] as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(0.8 * losses[0]!);
    if (norm) {
      // Every weight of the layer moved: gamma and beta by the optimizer, the statistics by the layer.
      norm.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).not.toEqual(before[i]));
    }
  });

  test.each([
    { type: 'batch' },
    { type: 'batch', center: false, scale: false, momentum: 0.5 },
    { type: 'layer' },
    { type: 'group', groups: 4 },
  ] as NormalizationSpec[])('an MLP with %j after its hidden dense layer trains', async (spec) => {
    const rng = new Rng(13);
    const n = 24;
    const rows = Array.from({ length: n }, () => Array.from({ length: 5 }, () => rng.normal(3, 2)));
    const x = tf.tensor2d(rows);
    const y = tf.tensor2d(rows.map((r) => [r[0]! - r[1]! + 0.5 * r[2]! > 3 ? 1 : 0]));
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ inputShape: [5], units: 8, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
    model.add(normalization(spec)!);
    model.add(tfl.layers.activation({ activation: 'relu' }));
    model.add(tfl.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }));
    model.compile({ optimizer: tf.train.adam(0.03), loss: 'binaryCrossentropy' });
    const history = await model.fit(x, y, { epochs: 15, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history['loss'] as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(0.8 * losses[0]!);
  });

  test('instance normalization after a dense layer is refused when the model is built', () => {
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ inputShape: [5], units: 8 }));
    expect(() => model.add(normalization({ type: 'instance' }))).toThrow('InstanceNormalization: the input must have rank >= 3');
  });
});
