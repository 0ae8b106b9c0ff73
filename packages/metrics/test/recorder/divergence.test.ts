import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Rng } from '@bnlab/core';
import { DivergenceDetector } from '../../src/recorder/divergence';
import { TrainingRecorder } from '../../src/recorder/training_recorder';
import { initTestBackend } from '../helpers/backend';

beforeAll(initTestBackend);

describe('DivergenceDetector', () => {
  test('a NaN or infinite loss diverges at once, at that step', () => {
    const d = new DivergenceDetector({ numClasses: 10 });
    expect(d.update(0, 2.3)).toBeUndefined();
    const v = d.update(1, NaN);
    expect(v).toMatchObject({ reason: 'non-finite-loss', step: 1, detectedAtStep: 1 });
    expect(v?.message).toMatch(/NaN at step 1/);
    expect(new DivergenceDetector().update(7, Infinity)?.step).toBe(7);
  });

  test('a loss above ln K for `patience` batches in a row diverges from the first of them', () => {
    const d = new DivergenceDetector({ numClasses: 3, patience: 3 });
    expect(d.chanceLoss).toBeCloseTo(1.0986123, 7);
    // 1.2 > ln 3, then back under: the streak resets.
    expect(d.update(0, 1.2)).toBeUndefined();
    expect(d.update(1, 1.0)).toBeUndefined();
    expect(d.update(2, 5)).toBeUndefined();
    expect(d.update(3, 4)).toBeUndefined();
    const v = d.update(4, 1.1);
    expect(v).toMatchObject({ reason: 'above-chance', step: 2, detectedAtStep: 4 });
    expect(v?.message).toMatch(/above chance level \(1\.0986\) for 3 batches from step 2/);
    // Later losses do not change the verdict.
    expect(d.update(5, 0.1)).toBe(v);
  });

  test('warmup exempts the first steps from the above-chance rule, not from NaN', () => {
    const d = new DivergenceDetector({ numClasses: 10, patience: 2, warmup: 3 });
    for (let s = 0; s < 3; s++) expect(d.update(s, 50)).toBeUndefined();
    expect(d.update(3, 50)).toBeUndefined();
    expect(d.update(4, 50)).toMatchObject({ reason: 'above-chance', step: 3 });
    expect(new DivergenceDetector({ warmup: 10 }).update(0, NaN)?.reason).toBe('non-finite-loss');
    expect(() => new DivergenceDetector({ warmup: -1 })).toThrow('divergence.warmup must be an integer ≥ 0, got -1');
  });

  test('without a chance level only non-finite losses count', () => {
    const d = new DivergenceDetector({ patience: 1 });
    expect(d.update(0, 1e6)).toBeUndefined();
  });

  test('bad options name the field and the rule', () => {
    expect(() => new DivergenceDetector({ numClasses: 1 })).toThrow('divergence.numClasses must be an integer ≥ 2, got 1');
    expect(() => new DivergenceDetector({ patience: 0 })).toThrow('divergence.patience must be an integer ≥ 1, got 0');
    expect(() => new DivergenceDetector({ chanceLoss: -1 })).toThrow('divergence.chanceLoss must be a finite number > 0, got -1');
  });
});

describe('a run made to diverge with a huge learning rate', () => {
  test.each([
    ['above-chance', 1e4],
    ['non-finite-loss', 1e38],
  ])('(%s, lr %s) is marked diverged at the right step, stopped, and its record kept', async (reason, lr) => {
    const rng = new Rng(3);
    const n = 64;
    const xs = tf.tensor2d(
      Array.from({ length: n * 8 }, () => rng.normal()),
      [n, 8],
    );
    const ys = tf.tensor1d(
      Array.from({ length: n }, () => rng.int(3)),
      'float32',
    );
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({
          units: 16,
          inputShape: [8],
          activation: 'relu',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
        }),
        tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(lr), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const patience = 5;
    const rec = new TrainingRecorder({ divergence: { patience }, test: { xs, ys }, environment: {} });
    const epochs = 20;
    const batchesPerEpoch = n / 8;
    await model.fit(xs, ys, { epochs, batchSize: 8, shuffle: false, verbose: 0, callbacks: rec.callback() });
    const r = rec.record;

    expect(r.status).toBe('diverged');
    expect(rec.divergence!.reason).toBe(reason);
    expect(r.divergedAtStep).toBeDefined();
    expect(r.error).toMatch(/^diverged: /);
    // Stopped: far fewer steps than planned, and none after the detection.
    const last = r.batches[r.batches.length - 1]!;
    expect(r.batches.length).toBeLessThan(epochs * batchesPerEpoch);
    expect(last.step).toBe(rec.divergence!.detectedAtStep);
    // The verdict agrees with the losses it was made from (chance level ln 3 for 3 outputs).
    const at = r.divergedAtStep!;
    const losses = r.batches.map((b) => b.loss);
    if (rec.divergence!.reason === 'non-finite-loss') {
      expect(Number.isFinite(losses[at]!)).toBe(false);
      expect(losses.slice(0, at).every(Number.isFinite)).toBe(true);
    } else {
      const streak = losses.slice(at, last.step + 1);
      expect(streak).toHaveLength(patience);
      expect(streak.every((l) => l > Math.log(3))).toBe(true);
      expect(losses[at - 1] === undefined || losses[at - 1]! <= Math.log(3)).toBe(true);
    }
    // The record is kept: every batch up to the stop, and the (partial) last epoch evaluated.
    expect(r.epochs.length).toBe(last.epoch + 1);
    expect(r.epochs[r.epochs.length - 1]!.testAccuracy).toBeDefined();
    expect(r.finishedAt).toBeDefined();
    tf.dispose([xs, ys]);
  });

  test('a loss that stays above chance in a custom loop stops the loop', async () => {
    const rec = new TrainingRecorder({ divergence: { numClasses: 10, patience: 4 }, environment: {} });
    await rec.begin();
    let steps = 0;
    for (let e = 0; e < 3 && !rec.shouldStop; e++) {
      rec.beginEpoch(e);
      for (let b = 0; b < 10; b++) {
        // Learning at first, then blowing up from step 6 on.
        await rec.recordBatch({ loss: steps < 6 ? 2.0 - 0.1 * steps : 8 + steps, size: 4 });
        steps++;
        if (rec.shouldStop) break;
      }
      await rec.endEpoch();
    }
    const r = await rec.end();
    expect(r.status).toBe('diverged');
    expect(r.divergedAtStep).toBe(6);
    expect(steps).toBe(10);
    expect(r.epochs).toHaveLength(1);
  });
});
