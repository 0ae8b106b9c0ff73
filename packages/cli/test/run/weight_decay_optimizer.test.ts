import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@bnlab/core';
import { adam } from '@bnlab/core';
import { WeightDecayOptimizer } from '../../src/run/weight_decay_optimizer.js';

/** float32 arithmetic in tfjs against float64 closed forms. */
const TOLERANCE = 1e-6;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await initBackend({ backend: 'cpu', strict: true });
});

const W0 = [0.5, -1.2, 2.0];
const B0 = [0.3, -0.4];
// The loss Σ c·w + Σ d·b has the constant gradients c and d.
const C = [0.7, 0.2, -1.5];
const D = [-0.6, 0.9];

/** Two fresh variables, one step of `optimizer` on the linear loss, and their values after it. */
async function oneStep(make: (names: { w: string; b: string }) => tf.Optimizer, steps = 1): Promise<{ w: number[]; b: number[] }> {
  const w = tf.variable(tf.tensor1d(W0));
  const b = tf.variable(tf.tensor1d(B0));
  const optimizer = make({ w: w.name, b: b.name });
  try {
    for (let i = 0; i < steps; i++) {
      // With a variable list, as tfjs-layers' trainOnBatch calls it (the gradients as an array).
      optimizer.minimize(() => tf.add(tf.sum(tf.mul(tf.tensor1d(C), w)), tf.sum(tf.mul(tf.tensor1d(D), b))), false, [w, b]);
    }
    return { w: Array.from(await w.data()), b: Array.from(await b.data()) };
  } finally {
    optimizer.dispose();
    tf.dispose([w, b]);
  }
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) =>
    expect(Math.abs(a - (expected[i] as number))).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(expected[i] as number))),
  );
}

const LR = 0.1;
const WD = 0.05;

describe('WeightDecayOptimizer on SGD, one step against the closed form', () => {
  it('l2: w ← w − lr·(g + wd·w)', async () => {
    const after = await oneStep(() => new WeightDecayOptimizer(tf.train.sgd(LR), { weightDecay: WD, mode: 'l2', learningRate: LR }));
    expectClose(
      after.w,
      W0.map((w, i) => w - LR * ((C[i] as number) + WD * w)),
    );
    expectClose(
      after.b,
      B0.map((b, i) => b - LR * ((D[i] as number) + WD * b)),
    );
  });

  it('decoupled: w ← w − lr·g − lr·wd·w, the decay of the weights before the step', async () => {
    const after = await oneStep(() => new WeightDecayOptimizer(tf.train.sgd(LR), { weightDecay: WD, mode: 'decoupled', learningRate: LR }));
    expectClose(
      after.w,
      W0.map((w, i) => w - LR * (C[i] as number) - LR * WD * w),
    );
  });

  it('decoupled decay uses the rate in force, as the schedule sets it', async () => {
    const after = await oneStep(() => {
      const o = new WeightDecayOptimizer(tf.train.sgd(LR), { weightDecay: WD, mode: 'decoupled', learningRate: LR });
      o.setLearningRate(0.02);
      return o;
    });
    expectClose(
      after.w,
      W0.map((w, i) => w - 0.02 * (C[i] as number) - 0.02 * WD * w),
    );
  });

  it.each(['l2', 'decoupled'] as const)('%s: an excluded variable gets the plain SGD step', async (mode) => {
    const after = await oneStep(
      ({ b }) => new WeightDecayOptimizer(tf.train.sgd(LR), { weightDecay: WD, mode, learningRate: LR, exclude: new Set([b]) }),
    );
    expectClose(
      after.b,
      B0.map((b, i) => b - LR * (D[i] as number)),
    );
    expectClose(
      after.w,
      W0.map((w, i) => w - LR * (C[i] as number) - LR * WD * w),
    );
  });

  it('l2 with momentum: the decay term enters the momentum buffer (two steps)', async () => {
    const m = 0.9;
    const after = await oneStep(
      () => new WeightDecayOptimizer(tf.train.momentum(LR, m), { weightDecay: WD, mode: 'l2', learningRate: LR }),
      2,
    );
    const expected = W0.map((w0, i) => {
      const g0 = (C[i] as number) + WD * w0;
      const w1 = w0 - LR * g0;
      const g1 = (C[i] as number) + WD * w1;
      return w1 - LR * (m * g0 + g1);
    });
    expectClose(after.w, expected);
  });
});

describe('WeightDecayOptimizer on Adam, one step', () => {
  // The first Adam step moves each weight by lr·ĝ/(|ĝ| + ε) (bias-corrected moments of one gradient).
  const adamStep = (g: number): number => (LR * g) / (Math.abs(g) + 1e-7);

  it('decoupled is AdamW: w ← w·(1 − lr·wd) − lr·ĝ/(|ĝ| + ε)', async () => {
    const after = await oneStep(() => new WeightDecayOptimizer(adam(LR), { weightDecay: WD, mode: 'decoupled', learningRate: LR }));
    expectClose(
      after.w,
      W0.map((w, i) => w * (1 - LR * WD) - adamStep(C[i] as number)),
    );
  });

  it('l2 is Adam of g + wd·w', async () => {
    const after = await oneStep(() => new WeightDecayOptimizer(adam(LR), { weightDecay: WD, mode: 'l2', learningRate: LR }));
    expectClose(
      after.w,
      W0.map((w, i) => w - adamStep((C[i] as number) + WD * w)),
    );
  });
});

it('leaves no tensor behind that the inner optimizer alone would not', async () => {
  const leak = async (make: () => tf.Optimizer): Promise<number> => {
    const before = tf.memory().numTensors;
    await oneStep(make, 2);
    return tf.memory().numTensors - before;
  };
  for (const mode of ['l2', 'decoupled'] as const) {
    // tfjs's MomentumOptimizer keeps its learning-rate scalar after dispose(): count it in the reference.
    expect(await leak(() => new WeightDecayOptimizer(tf.train.momentum(LR, 0.9), { weightDecay: WD, mode, learningRate: LR }))).toBe(
      await leak(() => tf.train.momentum(LR, 0.9)),
    );
    expect(await leak(() => new WeightDecayOptimizer(adam(LR), { weightDecay: WD, mode, learningRate: LR }))).toBe(
      await leak(() => adam(LR)),
    );
  }
});
