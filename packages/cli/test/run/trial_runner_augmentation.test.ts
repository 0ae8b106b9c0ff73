import { initBackend } from '@bnlab/core';
import type { BackendInfo } from '@bnlab/core';
import { ImageDataset } from '@bnlab/datasets';
import type { ImageBatchOptions } from '@bnlab/datasets';
import { parseExperiment } from '../../src/experiment/load.js';
import { expandTrials } from '../../src/experiment/trials.js';
import type { DataCache } from '../../src/run/data.js';
import { runTrial } from '../../src/run/trial_runner.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await initBackend({ backend: 'cpu' });
});

/** n images of 6×6×1 with two classes. */
function images(name: string, n: number): ImageDataset {
  const bytes = Uint8Array.from({ length: n * 36 }, (_, k) => (k * 37) % 256);
  return new ImageDataset({
    name,
    images: bytes,
    labels: Uint8Array.from({ length: n }, (_, i) => i % 2),
    imageShape: [6, 6, 1],
    classNames: ['a', 'b'],
  });
}

/** Runs one trial of `training` on tiny data and returns the options of every `batches` call, by dataset. */
async function batchCalls(
  training: Record<string, unknown>,
  norm: Record<string, unknown> = { type: 'batch' },
  evaluation: Record<string, unknown> = {},
) {
  const train = images('train', 24);
  const test = images('test', 10);
  const calls: Record<'train' | 'test', ImageBatchOptions[]> = { train: [], test: [] };
  for (const [key, d] of [
    ['train', train],
    ['test', test],
  ] as const) {
    const batches = d.batches.bind(d);
    d.batches = (options: ImageBatchOptions) => {
      calls[key].push(options);
      return batches(options);
    };
  }
  const experiment = parseExperiment({
    name: 'augmentation',
    dataset: { name: 'mnist' },
    model: { architecture: 'mlp', norm, options: { hiddenUnits: [8] } },
    training: { epochs: 2, batchSize: 8, optimizer: { name: 'sgd', learningRate: 0.01 }, ...training },
    record: { batches: false, trainingModeAccuracy: false },
    evaluation,
    seeds: [3],
  });
  const [trial] = expandTrials(experiment, 'e.json');
  const data = { forTrial: async () => ({ train, test }) } as unknown as DataCache;
  const result = await runTrial(trial as NonNullable<typeof trial>, {
    data,
    backend,
    listener: () => undefined,
    stop: { requested: false },
    environment: {},
  });
  return { calls, status: result.record.status, error: result.record.error };
}

describe('runTrial with training.augmentation', () => {
  it('augments the training batches of each epoch, seeded by the trial seed and the epoch, and nothing else', async () => {
    const augmentation = { crop: { padding: 2 }, flip: true };
    const { calls, status } = await batchCalls({ augmentation });
    expect(status).toBe('completed');
    const preciseSeed = 3 * 100003 + 99991;
    const training = calls.train.filter((o) => o.seed !== preciseSeed);
    expect(training.map((o) => o.seed)).toEqual([3 * 100003, 3 * 100003 + 1]);
    for (const o of training) expect(o.augment).toEqual(augmentation);
    // The precise batch-norm statistics are computed over training batches augmented as in
    // training (the inputs the weights were trained on), with their own seed, at every evaluation …
    const precise = calls.train.filter((o) => o.seed === preciseSeed);
    expect(precise.length).toBeGreaterThan(0);
    for (const o of precise) expect(o.augment).toEqual(augmentation);
    // … and evaluation batches are never augmented.
    expect(calls.test.length).toBeGreaterThan(0);
    expect(calls.test.every((o) => o.augment === undefined)).toBe(true);
  });

  it("evaluation.preciseAugmentation 'none' computes the precise statistics over plain training batches", async () => {
    const { calls, status } = await batchCalls({ augmentation: { flip: true } }, { type: 'batch' }, { preciseAugmentation: 'none' });
    expect(status).toBe('completed');
    const precise = calls.train.filter((o) => o.seed === 3 * 100003 + 99991);
    expect(precise.length).toBeGreaterThan(0);
    expect(precise.every((o) => o.augment === undefined)).toBe(true);
    expect(calls.train.filter((o) => o.augment !== undefined)).toHaveLength(2);
  });

  it('fills in the defaults: { crop: {} } is padding 4 without flips', async () => {
    const { calls } = await batchCalls({ augmentation: { crop: {} } }, { type: 'none' });
    expect(calls.train.map((o) => o.augment)).toEqual([
      { crop: { padding: 4 }, flip: false },
      { crop: { padding: 4 }, flip: false },
    ]);
  });

  it('without augmentation, no batch is augmented', async () => {
    const { calls } = await batchCalls({});
    expect([...calls.train, ...calls.test].every((o) => o.augment === undefined)).toBe(true);
  });

  it('fails the trial, naming the field, when the padding does not fit the images it loaded', async () => {
    const { status, error } = await batchCalls({ augmentation: { crop: { padding: 6 } } });
    expect(status).toBe('failed');
    expect(error).toContain("training.augmentation.crop.padding (6) must be smaller than the image's height (6) and width (6)");
  });
});
