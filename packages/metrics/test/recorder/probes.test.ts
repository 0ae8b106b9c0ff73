import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { activationStats, gradientNorms } from '../../src/recorder/probes';
import { findBlocks } from '../../src/recorder/blocks';
import { evaluateModel } from '../../src/recorder/evaluate';
import { TrainingRecorder } from '../../src/recorder/training_recorder';
import { extraKeys } from '../../src/record/record';
import { addBias, lossAcc, matmul, softmax, type Matrix } from '../helpers/hand';
import { initTestBackend } from '../helpers/backend';

const W1: Matrix = [
  [0.5, -0.6, 0.3],
  [0.2, 0.4, -0.7],
];
const B1 = [0.1, 0.0, -0.05];
const W2: Matrix = [
  [0.3, -0.2],
  [-0.5, 0.6],
  [0.8, 0.1],
];
const B2 = [0.02, -0.03];
const X: Matrix = [
  [1.0, -0.5],
  [0.3, 0.8],
  [-1.2, 0.4],
  [2.0, 1.5],
];
const Y = [0, 1, 1, 0];
const EPS = 1e-3;

const relu = (m: Matrix): Matrix => m.map((r) => r.map((v) => Math.max(0, v)));
function meanStd(m: Matrix): { mean: number; std: number } {
  const v = m.flat();
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) };
}
/** Batch normalization in training mode with γ = 1, β = 0 (biased batch variance). */
function bnTrain(z: Matrix): Matrix {
  const n = z.length;
  const mu = z[0]!.map((_, j) => z.reduce((s, r) => s + r[j]!, 0) / n);
  const v = z[0]!.map((_, j) => z.reduce((s, r) => s + (r[j]! - mu[j]!) ** 2, 0) / n);
  return z.map((r) => r.map((x, j) => (x - mu[j]!) / Math.sqrt(v[j]! + EPS)));
}

/** Dense(relu) → Dense(softmax): activations inline. */
function inlineModel(): tfl.LayersModel {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 3, inputShape: [2], activation: 'relu', name: 'd1' }),
      tfl.layers.dense({ units: 2, activation: 'softmax', name: 'd2' }),
    ],
  });
  m.getLayer('d1').setWeights([tf.tensor2d(W1), tf.tensor1d(B1)]);
  m.getLayer('d2').setWeights([tf.tensor2d(W2), tf.tensor1d(B2)]);
  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

/** Dense → BN → ReLU → Dense → Softmax: separate layers, BN before the activation. */
function bnModel(): tfl.LayersModel {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 3, inputShape: [2], name: 'd1' }),
      tfl.layers.batchNormalization({ name: 'bn1', epsilon: EPS }),
      tfl.layers.activation({ activation: 'relu', name: 'relu1' }),
      tfl.layers.dense({ units: 2, name: 'd2' }),
      tfl.layers.activation({ activation: 'softmax', name: 'soft' }),
    ],
  });
  m.getLayer('d1').setWeights([tf.tensor2d(W1), tf.tensor1d(B1)]);
  m.getLayer('d2').setWeights([tf.tensor2d(W2), tf.tensor1d(B2)]);
  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

/** Cross-entropy of class probabilities against class ids, per example. */
const sparseCE = (y: tf.Tensor, p: tf.Tensor): tf.Tensor => tf.neg(tf.log(tf.sum(tf.mul(tf.oneHot(tf.cast(y, 'int32'), 2), p), -1)));

beforeAll(initTestBackend);

test('findBlocks groups conv/dense layers with their normalization and activation', () => {
  const a = findBlocks(inlineModel());
  expect(a.map((b) => [b.name, b.kind, b.preActivation === 'inline', b.outputLayer.name])).toEqual([
    ['d1', 'dense', true, 'd1'],
    ['d2', 'dense', true, 'd2'],
  ]);
  const b = findBlocks(bnModel());
  expect(b.map((x) => [x.name, x.outputLayer.name])).toEqual([
    ['d1', 'relu1'],
    ['d2', 'soft'],
  ]);
});

test('activation statistics equal hand-computed pre-activations (inline activations)', async () => {
  const stats = await activationStats(inlineModel(), tf.tensor2d(X));
  const z1 = addBias(matmul(X, W1), B1);
  const z2 = addBias(matmul(relu(z1), W2), B2);
  expect(stats.map((s) => s.block)).toEqual(['d1', 'd2']);
  for (const [s, z] of [
    [stats[0]!, z1],
    [stats[1]!, z2],
  ] as const) {
    const ref = meanStd(z);
    expect(s.mean).toBeCloseTo(ref.mean, 5);
    expect(s.std).toBeCloseTo(ref.std, 5);
  }
});

test('activation statistics after batch norm use batch statistics and leave moving statistics alone', async () => {
  const model = bnModel();
  const before = model
    .getLayer('bn1')
    .getWeights()
    .map((w) => Array.from(w.dataSync()));
  const stats = await activationStats(model, tf.tensor2d(X));
  const after = model
    .getLayer('bn1')
    .getWeights()
    .map((w) => Array.from(w.dataSync()));
  expect(after).toEqual(before);
  const pre1 = bnTrain(addBias(matmul(X, W1), B1));
  const pre2 = addBias(matmul(relu(pre1), W2), B2);
  for (const [s, z] of [
    [stats[0]!, pre1],
    [stats[1]!, pre2],
  ] as const) {
    const ref = meanStd(z);
    expect(s.mean).toBeCloseTo(ref.mean, 5);
    expect(s.std).toBeCloseTo(ref.std, 5);
  }
  // Normalized pre-activations: mean 0, std just under 1 (ε inside the root).
  expect(Math.abs(stats[0]!.mean)).toBeLessThan(1e-6);
});

