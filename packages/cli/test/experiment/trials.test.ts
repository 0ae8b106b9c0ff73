import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBnlabError } from '@bnlab/core';
import { parseExperiment } from '../../src/experiment/load.js';
import { countTrials, expandTrials, parseShard, selectShard, TRIAL_CEILING, trialUpperBound } from '../../src/experiment/trials.js';
import { experimentJsonSchema } from '../../src/experiment/schema.js';

const base = {
  name: 'bn-vs-none',
  dataset: { name: 'mnist', validationSplit: 0.1 },
  model: { architecture: 'simpleCnn' },
  training: { epochs: 3, batchSize: 64, optimizer: { name: 'adam', learningRate: 0.001 } },
  seeds: [1, 2, 3],
  grid: { 'model.norm': [{ type: 'none' }, { type: 'batch' }] },
};

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('experiment files', () => {
  it('fills defaults', () => {
    const e = parseExperiment({ ...base, grid: undefined, seeds: undefined });
    expect(e.seeds).toEqual([0]);
    expect(e.grid).toEqual({});
    expect(e.dataset.scaling).toBe('unit');
    expect(e.record).toEqual({
      batches: true,
      gradientNorms: false,
      activationStats: false,
      trainingModeAccuracy: true,
      featureMaps: false,
    });
    expect(e.model.norm).toEqual({ type: 'none' });
  });

  it('names an unknown field, its place and the allowed fields', () => {
    const err = errorOf(() => parseExperiment({ ...base, training: { ...base.training, batchsize: 3 } }, 'exp.json'));
    expect(isBnlabError(err, 'INVALID_CONFIG')).toBe(true);
    expect(err.message).toContain('exp.json');
    expect(err.message).toMatch(/training: unknown field "batchsize" \(allowed: epochs, steps, batchSize, optimizer, shuffle[,)]/);
  });

  it('names a bad enum value and the allowed values', () => {
    const err = errorOf(() => parseExperiment({ ...base, dataset: { name: 'imagenet' } }));
    expect(err.message).toMatch(/dataset\.name: must be one of 'mnist', 'fashion-mnist', 'cifar10'; got 'imagenet'/);
  });

  it('names a wrong type with the value received', () => {
    const err = errorOf(() => parseExperiment({ ...base, training: { ...base.training, epochs: 'three' } }));
    expect(err.message).toMatch(/training\.epochs: expected number, got 'three'/);
  });

  it('rejects a grid path that is not a field', () => {
    const err = errorOf(() => expandTrials(parseExperiment({ ...base, grid: { 'training.batchsize': [16] } }), 'exp.json'));
    expect(err.message).toBe('exp.json: grid: "training.batchsize" is not a field of training');
  });

  it('rejects a grid path through __proto__ even in an experiment made in code, leaving Object.prototype alone', () => {
    const e = parseExperiment(base);
    e.grid = { 'model.norm.__proto__.polluted': [1] };
    expect(() => expandTrials(e, 'exp.json')).toThrow(
      'exp.json: grid: "model.norm.__proto__.polluted": "__proto__" cannot be part of a path (a name JavaScript objects reserve for their prototype)',
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('rejects a validation split that leaves a side empty, when the file tells the size', () => {
    const split = (dataset: Record<string, unknown>, grid: Record<string, unknown[]> = {}) =>
      errorOf(() => expandTrials(parseExperiment({ ...base, dataset, grid }), 'e.json')).message;
    expect(split({ name: 'mnist', trainLimit: 3, validationSplit: 0.9 }, { 'dataset.validationSplit': [0.1, 0.9] })).toBe(
      'e.json: dataset.validationSplit (grid variant "validationSplit=0.9"): 0.9 of 3 training examples (dataset.trainLimit 3) leaves none to train on; use a larger trainLimit or a smaller validationSplit',
    );
    // a folder may hold fewer than trainLimit: at most 1 example, none to train on whatever it holds
    expect(split({ name: 'mnist', dir: '/data', trainLimit: 1, validationSplit: 0.5 })).toMatch(
      /0\.5 of at most 1 training example \(dataset\.trainLimit 1\) leaves none to train on/,
    );
    expect(split({ name: 'mnist', trainLimit: 10, validationSplit: 1e-17 })).toBe(
      'e.json: dataset.validationSplit: 1e-17 of 10 training examples (dataset.trainLimit 10) holds out none for validation; use a larger validationSplit, or 0 for no validation',
    );
    expect(expandTrials(parseExperiment({ ...base, dataset: { name: 'mnist', trainLimit: 2, validationSplit: 0.5 } }))).toHaveLength(6);
  });

  it('rejects imageArchive and imageFolder on a dataset other than cifar10, and two sources at once', () => {
    const err = (dataset: Record<string, unknown>) => errorOf(() => parseExperiment({ ...base, dataset })).message;
    expect(err({ name: 'fashion-mnist', imageFolder: 'imgs' })).toMatch(
      /dataset\.imageFolder: is for cifar10 only, not 'fashion-mnist'; got 'imgs'/,
    );
    expect(err({ name: 'cifar10', dir: 'bin', imageArchive: 'a.tar.gz' })).toMatch(
      /dataset\.imageArchive: give one of dir, imageArchive and imageFolder; got dir 'bin' and imageArchive 'a\.tar\.gz'/,
    );
  });

  it('rejects an empty grid (zero trials)', () => {
    const err = errorOf(() => parseExperiment({ ...base, grid: { 'training.batchSize': [] } }));
    expect(err.message).toMatch(/grid\.training\.batchSize/);
  });

  it('validates each variant, naming it', () => {
    const err = errorOf(() => expandTrials(parseExperiment({ ...base, grid: { 'training.batchSize': [32, -1] } })));
    expect(err.message).toMatch(/grid variant "batchSize=-1"/);
    expect(err.message).toMatch(/training\.batchSize/);
  });

  it("names a variant whose value holds a replacement pattern ($', $&) verbatim", () => {
    // A fuzz case: the label went through String.replace as a replacement string, so `$'` became
    // the rest of the message.
    const err = errorOf(() => expandTrials(parseExperiment({ ...base, grid: { 'training.batchSize': [{ "$'": '$&' }] } })));
    expect(err.message).toBe(
      'experiment: invalid experiment (grid variant "batchSize=$\':$&"):\n  training.batchSize: expected number, got {"$\'":"$&"}',
    );
  });

  it('validates normalization specs with the layers package', () => {
    const err = errorOf(() => expandTrials(parseExperiment({ ...base, grid: { 'model.norm': [{ type: 'batchnorm' }] } })));
    expect(isBnlabError(err, 'INVALID_CONFIG')).toBe(true);
    expect(err.message).toMatch(/model\.norm \(grid variant "norm=batchnorm"\)/);
  });

  it('rejects a seed, a grid value or a label listed twice (the same trial twice, or two variants in one row)', () => {
    expect(errorOf(() => expandTrials(parseExperiment({ ...base, seeds: [1, 2, 1] }))).message).toMatch(/seeds: 1 is listed twice/);
    expect(errorOf(() => expandTrials(parseExperiment({ ...base, grid: { 'training.batchSize': [8, 16, 8] } }))).message).toMatch(
      /grid\."training\.batchSize": the value 8 is listed twice/,
    );
    const norms = {
      'model.norm': [
        { type: 'batch', momentum: 0.9 },
        { momentum: 0.9, type: 'batch' },
      ],
    };
    expect(errorOf(() => expandTrials(parseExperiment({ ...base, grid: norms }))).message).toMatch(/is listed twice/);
    const labelled = { ...base, grid: { 'training.batchSize': [8, 16] }, labels: { 'training.batchSize': ['small', 'small'] } };
    expect(errorOf(() => expandTrials(parseExperiment(labelled))).message).toMatch(
      /labels\.training\.batchSize: "small" names two grid values/,
    );
  });

  it('validates the model of each variant before any trial runs (a group norm that does not fit a block)', () => {
    const err = errorOf(() =>
      expandTrials(
        parseExperiment({
          ...base,
          model: { architecture: 'mlp', options: { hiddenUnits: [100] } },
          grid: { 'model.norm': [{ type: 'none' }, { type: 'group' }] },
        }),
      ),
    );
    expect(isBnlabError(err, 'INVALID_CONFIG')).toBe(true);
    expect(err.message).toMatch(/model \(grid variant "norm=group"\)/);
    expect(err.message).toMatch(/norm\.groups.*100/);
  });
});

describe('expandTrials', () => {
  it('makes the Cartesian product of the grid times the seeds, first path slowest', () => {
    const e = parseExperiment({
      ...base,
      seeds: [7, 8],
      grid: { 'model.norm': [{ type: 'none' }, { type: 'batch' }], 'training.batchSize': [16, 32, 64] },
    });
    const trials = expandTrials(e);
    expect(trials).toHaveLength(2 * 3 * 2);
    expect(trials.map((t) => `${t.variantLabel}/${t.seed}`).slice(0, 5)).toEqual([
      'norm=none batchSize=16/7',
      'norm=none batchSize=16/8',
      'norm=none batchSize=32/7',
      'norm=none batchSize=32/8',
      'norm=none batchSize=64/7',
    ]);
    expect(trials[6]?.fields.model.norm).toEqual({ type: 'batch' });
    expect(trials[6]?.fields.training.batchSize).toBe(16);
    expect(trials.map((t) => t.index)).toEqual(trials.map((_, i) => i));
    expect(new Set(trials.map((t) => t.id)).size).toBe(trials.length);
  });

  it('gives stable ids that change when the configuration changes', () => {
    const a = expandTrials(parseExperiment(base)).map((t) => t.id);
    expect(expandTrials(parseExperiment(structuredClone(base))).map((t) => t.id)).toEqual(a);
    const b = expandTrials(parseExperiment({ ...base, training: { ...base.training, epochs: 4 } })).map((t) => t.id);
    expect(b.some((id) => a.includes(id))).toBe(false);
  });

  it('uses labels when given and checks their count', () => {
    const trials = expandTrials(parseExperiment({ ...base, labels: { 'model.norm': ['plain', 'BN'] } }));
    expect(trials.map((t) => t.variantLabel)).toContain('norm=BN');
    expect(() => expandTrials(parseExperiment({ ...base, labels: { 'model.norm': ['x'] } }))).toThrow(/1 labels for 2 grid values/);
  });

  it.each([
    ['toString', []],
    ['hasOwnProperty', ['a']],
  ])('refuses labels for "%s", which is no grid path but a name every object inherits (found by fuzzing)', (path, labels) => {
    // Looked up on the grid object, these found Object.prototype's functions, whose lengths (0 and 1) matched the labels.
    expect(() => expandTrials(parseExperiment({ ...base, labels: { [path]: labels } }), 'exp.json')).toThrow(
      `exp.json: labels: "${path}" is not a grid path`,
    );
  });

  it("gives distinct ids to variants that differ only in a non-batch-norm model's evaluation, when their labels agree in the 80 characters an id keeps (found by fuzzing)", () => {
    const grid = {
      'training.optimizer': [{ name: 'adam', learningRate: 0.001 }],
      'model.norm': [{ type: 'none' }, { type: 'group', groups: 2 }],
      'training.shuffle': [true, false],
      'evaluation.preciseBatches': [1, 2],
    };
    const trials = expandTrials(parseExperiment({ ...base, grid }));
    // 83 characters as an id, which keeps the first 80: without "=1" or "=2"
    expect(trials.map((t) => t.variantLabel)).toContain(
      'optimizer=adam(learningRate:0.001) norm=group(groups:2) shuffle=true preciseBatches=1',
    );
    expect(new Set(trials.map((t) => t.id)).size).toBe(trials.length);
    // The first of two such trials keeps the id it always had.
    const one = expandTrials(parseExperiment({ ...base, grid: { ...grid, 'evaluation.preciseBatches': [1] } }));
    expect(trials.filter((t) => t.variantLabel.endsWith('preciseBatches=1')).map((t) => t.id)).toEqual(one.map((t) => t.id));
  });

  it('evaluation.preciseAugmentation is part of a trial id only when training is augmented (ids of earlier runs hold)', () => {
    const ids = (training: Record<string, unknown>, evaluation: Record<string, unknown>) =>
      expandTrials(
        parseExperiment({
          ...base,
          training: { ...base.training, ...training },
          evaluation,
          grid: {},
          model: { ...base.model, norm: { type: 'batch' } },
        }),
      ).map((t) => t.id);
    expect(ids({}, { preciseAugmentation: 'none' })).toEqual(ids({}, {}));
    const augmented = { augmentation: { flip: true } };
    expect(ids(augmented, { preciseAugmentation: 'none' })).not.toEqual(ids(augmented, {}));
    expect(ids(augmented, { preciseAugmentation: 'training' })).toEqual(ids(augmented, {}));
  });

  it("'none' gives an augmented trial the id it had before the option existed (the committed 30-epoch ResNet run)", () => {
    const dir = join(__dirname, '../../../../docs/results/resnet20-cifar10-30epochs');
    const run = JSON.parse(readFileSync(join(dir, 'experiment.json'), 'utf8')) as Record<string, unknown>;
    const ids = (evaluation: Record<string, unknown>) => expandTrials(parseExperiment({ ...run, evaluation })).map((t) => t.id);
    // The trial files written by that run, before preciseAugmentation existed.
    expect(ids({ preciseAugmentation: 'none' })).toEqual(['norm=batch_norm-seed0-51f3131d', 'norm=no_normalization-seed0-57fc06b7']);
    expect(ids({})[0]).not.toBe('norm=batch_norm-seed0-51f3131d');
  });

  it('without a grid runs the base configuration once per seed', () => {
    const trials = expandTrials(parseExperiment({ ...base, grid: {} }));
    expect(trials.map((t) => t.variantLabel)).toEqual(['base', 'base', 'base']);
  });
});

describe('the number of trials', () => {
  const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => from + i);

  it('is counted, exclusions applied, without expanding the grid', () => {
    const e = parseExperiment({
      ...base,
      seeds: [1, 2],
      grid: { 'model.norm': [{ type: 'none' }, { type: 'batch' }], 'training.batchSize': [16, 32, 64] },
      exclude: [{ 'model.norm': { type: 'none' }, 'training.batchSize': 16 }],
    });
    expect(trialUpperBound(e)).toBe(12);
    expect(countTrials(e)).toBe(10);
    expect(countTrials(e)).toBe(expandTrials(e).length);
  });

  it(`above ${TRIAL_CEILING} is refused before anything is expanded, naming the count`, () => {
    // 50 × 50 × 50 seeds = 125,000 trials: expanded, they would take seconds and hundreds of MB.
    const e = parseExperiment({ ...base, seeds: range(50, 0), grid: { 'training.batchSize': range(50), 'training.epochs': range(50) } });
    const started = performance.now();
    const err = errorOf(() => expandTrials(e, 'big.json'));
    expect(performance.now() - started).toBeLessThan(500);
    expect(isBnlabError(err, 'INVALID_CONFIG')).toBe(true);
    expect(err.message).toBe(
      'big.json: the grid and seeds make 125000 trials (50 × 50 × 50 seeds), more than the 100000 one experiment file may have, even with --yes; shrink the grid or seeds, or split the experiment into several files',
    );
    expect(() => countTrials(e, 'big.json')).toThrow(/125000 trials/);
  });

  it('a grid of a trillion trials is refused at once (it used to run out of memory)', () => {
    const grid = Object.fromEntries(['epochs', 'batchSize', 'shuffle'].map((k) => [`training.${k}`, range(k === 'shuffle' ? 2 : 100)]));
    Object.assign(grid, { 'divergence.patience': range(100), 'dataset.trainLimit': range(100), 'dataset.testLimit': range(100) });
    const e = parseExperiment({ ...base, seeds: range(50, 0), grid });
    expect(trialUpperBound(e)).toBe(1e12);
    expect(() => countTrials(e)).toThrow(/make 1000000000000 trials \(100 × 100 × 2 × 100 × 100 × 100 × 50 seeds\)/);
  });
});

describe('sharding', () => {
  const trials = Array.from({ length: 10 }, (_, index) => ({ index }));

  it('splits the trials into disjoint shards covering them all', () => {
    const shards = [0, 1, 2].map((i) => selectShard(trials, { index: i, count: 3 }).map((t) => t.index));
    expect(shards).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7],
      [2, 5, 8],
    ]);
  });

  it('parses i/n and rejects the rest', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/0 ≤ i < n/);
    expect(() => parseShard('1of4')).toThrow(/--shard/);
  });
});

