/**
 * bnlab's fused Adam against tfjs-core's own AdamOptimizer (an independent implementation of
 * the same update): same gradients, several steps, variables of sizes on and off the SIMD
 * width; its optimizer weights round-trip; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { adam, FusedAdamOptimizer } from '../../src/optimizers/adam.js';
import { Rng } from '../../src/rng.js';
import { randn } from '../support/backends.js';
import { apply, tensorsLeftPerStep, trainOnSeededGradients } from '../support/optimizer_runs.js';

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

const train = (make: () => tf.Optimizer, steps: number, seed = 1): Float32Array[] => trainOnSeededGradients(make, steps, seed);

test.each([
  { lr: 0.001, b1: 0.9, b2: 0.999, eps: null },
  { lr: 0.05, b1: 0.8, b2: 0.99, eps: 1e-4 },
])('matches tf.train.adam step for step (lr $lr, β $b1/$b2, ε $eps)', ({ lr, b1, b2, eps }) => {
  const ours = train(() => adam(lr, b1, b2, eps), 12);
  const theirs = train(() => tf.train.adam(lr, b1, b2, eps ?? undefined), 12);
  ours.forEach((o, i) => {
    const t = theirs[i]!;
    for (let j = 0; j < o.length; j++) expect(Math.abs(o[j]! - t[j]!)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(t[j]!)));
  });
  // The update did something: 12 steps moved the weights.
  const start = train(() => adam(lr, b1, b2, eps), 0);
  expect(Math.abs(ours[2]![0]! - start[2]![0]!)).toBeGreaterThan(1e-4);
});

test('weights saved from it load into it (and into the stock optimizer) and training continues identically', async () => {
  const rng = new Rng(9);
  const w = tf.variable(tf.tensor1d(randn(rng, 6)), true, `ws_${Math.random()}`);
  const g = () => ({ [w.name]: tf.tensor1d(randn(rng, 6)) });
  const a = adam(0.01);
  for (let i = 0; i < 3; i++) apply(a, g());
  const saved = await a.getWeights();
  expect(a.getClassName()).toBe('Adam');
  const b = new FusedAdamOptimizer(0.01);
  await b.setWeights(saved);
  const c = tf.train.adam(0.01);
  await c.setWeights(await a.getWeights());
  const start = w.dataSync().slice();
  const next = g();
  const results = [a, b, c].map((opt) => {
    w.assign(tf.tensor1d(start));
    apply(opt, next);
    return w.dataSync().slice();
  });
  for (let j = 0; j < 6; j++) {
    expect(results[1]![j]).toBe(results[0]![j]);
    expect(Math.abs(results[2]![j]! - results[0]![j]!)).toBeLessThan(1e-6);
  }
});

test('no tensors are left behind per step', () => {
  expect(tensorsLeftPerStep(adam(0.01))).toBe(0);
});