test('gradient norms equal a hand-written backward pass', async () => {
  const model = inlineModel();
  const norms = await gradientNorms(model, { xs: tf.tensor2d(X), ys: tf.tensor1d(Y, 'int32') }, sparseCE);
  const z1 = addBias(matmul(X, W1), B1);
  const h = relu(z1);
  const p = softmax(addBias(matmul(h, W2), B2));
  const n = X.length;
  const dz = p.map((r, i) => r.map((v, j) => (v - (j === Y[i] ? 1 : 0)) / n));
  const dW2 = W2.map((row, k) => row.map((_, j) => h.reduce((s, hi, i) => s + hi[k]! * dz[i]![j]!, 0)));
  const db2 = B2.map((_, j) => dz.reduce((s, r) => s + r[j]!, 0));
  const dh = dz.map((r, i) => W2.map((w, k) => (z1[i]![k]! > 0 ? r.reduce((s, v, j) => s + v * w[j]!, 0) : 0)));
  const dW1 = W1.map((row, k) => row.map((_, j) => X.reduce((s, xi, i) => s + xi[k]! * dh[i]![j]!, 0)));
  const db1 = B1.map((_, j) => dh.reduce((s, r) => s + r[j]!, 0));
  const sq = (a: number[]): number => a.reduce((s, v) => s + v * v, 0);
  const n1 = Math.sqrt(sq(dW1.flat()) + sq(db1));
  const n2 = Math.sqrt(sq(dW2.flat()) + sq(db2));
  expect(norms.perLayer['d1']).toBeCloseTo(n1, 5);
  expect(norms.perLayer['d2']).toBeCloseTo(n2, 5);
  expect(norms.total).toBeCloseTo(Math.sqrt(n1 * n1 + n2 * n2), 5);
  // Probing does not train: the weights are unchanged.
  expect(Array.from(model.getLayer('d1').getWeights()[0]!.dataSync())).toEqual(Array.from(new Float32Array(W1.flat())));
});

test('training-mode and inference-mode evaluation differ for batch norm as computed by hand', async () => {
  const model = bnModel();
  const data = { xs: tf.tensor2d(X), ys: tf.tensor1d(Y, 'int32') };
  const z1 = addBias(matmul(X, W1), B1);
  // Inference: moving mean 0, moving variance 1 (fresh layer).
  const inferPre = z1.map((r) => r.map((v) => v / Math.sqrt(1 + EPS)));
  const inferRef = lossAcc(softmax(addBias(matmul(relu(inferPre), W2), B2)), Y);
  const trainRef = lossAcc(softmax(addBias(matmul(relu(bnTrain(z1)), W2), B2)), Y);
  const inf = await evaluateModel(model, data, { batchSize: 4 });
  const trn = await evaluateModel(model, data, { batchSize: 4, training: true });
  expect(inf.loss).toBeCloseTo(inferRef.loss, 5);
  expect(inf.accuracy).toBeCloseTo(inferRef.acc, 6);
  expect(trn.loss).toBeCloseTo(trainRef.loss, 5);
  expect(trn.accuracy).toBeCloseTo(trainRef.acc, 6);
  expect(Math.abs(inf.loss - trn.loss)).toBeGreaterThan(1e-3);
  // Evaluating in training mode must not move the moving statistics.
  const again = await evaluateModel(model, data, { batchSize: 4 });
  expect(again.loss).toBeCloseTo(inf.loss, 6);
});

test('the recorder puts the probe figures into each epoch', async () => {
  const model = bnModel();
  const probe = { xs: tf.tensor2d(X), ys: tf.tensor1d(Y, 'int32') };
  const rec = new TrainingRecorder({ probe, gradientNorms: true, activationStats: true, trainVsInference: true, environment: {} });
  await model.fit(tf.tensor2d(X), tf.tensor1d(Y, 'float32'), { epochs: 2, batchSize: 2, verbose: 0, callbacks: rec.callback() });
  const last = rec.record.epochs[1]!.extra!;
  // The figures of the last epoch are those of the trained model, measured directly.
  const direct = await activationStats(model, probe.xs);
  expect(last[extraKeys.activationMean('d1')]).toBeCloseTo(direct[0]!.mean, 6);
  expect(last[extraKeys.activationStd('d2')]).toBeCloseTo(direct[1]!.std, 6);
  const g = await gradientNorms(model, probe, sparseCE);
  expect(last[extraKeys.gradNorm('d1')]).toBeCloseTo(g.perLayer['d1']!, 5);
  expect(last[extraKeys.gradNorm('bn1')]).toBeCloseTo(g.perLayer['bn1']!, 5);
  expect(last[extraKeys.gradNormTotal]).toBeCloseTo(g.total, 5);
  const inf = await evaluateModel(model, probe);
  const trn = await evaluateModel(model, probe, { training: true });
  expect(last[extraKeys.probeAccuracyInferenceMode]).toBeCloseTo(inf.accuracy, 6);
  expect(last[extraKeys.probeLossTrainingMode]).toBeCloseTo(trn.loss, 5);
});
