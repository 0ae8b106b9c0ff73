import type { TrainingRecord } from '@bnlab/core';
import { Rng } from '@bnlab/core';

/**
 * A synthetic record shaped like a real run: the loss falls as a / (1 + step / 30) with
 * seeded noise, accuracy rises; `diverge` makes the loss NaN from that step on.
 */
export function syntheticRecord(options: {
  runId: string;
  seed: number;
  config?: Record<string, unknown>;
  epochs?: number;
  batchesPerEpoch?: number;
  finalAccuracy?: number;
  diverge?: number;
}): TrainingRecord {
  const rng = new Rng(options.seed);
  const epochs = options.epochs ?? 3;
  const per = options.batchesPerEpoch ?? 40;
  const top = options.finalAccuracy ?? 0.97;
  const r: TrainingRecord = {
    version: 1,
    runId: options.runId,
    config: options.config ?? {},
    status: 'completed',
    batches: [],
    epochs: [],
    startedAt: '2025-01-01T10:00:00.000Z',
    finishedAt: '2025-01-01T10:01:30.500Z',
    environment: { backend: 'wasm', simd: true, threads: 1, versions: { '@tensorflow/tfjs-core': '4.22.0' }, runtime: 'node v20' },
  };
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    let sum = 0;
    for (let b = 0; b < per; b++, step++) {
      const diverged = options.diverge !== undefined && step >= options.diverge;
      const loss = diverged ? NaN : 2.3 / (1 + step / 30) + 0.15 * Math.abs(rng.normal());
      const accuracy = diverged ? 0.1 : Math.min(1, top * (1 - Math.exp(-step / 25)) + 0.05 * rng.normal());
      r.batches.push({ step, epoch: e, batch: b, loss, accuracy, learningRate: 0.001 });
      sum += loss;
      if (diverged) break;
    }
    const done = options.diverge !== undefined && step >= options.diverge;
    const acc = done ? 0.1 : top - (top - 0.85) / (e + 1) + 0.004 * rng.normal();
    r.epochs.push({
      epoch: e,
      trainLoss: sum / per,
      trainAccuracy: acc - 0.01,
      valLoss: done ? NaN : 0.3 / (e + 1) + 0.01 * rng.uniform(),
      valAccuracy: acc,
      testLoss: done ? NaN : 0.31 / (e + 1),
      testAccuracy: acc - 0.002,
      seconds: 10 + rng.uniform(),
      imagesPerSecond: 5400 + 100 * rng.uniform(),
      learningRate: 0.001,
      extra: { batches: per, 'gradNorm/conv1': 0.5 / (e + 1), 'preact/conv1/mean': 0.1 * e, 'preact/conv1/std': 1 + 0.1 * e },
    });
    if (done) {
      r.status = 'diverged';
      r.divergedAtStep = options.diverge!;
      r.error = `diverged: the loss became NaN at step ${options.diverge}`;
      break;
    }
  }
  return r;
}

/**
 * A bare record whose epochs carry only the given validation accuracies (and training loss
 * 1 − accuracy), for checking which values tables and charts take from which runs.
 */
export function valuesRecord(
  runId: string,
  status: TrainingRecord['status'],
  valAccuracy: readonly number[],
  config: Record<string, unknown> = {},
): TrainingRecord {
  return {
    version: 1,
    runId,
    config,
    status,
    batches: [],
    epochs: valAccuracy.map((v, epoch) => ({ epoch, trainLoss: 1 - v, valAccuracy: v, seconds: 1, imagesPerSecond: 100 })),
    startedAt: '2025-01-01T10:00:00.000Z',
    finishedAt: '2025-01-01T10:00:10.000Z',
  };
}
