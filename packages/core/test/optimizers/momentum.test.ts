/**
 * bnlab's fused SGD with momentum against tfjs-core's own MomentumOptimizer (an independent
 * implementation of the same update): same gradients, several steps, variables of sizes on
 * and off the SIMD width, with and without Nesterov; a learning rate changed between steps;
 * its weights round-trip; nothing leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { FusedMomentumOptimizer, momentum } from '../../src/optimizers/momentum.js';
import { Rng } from '../../src/rng.js';
import { randn } from '../support/backends.js';
import { apply, tensorsLeftPerStep, trainOnSeededGradients } from '../support/optimizer_runs.js';

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

/** Runs `steps` updates; the learning rate halves after half of them (a schedule). */
const train = (make: () => tf.MomentumOptimizer, steps: number, seed = 1): Float32Array[] =>
  trainOnSeededGradients(make, steps, seed, (opt, k) => {
    if (k === steps >> 1) opt.setLearningRate(0.5 * (opt as unknown as { learningRate: number }).learningRate);
  });

test.each([
  { lr: 0.1, m: 0.9, nesterov: false },
  { lr: 0.05, m: 0.5, nesterov: true },
])('matches tf.train.momentum to the last bit (lr $lr, momentum $m, Nesterov $nesterov)', ({ lr, m, nesterov }) => {
  const ours = train(() => momentum(lr, m, nesterov), 10);
  const theirs = train(() => tf.train.momentum(lr, m, nesterov), 10);
  ours.forEach((o, i) => expect(Array.from(o)).toEqual(Array.from(theirs[i]!)));
  const start = train(() => momentum(lr, m, nesterov), 0);
  expect(Math.abs(ours[2]![0]! - start[2]![0]!)).toBeGreaterThan(1e-3);
});

test('weights saved from it load into it and into the stock optimizer, and training continues identically', async () => {
  const rng = new Rng(9);
  const w = tf.variable(tf.tensor1d(randn(rng, 6)), true, `ms_${Math.random()}`);
  const g = () => ({ [w.name]: tf.tensor1d(randn(rng, 6)) });
  const a = momentum(0.1, 0.9);
  for (let i = 0; i < 3; i++) apply(a, g());
  expect(a.getClassName()).toBe('Momentum');
  const b = new FusedMomentumOptimizer(0.1, 0.9);
  await b.setWeights(await a.getWeights());
  const c = tf.train.momentum(0.1, 0.9);
  await c.setWeights(await a.getWeights());
  const start = w.dataSync().slice();
  const next = g();
  const results = [a, b, c].map((opt) => {
    w.assign(tf.tensor1d(start));
    apply(opt, next);
    return Array.from(w.dataSync());
  });
  expect(results[1]).toEqual(results[0]);
  expect(results[2]).toEqual(results[0]);
});

test('no tensors are left behind per step', () => {
  expect(tensorsLeftPerStep(momentum(0.1, 0.9))).toBe(0);
});
