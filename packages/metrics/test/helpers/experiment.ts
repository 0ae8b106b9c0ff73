import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng, type TrainingRecord } from '@bnlab/core';
import { TrainingRecorder } from '../../src/recorder/training_recorder';

export const SIZE = 8;
export const CLASSES = 3;

/** A tiny 3-class image set: class k has a bright horizontal bar at row 1 + 3k, in strong noise. */
export function barsDataset(n: number, seed: number): { xs: tf.Tensor4D; ys: tf.Tensor1D } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * SIZE * SIZE);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = rng.int(CLASSES);
    y[i] = k;
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) x[(i * SIZE + r) * SIZE + c] = (r === 1 + 3 * k ? 1 : 0) + 0.9 * rng.normal();
    }
  }
  return { xs: tf.tensor4d(x, [n, SIZE, SIZE, 1]), ys: tf.tensor1d(y, 'float32') };
}

/** Conv(4, 3×3) → [BN] → ReLU → Flatten → Dense(3, softmax), seeded. */
export function tinyCnn(withBn: boolean, seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed * 10 + s });
  const layers: tfl.layers.Layer[] = [
    tfl.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [SIZE, SIZE, 1], kernelInitializer: init(1), name: 'conv1' }),
  ];
  if (withBn) layers.push(tfl.layers.batchNormalization({ name: 'bn1' }));
  layers.push(
    tfl.layers.activation({ activation: 'relu', name: 'relu1' }),
    tfl.layers.flatten(),
    tfl.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: init(2), name: 'out' }),
  );
  const m = tfl.sequential({ layers });
  m.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

/** Trains both variants over `seeds` seeds with every recorder option on; returns the records and the last models. */
export async function runTinyExperiment(
  seeds: number[],
): Promise<{ runs: TrainingRecord[]; models: Record<'BN' | 'none', tfl.LayersModel>; test: { xs: tf.Tensor4D; ys: tf.Tensor1D } }> {
  const train = barsDataset(128, 1);
  const test = barsDataset(96, 2);
  const probe = { xs: tf.slice(test.xs, 0, 32), ys: tf.slice(test.ys, 0, 32) };
  const runs: TrainingRecord[] = [];
  const models = {} as Record<'BN' | 'none', tfl.LayersModel>;
  for (const variant of ['BN', 'none'] as const) {
    for (const seed of seeds) {
      const model = tinyCnn(variant === 'BN', seed);
      const rec = new TrainingRecorder({
        runId: `${variant}-seed${seed}`,
        config: { variant, seed, epochs: 3, batchSize: 16, optimizer: { name: 'adam', learningRate: 0.01 } },
        test,
        probe,
        trainVsInference: true,
        activationStats: true,
        gradientNorms: true,
      });
      await model.fit(train.xs, train.ys, { epochs: 3, batchSize: 16, verbose: 0, validationSplit: 0.25, callbacks: rec.callback() });
      runs.push(rec.record);
      models[variant] = model;
    }
  }
  return { runs, models, test };
}
