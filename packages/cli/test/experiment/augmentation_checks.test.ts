import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBnlabError } from '@bnlab/core';
import { augmentationProblem } from '../../src/experiment/augmentation_checks.js';
import { parseExperiment } from '../../src/experiment/load.js';
import { expandTrials } from '../../src/experiment/trials.js';
import { main } from '../../src/program.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnlab-augmentation-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function experiment(dataset: Record<string, unknown>, augmentation: unknown, grid: Record<string, unknown[]> = {}) {
  return {
    name: 'augment',
    dataset,
    model: { architecture: 'mlp', options: { hiddenUnits: [16] } },
    training: { epochs: 1, batchSize: 64, augmentation },
    seeds: [1],
    grid,
  };
}

describe('augmentationProblem', () => {
  it('says what does not fit the images, naming the field; nothing when all fits', () => {
    expect(augmentationProblem(undefined, [28, 28, 1])).toBeUndefined();
    expect(augmentationProblem({ crop: { padding: 27 }, flip: true }, [28, 28, 1])).toBeUndefined();
    expect(augmentationProblem({ crop: { padding: 28 }, flip: false }, [28, 28, 1])).toEqual({
      where: 'training.augmentation.crop.padding',
      message:
        "training.augmentation.crop.padding (28) must be smaller than the image's height (28) and width (28), so that every crop keeps part of the image",
    });
  });
});

describe('training.augmentation checked when the file loads', () => {
  it('refuses a padding as large as a built-in dataset’s images, naming the file, the variant and the field', () => {
    let error: unknown;
    try {
      expandTrials(
        parseExperiment(experiment({ name: 'mnist' }, { crop: { padding: 4 } }, { 'training.augmentation.crop.padding': [4, 28] })),
        'e.json',
      );
    } catch (e) {
      error = e;
    }
    expect(isBnlabError(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as { where?: string }).where).toBe('training.augmentation.crop.padding');
    expect((error as Error).message).toBe(
      'e.json (grid variant "padding=28"): training.augmentation.crop.padding (28) must be smaller than the image\'s height (28) and width (28), so that every crop keeps part of the image',
    );
    // CIFAR-10's images are 32×32; images read from a folder are checked when the trial loads them.
    expect(expandTrials(parseExperiment(experiment({ name: 'cifar10' }, { crop: { padding: 28 } })))).toHaveLength(1);
    expect(
      expandTrials(parseExperiment(experiment({ name: 'cifar10', imageFolder: '/data/cifar' }, { crop: { padding: 40 } }))),
    ).toHaveLength(1);
  });

  it('bnlab run: exit 2 naming the field, before a results folder is made', async () => {
    const file = join(tmp, 'bad-padding.json');
    writeFileSync(file, JSON.stringify(experiment({ name: 'mnist', trainLimit: 64 }, { crop: { padding: -1 } })));
    let err = '';
    const code = await main(['run', file, '--out', join(tmp, 'out'), '--quiet'], { out: () => undefined, err: (s) => (err += s) });
    expect(code).toBe(2);
    expect(err).toMatch(/training\.augmentation\.crop\.padding/);
    expect(err).not.toMatch(/\n\s+at /);
  });

  it('bnlab run: trains with crops and flips on real MNIST digits', async () => {
    const file = join(tmp, 'augmented.json');
    writeFileSync(
      file,
      JSON.stringify(experiment({ name: 'mnist', trainLimit: 128, testLimit: 64 }, { crop: { padding: 2 }, flip: true })),
    );
    let err = '';
    const code = await main(['run', file, '--out', join(tmp, 'augmented'), '--quiet'], { out: () => undefined, err: (s) => (err += s) });
    expect(code).toBe(0);
    expect(err).toMatch(/1 completed, 0 diverged, 0 failed/);
  });
});
