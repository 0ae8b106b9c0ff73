import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { isBnlabError } from '@bnlab/core';
import { batchNormalization, recomputeBatchStatistics } from '../src/index.js';
import { PooledMoments } from '../src/pooled_moments.js';
import { BACKENDS, useBackend } from './support/backends.js';
import { expectClose } from './support/tolerance.js';

// The references here are plain float64 JavaScript over the same inputs: the forward pass
// (dense layers, normalization with each batch's own statistics, ReLU) and the population
// mean and biased variance of every value a layer saw, computed directly over all of them.

/** A deterministic pseudo-random value in [-1, 1) (a hash of i). */
function noise(i: number): number {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return 2 * (x - Math.floor(x)) - 1;
}

/** Batches of rows: batch b, row r, feature f; channels with different means and scales. */
function makeBatches(count: number, size: number, features: number, offset = 0): number[][][] {
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: size }, (_, r) =>
      Array.from({ length: features }, (_, f) => 3 * f - 2 + (f + 1) * noise(offset + (b * size + r) * features + f)),
    ),
  );
}

function populationStats(rows: number[][]): { mean: number[]; variance: number[] } {
  const c = rows[0]!.length;
  const mean = new Array<number>(c).fill(0);
  const variance = new Array<number>(c).fill(0);
  for (const r of rows) r.forEach((v, j) => (mean[j]! += v / rows.length));
  for (const r of rows) r.forEach((v, j) => (variance[j]! += (v - mean[j]!) ** 2 / rows.length));
  return { mean, variance };
}

function matmul(rows: number[][], kernel: number[][]): number[][] {
  return rows.map((r) => kernel[0]!.map((_, j) => r.reduce((s, v, i) => s + v * kernel[i]![j]!, 0)));
}

/** Batch normalization with the batch's own statistics (γ, β per feature, optional). */
function normalizeRows(rows: number[][], eps: number, gamma?: number[], beta?: number[]): number[][] {
  const { mean, variance } = populationStats(rows);
  return rows.map((r) => r.map((v, j) => ((v - mean[j]!) / Math.sqrt(variance[j]! + eps)) * (gamma?.[j] ?? 1) + (beta?.[j] ?? 0)));
}

const relu = (rows: number[][]) => rows.map((r) => r.map((v) => Math.max(0, v)));

const K1 = [
  [0.5, -0.3, 0.8, 0.1],
  [-0.2, 0.7, 0.4, -0.6],
  [0.3, 0.2, -0.5, 0.9],
];
const K2 = [
  [0.6, -0.4],
  [-0.1, 0.5],
  [0.7, 0.3],
  [-0.8, 0.2],
];
const GAMMA1 = [1.5, 0.5, 2, 1];
const BETA1 = [0.1, -0.2, 0.3, 0];

/** dense(4, no bias) → BN → ReLU → dense(2, no bias) → BN (without γ by default), with the weights above. */
function mlp(kind: 'bnlab' | 'tfjs', bnArgs: Record<string, unknown> = {}, lastScale = false): tfl.Sequential {
  const bn = (args: Record<string, unknown>) =>
    kind === 'bnlab' ? batchNormalization({ epsilon: 1e-3, ...args }) : tfl.layers.batchNormalization({ epsilon: 1e-3, ...args });
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [3], units: 4, useBias: false, name: 'dense1' }),
      bn({ name: 'bn1', ...bnArgs }),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.dense({ units: 2, useBias: false, name: 'dense2' }),
      bn({ name: 'bn2', scale: lastScale }),
    ],
  });
  model.getLayer('dense1').setWeights([tf.tensor2d(K1)]);
  model.getLayer('dense2').setWeights([tf.tensor2d(K2)]);
  const bn1 = model.getLayer('bn1');
  bn1.setWeights(bn1.getWeights().map((w, i) => (i === 0 ? tf.tensor1d(GAMMA1) : i === 1 ? tf.tensor1d(BETA1) : w)));
  return model;
}

