import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ActivationTracer, percentilesOfSorted } from '../../src/recorder/activation_trace';
import { TrainingRecorder } from '../../src/recorder/training_recorder';
import { validateTrainingRecord } from '../../src/record/record';
import { activationTracesToCsv } from '../../src/export/csv';
import { buildReport } from '../../src/report/report';
import { initTestBackend } from '../helpers/backend';

beforeAll(async () => {
  await initTestBackend('cpu');
});

/** NumPy's default percentile of 1, 2, …, n: the value at rank p/100 × (n − 1), counting from 1. */
const ofOneToN = (n: number, p: number): number => 1 + (p / 100) * (n - 1);

/** Inputs whose column 0 is 1…n and column 1 is −2·(1…n), in a scrambled order. */
function inputs(n: number): tf.Tensor2D {
  const rows = Array.from({ length: n }, (_, i) => ((i * 37) % n) + 1).map((v) => [v, -2 * v]);
  return tf.tensor2d(rows);
}

/** Dense(2, identity kernel, sigmoid) → [batch norm] → Dense(2, softmax): block 1's pre-activation is its input. */
function identityModel(norm: boolean): tfl.LayersModel {
  const input = tfl.input({ shape: [2] });
  let h = tfl.layers
    .dense({ units: 2, activation: norm ? 'linear' : 'sigmoid', kernelInitializer: 'identity', biasInitializer: 'zeros', name: 'hidden' })
    .apply(input) as tfl.SymbolicTensor;
  if (norm) {
    h = tfl.layers.batchNormalization({ name: 'bn' }).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.activation({ activation: 'sigmoid' }).apply(h) as tfl.SymbolicTensor;
  }
  const out = tfl.layers.dense({ units: 2, activation: 'softmax', name: 'out' }).apply(h) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: input, outputs: out });
  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

describe('percentilesOfSorted', () => {
  it("interpolates linearly between order statistics, as NumPy's default", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentilesOfSorted(sorted, [15, 50, 85])).toEqual([15.85, 50.5, 85.15].map((v) => expect.closeTo(v, 12)));
    expect(percentilesOfSorted(sorted, [0, 100])).toEqual([1, 100]);
    expect(percentilesOfSorted([7], [15, 85])).toEqual([7, 7]);
    expect(percentilesOfSorted([0, 10], [25])).toEqual([2.5]);
    expect(() => percentilesOfSorted([], [50])).toThrow(/empty/);
    // A value that is not finite (a run that blew up) makes every percentile NaN.
    expect(percentilesOfSorted([1, 2, NaN], [0, 50])).toEqual([NaN, NaN]);
    expect(percentilesOfSorted([-Infinity, 1, 2], [50])).toEqual([NaN]);
  });
});

