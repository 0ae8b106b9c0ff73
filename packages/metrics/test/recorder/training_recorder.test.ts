import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initTestBackend } from '../helpers/backend';
import { TrainingRecorder } from '../../src/recorder/training_recorder';
import { extraKeys } from '../../src/record/record';
import { HandSoftmax, type Matrix } from '../helpers/hand';

const W0: Matrix = [
  [0.2, -0.3, 0.1],
  [-0.4, 0.25, 0.3],
];
const B0 = [0.05, -0.02, 0.0];
const X: Matrix = [
  [1.0, 2.0],
  [-1.5, 0.5],
  [0.3, -0.7],
  [2.0, 1.0],
  [-0.5, -1.2],
];
const Y = [2, 0, 1, 0, 1];
const VX: Matrix = [
  [0.5, 0.5],
  [-1.0, 1.0],
  [1.5, -0.5],
];
const VY = [0, 2, 1];
const TX: Matrix = [
  [-0.2, 0.9],
  [1.1, -1.3],
  [0.4, 0.4],
  [-2.0, -0.3],
];
const TY = [1, 2, 0, 0];
const LR = 0.5;

function makeModel(): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [tfl.layers.dense({ units: 3, inputShape: [2], activation: 'softmax' })],
  });
  model.layers[0]!.setWeights([tf.tensor2d(W0), tf.tensor1d(B0)]);
  model.compile({ optimizer: tf.train.sgd(LR), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** A clock that moves 100 ms every time it is read. */
function steppingClock(): () => number {
  let t = 0;
  return () => (t += 100);
}

beforeAll(async () => {
  await initTestBackend();
});

describe('TrainingRecorder as a model.fit callback', () => {
  test('records per-batch and per-epoch figures equal to a run computed by hand', async () => {
    const model = makeModel();
    const validation = { xs: tf.tensor2d(VX), ys: tf.tensor1d(VY, 'float32') };
    const test = { xs: tf.tensor2d(TX), ys: tf.tensor1d(TY, 'float32') };
    const rec = new TrainingRecorder({ runId: 'hand', config: { lr: LR }, validation, test, now: steppingClock() });
    await model.fit(tf.tensor2d(X), tf.tensor1d(Y, 'float32'), {
      epochs: 2,
      batchSize: 2,
      shuffle: false,
      verbose: 0,
      callbacks: rec.callback(),
    });
    const r = rec.record;

    // The same run by hand: 2 epochs of batches [0,1], [2,3], [4] with SGD.
    const hand = new HandSoftmax(
      W0.map((row) => [...row]),
      [...B0],
    );
    const expectedBatches: Array<{ loss: number; acc: number }> = [];
    const expectedEpochs: Array<{
      train: number;
      trainAcc: number;
      val: { loss: number; acc: number };
      test: { loss: number; acc: number };
    }> = [];
    for (let e = 0; e < 2; e++) {
      let lossSum = 0;
      let accSum = 0;
      for (const [s, n] of [
        [0, 2],
        [2, 2],
        [4, 1],
      ] as const) {
        const out = hand.sgdStep(X.slice(s, s + n), Y.slice(s, s + n), LR);
        expectedBatches.push(out);
        lossSum += out.loss * n;
        accSum += out.acc * n;
      }
      expectedEpochs.push({ train: lossSum / 5, trainAcc: accSum / 5, val: hand.evaluate(VX, VY), test: hand.evaluate(TX, TY) });
    }

    expect(r.status).toBe('completed');
    expect(r.runId).toBe('hand');
    expect(r.config).toEqual({ lr: LR });
    expect(r.batches).toHaveLength(6);
    r.batches.forEach((b, i) => {
      expect(b.step).toBe(i);
      expect(b.epoch).toBe(Math.floor(i / 3));
      expect(b.batch).toBe(i % 3);
      expect(b.loss).toBeCloseTo(expectedBatches[i]!.loss, 5);
      expect(b.accuracy).toBeCloseTo(expectedBatches[i]!.acc, 6);
      expect(b.learningRate).toBeCloseTo(LR, 7);
    });
    // The run must have learned something, or the comparison says little.
    expect(expectedEpochs[1]!.train).toBeLessThan(expectedEpochs[0]!.train);

    expect(r.epochs).toHaveLength(2);
    r.epochs.forEach((e, i) => {
      const x = expectedEpochs[i]!;
      expect(e.epoch).toBe(i);
      expect(e.trainLoss).toBeCloseTo(x.train, 5);
      expect(e.trainAccuracy).toBeCloseTo(x.trainAcc, 6);
      expect(e.valLoss).toBeCloseTo(x.val.loss, 5);
      expect(e.valAccuracy).toBeCloseTo(x.val.acc, 6);
      expect(e.testLoss).toBeCloseTo(x.test.loss, 5);
      expect(e.testAccuracy).toBeCloseTo(x.test.acc, 6);
      // beginEpoch, then 3 batches, 100 ms per clock read: 0.3 s for 5 images.
      expect(e.seconds).toBeCloseTo(0.3, 10);
      expect(e.imagesPerSecond).toBeCloseTo(5 / 0.3, 8);
      expect(e.learningRate).toBeCloseTo(LR, 7);
      expect(e.extra?.[extraKeys.batches]).toBe(3);
      expect(e.extra?.[extraKeys.evalSeconds]).toBeCloseTo(0.1, 10);
    });
    expect(r.environment?.backend).toBe('cpu');
    expect(Date.parse(r.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
    tf.dispose([validation.xs, validation.ys, test.xs, test.ys]);
  });

  test("takes fit's own val_loss / val_acc when fit validates", async () => {
    const model = makeModel();
    const rec = new TrainingRecorder({ now: steppingClock() });
    await model.fit(tf.tensor2d(X), tf.tensor1d(Y, 'float32'), {
      epochs: 1,
      batchSize: 5,
      shuffle: false,
      verbose: 0,
      validationData: [tf.tensor2d(VX), tf.tensor1d(VY, 'float32')],
      callbacks: rec.callback(),
    });
    const hand = new HandSoftmax(
      W0.map((row) => [...row]),
      [...B0],
    );
    hand.sgdStep(X, Y, LR);
    const val = hand.evaluate(VX, VY);
    const e = rec.record.epochs[0]!;
    expect(e.valLoss).toBeCloseTo(val.loss, 5);
    expect(e.valAccuracy).toBeCloseTo(val.acc, 6);
    expect(e.testLoss).toBeUndefined();
  });
});

describe('TrainingRecorder as a model.fitDataset callback', () => {
  test('records the same per-batch figures as the hand-computed run', async () => {
    const model = makeModel();
    // A minimal tfjs-data-like dataset: batches [0,1], [2,3], [4] in order, every epoch.
    const dataset = {
      size: null,
      iterator: async () => {
        const cuts = [
          [0, 2],
          [2, 2],
          [4, 1],
        ] as const;
        let i = 0;
        return {
          next: async () =>
            i < cuts.length
              ? {
                  value: {
                    xs: tf.tensor2d(X.slice(cuts[i]![0], cuts[i]![0] + cuts[i]![1])),
                    ys: tf.tensor1d(Y.slice(cuts[i]![0], cuts[i]![0] + cuts[i++]![1]), 'float32'),
                  },
                  done: false,
                }
              : { value: null, done: true },
        };
      },
    };
    const rec = new TrainingRecorder({ now: steppingClock(), environment: {} });
    await model.fitDataset(dataset as unknown as Parameters<tfl.LayersModel['fitDataset']>[0], {
      epochs: 2,
      verbose: 0,
      callbacks: rec.callback(),
    });
    const hand = new HandSoftmax(
      W0.map((row) => [...row]),
      [...B0],
    );
    const expected: number[] = [];
    for (let e = 0; e < 2; e++)
      for (const [s, n] of [
        [0, 2],
        [2, 2],
        [4, 1],
      ] as const)
        expected.push(hand.sgdStep(X.slice(s, s + n), Y.slice(s, s + n), LR).loss);
    expect(
      rec.record.batches
        .map((b) => b.loss)
        .map((l, i) => l - expected[i]!)
        .every((d) => Math.abs(d) < 1e-5),
    ).toBe(true);
    expect(rec.record.epochs.map((e) => e.imagesPerSecond)).toEqual([5 / 0.3, 5 / 0.3].map((v) => expect.closeTo(v, 8)));
    expect(rec.record.status).toBe('completed');
  });
});

describe('TrainingRecorder in a custom loop and as a MetricsSink', () => {
  test('weights epoch means by batch size and forwards everything to sinks', async () => {
    const seen: string[] = [];
    const rec = new TrainingRecorder({
      runId: 'loop',
      divergence: false,
      environment: { backend: 'test' },
      now: steppingClock(),
      learningRate: () => 0.01,
      sinks: [
        {
          onRunStart: (i) => void seen.push(`start:${i.runId}`),
          onBatch: (b) => void seen.push(`batch:${b.step}`),
          onEpoch: (e) => void seen.push(`epoch:${e.epoch}`),
          onRunEnd: (r) => void seen.push(`end:${r.status}`),
        },
      ],
    });
    await rec.begin();
    rec.beginEpoch(0);
    await rec.recordBatch({ loss: 2, accuracy: 0.5, size: 3 });
    await rec.recordBatch({ loss: 1, accuracy: 1, size: 1 });
    const e0 = await rec.endEpoch();
    // A batch without beginEpoch opens the next epoch.
    await rec.recordBatch({ loss: 0.5, size: 4 });
    const e1 = await rec.endEpoch({ valLoss: 0.7 });
    const record = await rec.end();
    expect(e0?.trainLoss).toBeCloseTo((2 * 3 + 1 * 1) / 4, 12);
    expect(e0?.trainAccuracy).toBeCloseTo((0.5 * 3 + 1) / 4, 12);
    expect(e0?.imagesPerSecond).toBeCloseTo(4 / 0.2, 9);
    expect(e1?.epoch).toBe(1);
    expect(e1?.valLoss).toBe(0.7);
    expect(e1?.trainAccuracy).toBeUndefined();
    expect(record.batches.map((b) => [b.step, b.epoch, b.batch])).toEqual([
      [0, 0, 0],
      [1, 0, 1],
      [2, 1, 0],
    ]);
    expect(record.batches[0]!.learningRate).toBe(0.01);
    expect(seen).toEqual(['start:loop', 'batch:0', 'batch:1', 'epoch:0', 'batch:2', 'epoch:1', 'end:completed']);
  });

  test('stores records pushed in through the MetricsSink methods', async () => {
    const rec = new TrainingRecorder({ environment: {}, divergence: { numClasses: 10 } });
    await rec.onRunStart({ runId: 'sink', config: { a: 1 } });
    await rec.onBatch({ step: 0, epoch: 0, batch: 0, loss: 2.5 });
    await rec.onBatch({ step: 1, epoch: 0, batch: 1, loss: 1.5 });
    await rec.onEpoch({ epoch: 0, trainLoss: 2, seconds: 1, imagesPerSecond: 100 });
    await rec.onRunEnd({ ...rec.record, status: 'interrupted' });
    expect(rec.record.runId).toBe('sink');
    expect(rec.record.config).toEqual({ a: 1 });
    expect(rec.record.batches).toHaveLength(2);
    expect(rec.record.epochs).toEqual([{ epoch: 0, trainLoss: 2, seconds: 1, imagesPerSecond: 100 }]);
    expect(rec.record.status).toBe('interrupted');
  });

  test('fail() keeps the record and the message; misuse is a clear error', async () => {
    const rec = new TrainingRecorder({ environment: {} });
    await expect(rec.recordBatch({ loss: 1, size: 1 })).rejects.toThrow(/before begin\(\)/);
    await rec.begin();
    await rec.recordBatch({ loss: 1, size: 1 });
    await expect(rec.recordBatch({ loss: 1, size: 0 })).rejects.toThrow(/batch size must be an integer ≥ 1, got 0/);
    const r = await rec.fail(new Error('out of memory'));
    expect(r.status).toBe('failed');
    expect(r.error).toBe('out of memory');
    expect(r.batches).toHaveLength(1);
    await expect(rec.begin()).rejects.toThrow(/already started/);
  });

  test('asks for a probe batch when a probe figure is on', () => {
    expect(() => new TrainingRecorder({ gradientNorms: true })).toThrow(/probe: .* need a probe batch/);
  });
});