it('exports a JSON Schema editors can use', () => {
  const schema = experimentJsonSchema();
  expect(schema.type).toBe('object');
  const props = schema.properties as Record<string, unknown>;
  expect(Object.keys(props)).toEqual(expect.arrayContaining(['name', 'dataset', 'model', 'training', 'grid', 'seeds']));
  expect(schema.required).toEqual(expect.arrayContaining(['name', 'dataset', 'model', 'training']));
});

describe('exclude', () => {
  const grid = {
    'model.norm': [{ type: 'none' }, { type: 'batch' }],
    'model.placement.position': ['before-activation', 'after-activation'],
  };

  it('leaves out the combinations that match an entry', () => {
    const trials = expandTrials(
      parseExperiment({
        ...base,
        seeds: [1],
        grid,
        exclude: [{ 'model.norm': { type: 'none' }, 'model.placement.position': 'after-activation' }],
      }),
    );
    expect(trials.map((t) => t.variantLabel)).toEqual([
      'norm=none position=before-activation',
      'norm=batch position=before-activation',
      'norm=batch position=after-activation',
    ]);
  });

  it('rejects a path that is not in the grid, and an exclusion of everything', () => {
    expect(() => expandTrials(parseExperiment({ ...base, grid, exclude: [{ 'training.epochs': 3 }] }), 'e.json')).toThrow(
      'e.json: exclude[0]: "training.epochs" is not a grid path (grid paths: model.norm, model.placement.position)',
    );
    expect(() =>
      expandTrials(parseExperiment({ ...base, grid: { 'model.norm': [{ type: 'none' }] }, exclude: [{ 'model.norm': { type: 'none' } }] })),
    ).toThrow(/leaves no grid combination/);
  });
});

test('a grid can vary evaluation.batchNormStatistics (the same weights, evaluated both ways, are separate trials)', () => {
  const e = parseExperiment({
    name: 'eval-grid',
    dataset: { name: 'mnist', trainLimit: 256 },
    model: { architecture: 'mlp', norm: { type: 'batch' } },
    training: { epochs: 1, batchSize: 64 },
    grid: { 'evaluation.batchNormStatistics': ['moving', 'precise'] },
  });
  const trials = expandTrials(e);
  expect(trials.map((t) => [t.variantLabel, t.fields.evaluation.batchNormStatistics])).toEqual([
    ['batchNormStatistics=moving', 'moving'],
    ['batchNormStatistics=precise', 'precise'],
  ]);
  expect(new Set(trials.map((t) => t.id)).size).toBe(2);
});
