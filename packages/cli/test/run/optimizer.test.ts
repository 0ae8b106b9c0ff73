import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@bnlab/core';
import { batchNormalization } from '@bnlab/layers';
import { trainingSchema } from '../../src/experiment/schema.js';
import { runLength } from '../../src/experiment/run_length.js';
import { makeOptimizer } from '../../src/run/optimizer.js';

const TOLERANCE = 1e-6;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await initBackend({ backend: 'cpu', strict: true });
});

/** `training` as a file gives it, validated. */
const training = (t: Record<string, unknown>) => trainingSchema.parse({ epochs: 1, batchSize: 4, ...t });

/** dense (kernel, bias) → batch norm (gamma, beta) → dense (kernel, bias), the same weights every time. */
function model(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.randomNormal({ seed, stddev: 0.5 });
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 3, inputShape: [2], kernelInitializer: init(1), biasInitializer: init(2) }),
      batchNormalization({ gammaInitializer: init(3), betaInitializer: init(4) }),
      tfl.layers.dense({ units: 2, kernelInitializer: init(5), biasInitializer: init(6) }),
    ],
  });
}

const XS = [
  [0.5, -1],
  [1.5, 0.2],
  [-0.3, 0.8],
  [1, 1],
];
const YS = [0, 1, 1, 0];

/** The model's weights before and after one training step with the trial's optimizer. */
async function trainOneStep(t: ReturnType<typeof training>): Promise<{ before: number[][]; after: number[][] }> {
  const m = model();
  const made = makeOptimizer(t, runLength(t, 1), m);
  made.setStep(0);
  m.compile({ optimizer: made.optimizer, loss: 'sparseCategoricalCrossentropy' });
  const read = (): Promise<number[][]> => Promise.all(m.trainableWeights.map(async (w) => Array.from(await w.read().data())));
  const before = await read();
  const [xs, ys] = [tf.tensor2d(XS), tf.tensor1d(YS)];
  await m.trainOnBatch(xs, ys);
  const after = await read();
  tf.dispose([xs, ys]);
  made.optimizer.dispose();
  m.dispose();
  return { before, after };
}

describe('makeOptimizer', () => {
  it("sgd with nesterov is Nesterov's momentum: two steps of a constant gradient against the closed form", async () => {
    const [lr, m] = [0.1, 0.9];
    const net = model();
    const made = makeOptimizer(
      training({ optimizer: { name: 'sgd', learningRate: lr, momentum: m, nesterov: true } }),
      runLength({ epochs: 1 }, 1),
      net,
    );
    const w = tf.variable(tf.tensor1d([1, -2]));
    const g = [0.3, -0.5];
    for (let i = 0; i < 2; i++) made.optimizer.minimize(() => tf.sum(tf.mul(tf.tensor1d(g), w)), false, [w]);
    // buffer b1 = g, b2 = m·g + g; the step is lr·(g + m·b): heavy ball would take lr·b
    const expected = [1, -2].map(
      (w0, i) => w0 - lr * ((g[i] as number) + m * (g[i] as number)) - lr * ((g[i] as number) + m * (m + 1) * (g[i] as number)),
    );
    Array.from(await w.data()).forEach((v, i) => expect(Math.abs(v - (expected[i] as number))).toBeLessThan(TOLERANCE));
    made.optimizer.dispose();
    tf.dispose(w);
    net.dispose();
  });

  it('weight decay leaves the excluded weights of a model exactly as plain SGD does, and decays the others by lr·wd·w', async () => {
    const [lr, wd] = [0.1, 0.2];
    const plain = await trainOneStep(training({ optimizer: { name: 'sgd', learningRate: lr } }));
    for (const weightDecayMode of ['l2', 'decoupled'] as const) {
      const decayed = await trainOneStep(
        training({ optimizer: { name: 'sgd', learningRate: lr, weightDecay: wd, weightDecayMode, weightDecayExclude: ['norm', 'bias'] } }),
      );
      expect(decayed.before).toEqual(plain.before);
      // kernel, bias, gamma, beta, kernel, bias
      [1, 2, 3, 5].forEach((i) => expect(decayed.after[i]).toEqual(plain.after[i]));
      for (const i of [0, 4]) {
        // One SGD step: L2 and decoupled both take lr·wd·w0 more than plain SGD.
        const expected = (plain.after[i] as number[]).map((v, k) => v - lr * wd * (plain.before[i]![k] as number));
        (decayed.after[i] as number[]).forEach((v, k) => expect(Math.abs(v - (expected[k] as number))).toBeLessThan(TOLERANCE));
      }
    }
  });

  it('sets the scheduled rate on the optimizer before a step and returns it', () => {
    const t = training({
      epochs: 4,
      optimizer: { name: 'adam', learningRate: 0.01 },
      schedule: { type: 'multistep', milestones: [2], gamma: 0.1 },
    });
    const net = model();
    const made = makeOptimizer(t, runLength(t, 5), net);
    const rate = (): number => (made.optimizer.getConfig() as { learningRate: number }).learningRate;
    expect([made.setStep(0), rate()]).toEqual([0.01, 0.01]);
    expect(made.setStep(10)).toBeCloseTo(0.001, 15);
    expect(rate()).toBeCloseTo(0.001, 15);
    made.optimizer.dispose();
    net.dispose();
  });
});