describe('ActivationTracer', () => {
  it("traces the last hidden block's input to its sigmoid by default (an inline activation), per unit", async () => {
    const model = identityModel(false);
    const xs = inputs(101);
    const tracer = new ActivationTracer(model, { xs, units: [0, 1] });
    await tracer.measure(0);
    const [u0, u1] = tracer.traces;
    expect(u0).toMatchObject({ block: 'hidden', unit: 0, percentiles: [15, 50, 85], steps: [0] });
    // Pre-activation = input: the percentiles of 1…101 and of −2·(1…101), not of the sigmoid's output.
    expect(u0!.values[0]).toEqual([15, 50, 85].map((p) => expect.closeTo(ofOneToN(101, p), 4)));
    expect(u1!.values[0]).toEqual([15, 50, 85].map((p) => expect.closeTo(-2 * ofOneToN(101, 100 - p), 4)));
    xs.dispose();
  });

  it('with batch norm before the activation, traces the normalized input (training mode: the batch statistics of the examples)', async () => {
    const model = identityModel(true);
    const xs = inputs(100);
    const tracer = new ActivationTracer(model, { xs, block: 'hidden', percentiles: [15, 85], training: true });
    const before = tf.memory().numTensors;
    await tracer.measure(3);
    expect(tf.memory().numTensors).toBe(before);
    // (x − mean) / sqrt(var + 0.001) of 1…100: mean 50.5, biased variance (100² − 1) / 12.
    const sd = Math.sqrt((100 * 100 - 1) / 12 + 0.001);
    expect(tracer.traces[0]!.values[0]).toEqual([15.85, 85.15].map((v) => expect.closeTo((v - 50.5) / sd, 4)));
    // Inference mode with fresh moving statistics (mean 0, variance 1): x / sqrt(1 + 0.001).
    const inference = new ActivationTracer(model, { xs, block: 1, percentiles: [50] });
    await inference.measure(0);
    expect(inference.traces[0]!.values[0]![0]).toBeCloseTo(50.5 / Math.sqrt(1.001), 4);
    xs.dispose();
  });

  it('takes a conv channel over every example and position', async () => {
    // 1×1 conv with the identity kernel on 2 channels, ReLU: channel 1 of 4 images of 5×5 holds 1…100.
    const input = tfl.input({ shape: [5, 5, 2] });
    const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu', biasInitializer: 'zeros', name: 'conv' });
    const out = tfl.layers
      .dense({ units: 2, activation: 'softmax' })
      .apply(tfl.layers.flatten().apply(conv.apply(input))) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    conv.setWeights([tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]), tf.zeros([2])]);
    const values = Array.from({ length: 100 }, (_, k) => [-(k + 1), ((k * 37) % 100) + 1]).flat();
    const xs = tf.tensor4d(values, [4, 5, 5, 2]);
    const tracer = new ActivationTracer(model, { xs, block: 'conv', units: [0, 1] });
    await tracer.measure(0);
    // Before the ReLU: channel 0 holds −1…−100, channel 1 holds 1…100 in a scrambled order.
    expect(tracer.traces[0]!.values[0]).toEqual([15, 50, 85].map((p) => expect.closeTo(-ofOneToN(100, 100 - p), 4)));
    expect(tracer.traces[1]!.values[0]).toEqual([15, 50, 85].map((p) => expect.closeTo(ofOneToN(100, p), 4)));
    xs.dispose();
  });

  it('names the field and the choices when the block, units, percentiles or interval are wrong', () => {
    const model = identityModel(false);
    const xs = inputs(4);
    const make = (o: Record<string, unknown>) => () => new ActivationTracer(model, { xs, ...o });
    expect(make({ block: 'nope' })).toThrow('activationTrace.block: no conv or dense block is named "nope"; the blocks are hidden, out');
    expect(make({ block: 3 })).toThrow("activationTrace.block: position 3 is outside the model's 2 conv/dense blocks (hidden, out)");
    expect(make({ units: [2] })).toThrow("activationTrace.units: unit 2 is not one of block hidden's 2 units (0 to 1)");
    expect(make({ percentiles: [101] })).toThrow('activationTrace.percentiles: expected values in [0, 100], got 101');
    expect(make({ every: 0 })).toThrow('activationTrace.every: expected an integer ≥ 1, got 0');
    expect(make({ units: [1, 0, 1] })).toThrow('activationTrace.units: unit 1 is listed twice');
    expect(make({ block: 'nope', name: 'record.activationTrace' })).toThrow(/^record\.activationTrace\.block: no conv or dense block/);
    xs.dispose();
  });
});

