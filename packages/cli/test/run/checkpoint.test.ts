import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@bnlab/core';
import { batchNormalization } from '@bnlab/layers';
import { createTrainingRecord } from '@bnlab/metrics';
import { checkpointPath, loadCheckpoint, removeCheckpoint, restoreCheckpoint, saveCheckpoint } from '../../src/run/checkpoint';

const dir = mkdtempSync(join(tmpdir(), 'bnlab-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ backend: 'cpu', strict: true });
});

/**
 * A dense → batch norm → softmax model; `seed` fixes its initial weights. (No bias before the
 * batch norm: its gradient is rounding noise, which Adam's step normalizes into full-size steps.)
 */
function model(seed: number): tfl.LayersModel {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 5, inputShape: [3], useBias: false, kernelInitializer: tfl.initializers.glorotUniform({ seed }) }),
      batchNormalization({}),
      tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  return m;
}

let xs: tf.Tensor;
let ys: tf.Tensor;
beforeAll(() => {
  xs = tf.tensor2d([
    [1, 2, 3],
    [0.5, -1, 2],
    [-2, 0.3, 1],
    [0, 0, 1],
  ]);
  ys = tf.tensor1d([0, 1, 1, 0]);
});

async function train(m: tfl.LayersModel, optimizer: tf.Optimizer, steps: number): Promise<void> {
  if (!m.optimizer) m.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  for (let i = 0; i < steps; i++) await m.trainOnBatch(xs, ys);
}

const values = (m: tfl.LayersModel): number[][] => m.getWeights().map((w) => Array.from(w.dataSync()));

// Momentum resumes bit for bit. Adam to float32 rounding: tfjs's setWeights recomputes its
// bias-correction powers as β^(t+1) where the running optimizer multiplied by β each step.
test.each([
  ['momentum (Nesterov)', () => tf.train.momentum(0.1, 0.9, true), 0],
  ['adam', () => tf.train.adam(0.01), 1e-5],
])(
  '%s: training 2 steps, saving, restoring into a fresh model and training 3 more equals 5 steps straight',
  async (_name, makeOptimizer, tolerance) => {
    const straight = model(1);
    await train(straight, makeOptimizer(), 5);

    const first = model(1);
    const o1 = makeOptimizer();
    await train(first, o1, 2);
    const record = { ...createTrainingRecord({ runId: 't1' }), epochs: [{ epoch: 0, trainLoss: 0.5, seconds: 1, imagesPerSecond: 4 }] };
    await saveCheckpoint(dir, 't1', first, o1, record);

    const second = model(7); // other initial weights: everything must come from the checkpoint
    const o2 = makeOptimizer();
    second.compile({ optimizer: o2, loss: 'sparseCategoricalCrossentropy' });
    const saved = await loadCheckpoint(dir, 't1');
    expect(saved?.record.epochs).toEqual(record.epochs);
    await restoreCheckpoint(saved!, second, o2, 't1');
    await train(second, o2, 3);
    // The moving mean and variance of batch norm are among the weights compared.
    const [got, want] = [values(second), values(straight)];
    if (tolerance === 0) expect(got).toEqual(want);
    else
      got
        .flat()
        .forEach((v, i) => expect(Math.abs(v - want.flat()[i]!)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(want.flat()[i]!))));
    // A checkpoint of another start differs (the comparison can fail).
    expect(values(model(7))).not.toEqual(want);
  },
);

test('a missing checkpoint is undefined; a changed, cut or foreign one is a DATA_FORMAT error naming the file', async () => {
  expect(await loadCheckpoint(dir, 'none')).toBeUndefined();
  const m = model(3);
  const o = tf.train.sgd(0.1);
  await train(m, o, 1);
  await saveCheckpoint(dir, 't2', m, o, createTrainingRecord({ runId: 't2' }));
  const path = checkpointPath(dir, 't2');
  const good = readFileSync(path);

  const flipped = Buffer.from(good);
  flipped[flipped.length - 3] ^= 0xff;
  writeFileSync(path, flipped);
  await expect(loadCheckpoint(dir, 't2')).rejects.toMatchObject({
    code: 'DATA_FORMAT',
    message: expect.stringMatching(/t2\.ckpt is not a usable checkpoint: its weights do not match their SHA-256/),
  });

  writeFileSync(path, good.subarray(0, 40));
  await expect(loadCheckpoint(dir, 't2')).rejects.toMatchObject({ code: 'DATA_FORMAT', message: expect.stringMatching(/cut short/) });

  // The header is not covered by the SHA-256: a changed shape there is refused by name too.
  const headerLength = good.readUInt32LE(0);
  const header = JSON.parse(good.subarray(4, 4 + headerLength).toString('utf8'));
  header.model[0].shape = ['x'];
  const headerBytes = Buffer.from(JSON.stringify(header));
  const lengthBytes = Buffer.alloc(4);
  lengthBytes.writeUInt32LE(headerBytes.length, 0);
  writeFileSync(path, Buffer.concat([lengthBytes, headerBytes, good.subarray(4 + headerLength)]));
  await expect(loadCheckpoint(dir, 't2')).rejects.toMatchObject({
    code: 'DATA_FORMAT',
    message: expect.stringMatching(/t2\.ckpt is not a usable checkpoint: its header describes a weight without a shape/),
  });

  writeFileSync(checkpointPath(dir, 'other'), good);
  await expect(loadCheckpoint(dir, 'other')).rejects.toThrow(/it is of trial t2, not other/);

  await removeCheckpoint(dir, 't2');
  expect(await loadCheckpoint(dir, 't2')).toBeUndefined();
});

test('a checkpoint that does not fit the model is INVALID_CONFIG and leaks no tensors', async () => {
  const m = model(3);
  const o = tf.train.sgd(0.1);
  await train(m, o, 1);
  await saveCheckpoint(dir, 't3', m, o, createTrainingRecord({ runId: 't3' }));
  const other = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3] })] });
  const saved = await loadCheckpoint(dir, 't3');
  const before = tf.memory().numTensors;
  await expect(restoreCheckpoint(saved!, other, tf.train.sgd(0.1), 'trial t3')).rejects.toMatchObject({
    code: 'INVALID_CONFIG',
    message: expect.stringMatching(/trial t3: the checkpoint's weights .* do not fit the model/),
  });
  expect(tf.memory().numTensors).toBeLessThan(before);
});
