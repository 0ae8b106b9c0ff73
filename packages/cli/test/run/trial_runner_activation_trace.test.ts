import { initBackend } from '@bnlab/core';
import type { BackendInfo } from '@bnlab/core';
import { ImageDataset } from '@bnlab/datasets';
import { parseExperiment } from '../../src/experiment/load.js';
import { expandTrials } from '../../src/experiment/trials.js';
import type { DataCache } from '../../src/run/data.js';
import { runTrial } from '../../src/run/trial_runner.js';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await initBackend({ backend: 'cpu' });
});

/** n images of 4×4×1 with two classes. */
function images(name: string, n: number): ImageDataset {
  const bytes = Uint8Array.from({ length: n * 16 }, (_, k) => (k * 53) % 256);
  return new ImageDataset({
    name,
    images: bytes,
    labels: Uint8Array.from({ length: n }, (_, i) => i % 2),
    imageShape: [4, 4, 1],
    classNames: ['a', 'b'],
  });
}

function experiment(record: Record<string, unknown>, norm: Record<string, unknown> = { type: 'batch' }) {
  return parseExperiment({
    name: 'trace',
    dataset: { name: 'mnist' },
    model: { architecture: 'mlp', norm, options: { hiddenUnits: [6, 5], activation: 'sigmoid' } },
    training: { epochs: 2, batchSize: 4, optimizer: { name: 'sgd', learningRate: 0.5 } },
    record: { batches: false, trainingModeAccuracy: false, ...record },
    seeds: [1],
  });
}

async function run(record: Record<string, unknown>, norm?: Record<string, unknown>) {
  const [trial] = expandTrials(experiment(record, norm), 'e.json');
  const data = { forTrial: async () => ({ train: images('train', 16), test: images('test', 12) }) } as unknown as DataCache;
  return (await runTrial(trial!, { data, backend, listener: () => undefined, stop: { requested: false }, environment: {} })).record;
}

describe('record.activationTrace', () => {
  it('traces the last hidden block before training and every `every` steps, across epochs', async () => {
    const record = await run({ activationTrace: { every: 3, units: [0, 4], examples: 10 } });
    expect(record.status).toBe('completed');
    // record.batches: false keeps the epochs only.
    expect(record.batches).toEqual([]);
    expect(record.epochs).toHaveLength(2);
    const traces = record.activationTraces!;
    // Two epochs of 4 batches: steps 0, 3 and 6; the second hidden dense layer (5 units).
    expect(traces.map((t) => [t.unit, t.steps, t.percentiles])).toEqual([
      [0, [0, 3, 6], [15, 50, 85]],
      [4, [0, 3, 6], [15, 50, 85]],
    ]);
    // The mlp's blocks are named after their position: the third of three (two hidden, the output).
    expect(new Set(traces.map((t) => t.block))).toEqual(new Set(['block2_dense']));
    for (const t of traces) expect(t.values.flat().every(Number.isFinite)).toBe(true);
  });

  it("measures batch norm's output with the traced images' own statistics by default, with the moving averages in 'inference' mode", async () => {
    const first = async (mode?: string) =>
      (await run({ activationTrace: { every: 100, examples: 12, ...(mode ? { mode } : {}) } })).activationTraces![0]!.values[0]!;
    const training = await first();
    const inference = await first('inference');
    // Standardized over the 12 images: the median sits near 0 and the 15th–85th spread near 2.
    expect(Math.abs(training[1]!)).toBeLessThan(0.6);
    expect(training[2]! - training[0]!).toBeGreaterThan(1);
    // Before any step the moving averages are mean 0, variance 1: the raw pre-activation.
    expect(inference).not.toEqual(training);
  });

  it('fails the trial naming the field when the block is not in the model', async () => {
    const record = await run({ activationTrace: { block: 7 } }, { type: 'none' });
    expect(record.status).toBe('failed');
    expect(record.error).toMatch(/^record\.activationTrace\.block: position 7 is outside the model's 3 conv\/dense blocks/);
  });

  it('is refused at load with block 0 or a percentile above 100', () => {
    expect(() => experiment({ activationTrace: { block: 0 } })).toThrow(/record\.activationTrace\.block/);
    expect(() => experiment({ activationTrace: { percentiles: [50, 101] } })).toThrow(/record\.activationTrace\.percentiles\.1/);
    expect(() => experiment({ activationTrace: { units: [3, 3] } })).toThrow(/record\.activationTrace\.units: must not list a unit twice/);
    expect(() => experiment({ activationTrace: { examples: 20000 } })).toThrow(/record\.activationTrace\.examples/);
  });
});