describe('TrainingRecorder with activationTrace', () => {
  /** Trains `steps` SGD steps on the identity model, recording them, and returns the recorder. */
  async function train(steps: number, rec: TrainingRecorder, model: tfl.LayersModel, from = 0): Promise<void> {
    const x = inputs(8);
    const y = tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1]);
    rec.beginEpoch(from);
    for (let s = 0; s < steps; s++) {
      const out = (await model.trainOnBatch(x, y)) as number[];
      await rec.recordBatch({ loss: out[0] as number, size: 8 });
    }
    await rec.endEpoch();
    tf.dispose([x, y]);
  }

  it('measures before training and every `every` steps, keeps the trace in the record, and reads it back', async () => {
    const model = identityModel(false);
    const xs = inputs(20);
    const rec = new TrainingRecorder({ runId: 't', environment: {}, activationTrace: { xs, every: 2 } });
    await rec.begin(model);
    await train(5, rec, model);
    const record = await rec.end();
    const [trace] = record.activationTraces!;
    expect(trace!.steps).toEqual([0, 2, 4]);
    // The first hidden unit's kernel row changes with training: the percentiles move.
    expect(trace!.values[0]).not.toEqual(trace!.values[2]);
    expect(trace!.values[0]).toEqual([15, 50, 85].map((p) => expect.closeTo(ofOneToN(20, p), 4)));
    const back = validateTrainingRecord(JSON.parse(JSON.stringify(record)));
    expect(back.activationTraces).toEqual(record.activationTraces);
    xs.dispose();
  });

  it("keeps the time spent measuring out of the epoch's seconds", async () => {
    const model = identityModel(false);
    const xs = inputs(20);
    // A clock that advances 1 s per reading.
    let t = 0;
    const rec = new TrainingRecorder({ environment: {}, activationTrace: { xs, every: 1 }, now: () => ++t * 1000 });
    await rec.begin(model);
    rec.beginEpoch(0);
    for (let s = 0; s < 3; s++) await rec.recordBatch({ loss: 1, size: 8 });
    const epoch = await rec.endEpoch();
    // Readings: the epoch's start, then per batch its end, the measurement's start and its end:
    // 9 s from the start to the last reading, 3 of them measuring.
    expect(epoch!.seconds).toBe(6);
    xs.dispose();
  });

  it('a resumed run goes on with the saved trace, without measuring its last step twice', async () => {
    const model = identityModel(false);
    const xs = inputs(20);
    const first = new TrainingRecorder({ runId: 'r', environment: {}, activationTrace: { xs, every: 2 } });
    await first.begin(model);
    await train(4, first, model);
    const saved = JSON.parse(JSON.stringify(first.record));
    const second = new TrainingRecorder({ runId: 'r', environment: {}, activationTrace: { xs, every: 2 } });
    await second.begin(model, { resumeFrom: saved });
    await train(2, second, model, 1);
    expect(second.record.activationTraces![0]!.steps).toEqual([0, 2, 4, 6]);
    xs.dispose();
  });

  it('goes to activations.csv (one row per measurement) and to a report figure', async () => {
    const record = validateTrainingRecord({
      version: 1,
      runId: 'a',
      config: { variant: 'bn' },
      status: 'completed',
      batches: [],
      epochs: [{ epoch: 0, trainLoss: 1, seconds: 1, imagesPerSecond: 1 }],
      activationTraces: [
        {
          block: 'dense_3',
          unit: 0,
          percentiles: [15, 85],
          steps: [0, 100],
          values: [
            [-1, 1],
            [-0.5, 2],
          ],
        },
      ],
      startedAt: '2026-12-07T00:00:00Z',
    });
    expect(activationTracesToCsv([record], { configColumns: 'none' }).trim().split('\n')).toEqual([
      'runId,status,block,unit,step,p15,p85',
      'a,completed,dense_3,0,0,-1,1',
      'a,completed,dense_3,0,100,-0.5,2',
    ]);
    const { report } = await buildReport({ title: 't', runs: [record] });
    const fig = report.figures.find((f) => f.id.startsWith('pre-activation-percentiles'));
    expect(fig?.title).toBe('Pre-activation percentiles of dense_3, unit 0');
    expect(fig?.svg).toContain('85th');
    expect(() => validateTrainingRecord({ ...record, activationTraces: [{ ...record.activationTraces![0], values: [[1]] }] })).toThrow(
      'record.activationTraces[0].values[0] must be 2 values (one per percentile), got an array',
    );
    expect(() => validateTrainingRecord({ ...record, activationTraces: [{ ...record.activationTraces![0], values: [[1, 2]] }] })).toThrow(
      'record.activationTraces[0].values must be 2 rows (one per step), got an array',
    );
  });
});