/** The inputs each BN of {@link mlp} sees, batch by batch, in the training-mode forward. */
function mlpReference(batches: number[][][]): { bn1: number[][]; bn2: number[][] } {
  const bn1: number[][] = [];
  const bn2: number[][] = [];
  for (const x of batches) {
    const h = matmul(x, K1);
    bn1.push(...h);
    bn2.push(...matmul(relu(normalizeRows(h, 1e-3, GAMMA1, BETA1)), K2));
  }
  return { bn1, bn2 };
}

function weightOf(model: tfl.LayersModel, layer: string, name: string): Float32Array {
  const w = model.getLayer(layer).weights.find((v) => v.originalName.endsWith(name));
  if (!w) throw new Error(`${layer} has no ${name}`);
  return w.read().dataSync() as Float32Array;
}

function* tensors(batches: number[][][]): Generator<tf.Tensor> {
  for (const b of batches) yield tf.tensor2d(b);
}

async function expectRejects(p: Promise<unknown>, code: string, ...parts: string[]): Promise<void> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  if (!isBnlabError(error)) throw new Error(`expected a BnlabError ${code}, got ${String(error)}`);
  expect(error.code).toBe(code);
  for (const part of parts) expect(error.message).toContain(part);
}

describe.each(BACKENDS)('recomputeBatchStatistics on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  test.each(['bnlab', 'tfjs'] as const)(
    '%s batch norm: moving statistics become the pooled statistics of each layer’s inputs',
    async (kind) => {
      const data = makeBatches(5, 16, 3);
      const model = mlp(kind);
      const result = await recomputeBatchStatistics(model, tensors(data), { disposeBatches: true });
      const ref = mlpReference(data);
      for (const [layer, rows] of [
        ['bn1', ref.bn1],
        ['bn2', ref.bn2],
      ] as const) {
        const { mean, variance } = populationStats(rows);
        expectClose(weightOf(model, layer, 'moving_mean'), mean, `${layer} moving mean`);
        expectClose(weightOf(model, layer, 'moving_variance'), variance, `${layer} moving variance`);
      }
      expect(result.updated.map((u) => [u.name, u.kind, u.channels, u.count])).toEqual([
        ['bn1', kind, 4, 80],
        ['bn2', kind, 2, 80],
      ]);
      expect(result).toMatchObject({ batches: 5, examples: 80, skipped: [] });
      model.dispose();
    },
  );

  test('the pooled variance is the population variance, not the mean of the batch variances', async () => {
    // Two batches of one feature whose means differ: batch variances 1 and 1, population 5.
    const model = tfl.sequential({ layers: [batchNormalization({ inputShape: [1], name: 'bn' })] });
    await recomputeBatchStatistics(model, [tf.tensor2d([-1, 1], [2, 1]), tf.tensor2d([3, 5], [2, 1])]);
    expect(weightOf(model, 'bn', 'moving_mean')[0]).toBeCloseTo(2, 6);
    expect(weightOf(model, 'bn', 'moving_variance')[0]).toBeCloseTo(5, 5);
    model.dispose();
  });

  test('convolution-shaped inputs: statistics per channel over batch, height and width', async () => {
    const n = 3;
    const [h, w, c] = [4, 5, 2];
    const values = (b: number) =>
      Array.from({ length: n * h * w * c }, (_, i) => (i % c === 0 ? 10 : -4) + (1 + (i % c)) * noise(b * 1000 + i));
    const batches = [values(0), values(1)];
    const model = tfl.sequential({ layers: [batchNormalization({ inputShape: [h, w, c], name: 'bn' })] });
    await recomputeBatchStatistics(
      model,
      batches.map((v) => tf.tensor4d(v, [n, h, w, c])),
    );
    const rows = batches.flatMap((v) => Array.from({ length: v.length / c }, (_, i) => [v[i * c]!, v[i * c + 1]!]));
    const { mean, variance } = populationStats(rows);
    expectClose(weightOf(model, 'bn', 'moving_mean'), mean, 'moving mean');
    expectClose(weightOf(model, 'bn', 'moving_variance'), variance, 'moving variance');
    model.dispose();
  });

  test('recomputed on one batch, inference mode gives what training mode gives on that batch', async () => {
    // With the statistics of exactly this batch, every layer normalizes the same way in both
    // modes, whatever the depth (up to ε and rounding).
    const x = tf.tensor2d(makeBatches(1, 32, 3)[0]!);
    for (const kind of ['bnlab', 'tfjs'] as const) {
      // tfjs's own layer cannot train without γ (tfjs issue 2868), so here it has one.
      const model = mlp(kind, {}, kind === 'tfjs');
      const training = model.apply(x, { training: true }) as tf.Tensor;
      const before = model.predict(x) as tf.Tensor;
      await recomputeBatchStatistics(model, [x]);
      const after = model.predict(x) as tf.Tensor;
      // Before: the initial moving statistics (0, 1) give something else entirely.
      expect(tf.max(tf.abs(tf.sub(before, training))).dataSync()[0]).toBeGreaterThan(0.1);
      expectClose(after.dataSync(), training.dataSync(), `${kind}: inference after recompute`, 1e-3, 1e-3);
      tf.dispose([training, before, after]);
      model.dispose();
    }
    expect(x.isDisposed).toBe(false); // the caller's tensor, not disposed without disposeBatches
    x.dispose();
  });

  test('no weight but the moving statistics changes, and no tensor is left behind', async () => {
    const model = mlp('bnlab', { renorm: true, renormClipping: { rmax: 3, dmax: 5 } });
    model.predict(tf.zeros([1, 3])); // builds every weight
    const before = model.weights.map((w) => ({ name: w.originalName, values: Array.from(w.read().dataSync()) }));
    const tensorsBefore = tf.memory().numTensors;
    await recomputeBatchStatistics(model, tensors(makeBatches(3, 8, 3)), { disposeBatches: true });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    model.weights.forEach((w, i) => {
      const moving = /moving_(mean|variance)$/.test(w.originalName);
      const same = Array.from(w.read().dataSync()).every((v, j) => v === before[i]!.values[j]);
      expect([w.originalName, same]).toEqual([before[i]!.name, !moving]);
    });
    model.dispose();
  });

  test('ghost batch normalization: the next layer sees ghost-normalized inputs; the statistics are over all inputs', async () => {
    const data = makeBatches(2, 8, 3, 500);
    const model = tfl.sequential({
      layers: [
        batchNormalization({ inputShape: [3], virtualBatchSize: 4, name: 'ghost', scale: false }),
        tfl.layers.dense({ units: 4, useBias: false, name: 'dense1' }),
        batchNormalization({ name: 'bn' }),
      ],
    });
    model.getLayer('dense1').setWeights([tf.tensor2d(K1)]);
    const beta = [1, -2, 0.5];
    const ghost = model.getLayer('ghost');
    ghost.setWeights(ghost.getWeights().map((w, i) => (i === 0 ? tf.tensor1d(beta) : w)));
    await recomputeBatchStatistics(model, tensors(data), { disposeBatches: true });
    const ghostIn = data.flat();
    const ghostOut = (b: number[][]) => [
      ...normalizeRows(b.slice(0, 4), 1e-3, undefined, beta),
      ...normalizeRows(b.slice(4), 1e-3, undefined, beta),
    ];
    const bnIn = data.flatMap((b) => matmul(ghostOut(b), K1));
    expectClose(weightOf(model, 'ghost', 'moving_variance'), populationStats(ghostIn).variance, 'ghost layer variance');
    expectClose(weightOf(model, 'bn', 'moving_mean'), populationStats(bnIn).mean, 'next layer mean');
    expectClose(weightOf(model, 'bn', 'moving_variance'), populationStats(bnIn).variance, 'next layer variance');
    model.dispose();
  });

  test('frozen layers keep their statistics unless includeFrozen', async () => {
    const data = makeBatches(2, 8, 3);
    for (const includeFrozen of [false, true]) {
      const model = mlp('bnlab');
      model.getLayer('bn1').trainable = false;
      const result = await recomputeBatchStatistics(model, tensors(data), { includeFrozen, disposeBatches: true });
      expect(result.updated.map((u) => u.name)).toEqual(includeFrozen ? ['bn1', 'bn2'] : ['bn2']);
      expect(result.skipped.map((s) => s.name)).toEqual(includeFrozen ? [] : ['bn1']);
      const variance = Array.from(weightOf(model, 'bn1', 'moving_variance'));
      if (includeFrozen) expectClose(variance, populationStats(data.flatMap((b) => matmul(b, K1))).variance, 'frozen, included');
      else expect(variance).toEqual([1, 1, 1, 1]);
      model.dispose();
    }
  });

  test('nested models are searched', async () => {
    const inner = tfl.sequential({ layers: [batchNormalization({ inputShape: [3], name: 'inner_bn' })] });
    const outer = tfl.sequential({ layers: [inner, tfl.layers.dense({ units: 2 })] });
    const data = makeBatches(2, 8, 3);
    const result = await recomputeBatchStatistics(outer, tensors(data), { disposeBatches: true });
    expect(result.updated.map((u) => u.name)).toEqual(['inner_bn']);
    expectClose(weightOf(inner, 'inner_bn', 'moving_mean'), populationStats(data.flat()).mean, 'nested mean');
    outer.dispose();
  });

  test('maxBatches stops reading the iterator; disposeBatches leaves no tensor of the batches', async () => {
    let pulled = 0;
    function* counting() {
      for (const b of makeBatches(10, 4, 3)) {
        pulled++;
        yield { xs: tf.tensor2d(b), ys: tf.zeros([4]) };
      }
    }
    const model = mlp('bnlab');
    model.predict(tf.zeros([1, 3]));
    const tensorsBefore = tf.memory().numTensors;
    const result = await recomputeBatchStatistics(model, counting(), { maxBatches: 3, disposeBatches: true });
    expect([pulled, result.batches, result.examples]).toEqual([3, 3, 12]);
    // disposeBatches disposes the whole batch, labels too.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    model.dispose();
  });

  test('a model without batch norm: a no-op that says so and reads no batch', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
    // biome-ignore lint/correctness/useYield: a generator that fails when first read
    function* never(): Generator<tf.Tensor> {
      throw new Error('the batches must not be read');
    }
    const result = await recomputeBatchStatistics(model, never());
    expect(result).toEqual({
      updated: [],
      skipped: [],
      batches: 0,
      examples: 0,
      note: 'the model has no batch-normalization layer: nothing to recompute',
    });
    model.dispose();
  });

  test('bad input: an empty iterator, a batch of the wrong shape, a bad maxBatches — named, state unchanged', async () => {
    const model = mlp('bnlab');
    const state = () => Array.from(weightOf(model, 'bn1', 'moving_variance'));
    const initial = state();
    await expectRejects(recomputeBatchStatistics(model, []), 'DATA_MISSING', 'batches', 'no batch');
    await expectRejects(
      recomputeBatchStatistics(model, [tf.zeros([4, 3]), tf.zeros([4, 5])]),
      'INVALID_SHAPE',
      'batches[1]',
      '[4, 5]',
      '[n, 3]',
    );
    await expectRejects(recomputeBatchStatistics(model, [tf.zeros([0, 3])]), 'INVALID_SHAPE', 'batches[0]', 'empty');
    await expectRejects(recomputeBatchStatistics(model, [{ ys: 1 } as never]), 'INVALID_ARGUMENT', 'batches[0]', 'xs');
    await expectRejects(recomputeBatchStatistics(model, [], { maxBatches: 0 }), 'INVALID_ARGUMENT', 'maxBatches', '0');
    expect(state()).toEqual(initial);
    // The layers' own call is back: training mode updates the moving averages again.
    model.apply(tf.ones([2, 3]), { training: true });
    expect(state()).not.toEqual(initial);
    model.dispose();
  });
});

describe('PooledMoments', () => {
  test('pooling batches equals the statistics of all values at once (closed form)', () => {
    const p = new PooledMoments();
    // Values 1..9 in batches [1,2,3,4], [5], [6,7,8,9]: mean 5, biased variance 60/9.
    const parts = [[1, 2, 3, 4], [5], [6, 7, 8, 9]];
    for (const part of parts) {
      const m = part.reduce((a, b) => a + b, 0) / part.length;
      p.add(part.length, [m], [part.reduce((a, b) => a + (b - m) ** 2, 0) / part.length]);
    }
    expect(p.count).toBe(9);
    expect(p.mean()[0]).toBeCloseTo(5, 12);
    expect(p.variance()[0]).toBeCloseTo(60 / 9, 12);
  });
});
