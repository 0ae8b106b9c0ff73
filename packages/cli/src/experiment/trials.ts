import { createHash } from 'node:crypto';
import { BnlabError, formatValue } from '@bnlab/core';
import { validateNormalizationSpec } from '@bnlab/layers';
import { CIFAR10_SPEC, FASHION_MNIST_SPEC, MNIST_SPEC } from '@bnlab/datasets';
import { validateModelSpec } from '@bnlab/models';
import { configError, schemaAt } from './errors.js';
import { tooManyBatches, usesPreciseBatchNorm } from './precise_batches.js';
import { scheduleProblems } from './schedule_checks.js';
import { augmentationProblem } from './augmentation_checks.js';
import { reservedSegment } from './json_shape.js';
import { trialFieldsSchema } from './schema.js';
import type { Experiment, TrialFields } from './schema.js';

/** One training run of an experiment: a grid variant with one seed. */
export interface Trial {
  /** Stable identifier: readable variant, seed, and a hash of the whole configuration. */
  id: string;
  /** Position in the experiment's trial order (variants in grid order, then seeds). */
  index: number;
  /** The grid values of this trial, by dotted path. */
  variant: Record<string, unknown>;
  /** A readable name of the variant, e.g. `norm=batch batchSize=32` (`base` without a grid). */
  variantLabel: string;
  seed: number;
  /** The trial's full, validated configuration. */
  fields: TrialFields;
}

const TRIAL_FIELDS = ['dataset', 'model', 'training', 'record', 'divergence', 'evaluation'];

/** The input a model is validated with before its dataset is loaded: an image, height × width × channels. */
const NOMINAL_IMAGE_SHAPE = [32, 32, 3];

/** The index of the first entry that equals an earlier one, or -1 when all differ. */
function repeatAt<T>(list: readonly T[]): number {
  return list.findIndex((x, i) => list.indexOf(x) !== i);
}

/** Checks that a grid path names a field a trial has (deeper keys allowed inside free-form records). */
function checkGridPath(path: string, file: string): void {
  const reserved = reservedSegment(path);
  if (reserved !== undefined) {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${file}: grid: "${path}": "${reserved}" cannot be part of a path (a name JavaScript objects reserve for their prototype)`,
      { where: `grid.${path}` },
    );
  }
  const parts = path.split('.');
  let schema: unknown = trialFieldsSchema;
  for (let i = 0; i < parts.length; i++) {
    const next = schemaAt(schema as never, [parts[i] as string]);
    if (next === undefined) {
      // Inside a record (model.norm, model.options) any key is allowed.
      let s = schema as { def?: { type?: string; innerType?: unknown } } | undefined;
      for (let k = 0; k < 5 && s?.def && s.def.type !== 'record' && s.def.type !== 'object'; k++) s = s.def.innerType as typeof s;
      if (s?.def?.type === 'record') return;
      const parent = parts.slice(0, i).join('.') || '(a trial)';
      throw new BnlabError(
        'INVALID_CONFIG',
        `${file}: grid: "${path}" is not a field of ${parent}` + (i === 0 ? ` (fields: ${TRIAL_FIELDS.join(', ')})` : ''),
        { where: `grid.${path}` },
      );
    }
    schema = next;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    // Own fields only: never an object's prototype, whatever the path says.
    const child = Object.hasOwn(node, p) ? node[p] : undefined;
    if (child === null || typeof child !== 'object' || Array.isArray(child)) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = structuredClone(value);
}

function defaultLabel(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const rest = Object.entries(o).filter(([k]) => k !== 'type' && k !== 'name');
    const head = typeof o.type === 'string' ? o.type : typeof o.name === 'string' ? o.name : '';
    const tail = rest.map(([k, v]) => `${k}:${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(',');
    return head && tail ? `${head}(${tail})` : head || tail || '{}';
  }
  return Array.isArray(value) ? `[${value.join(',')}]` : String(value);
}

/** A JSON text with sorted keys, so equal configurations hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function slug(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9.=_-]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 80) || 'base'
  );
}

/**
 * The most trials one experiment may expand to, whatever `--max-trials` and `--yes` say: its
 * trials are validated and held in memory all at once (about 2 KB and 50 µs each), so a grid
 * of millions would take minutes and gigabytes, and a larger one crashes the process.
 */
export const TRIAL_CEILING = 100_000;

/**
 * The number of trials an experiment expands to at most: the product of its grid lengths
 * times its seeds (`exclude` not subtracted). Nothing is expanded, so it is cheap for any grid.
 */
export function trialUpperBound(experiment: Experiment): number {
  return Object.values(experiment.grid).reduce((n, values) => n * values.length, experiment.seeds.length);
}

/** Refuses an experiment whose grid and seeds could make more than {@link TRIAL_CEILING} trials, before anything is expanded. */
function checkTrialCeiling(experiment: Experiment, file: string): void {
  const bound = trialUpperBound(experiment);
  if (bound <= TRIAL_CEILING) return;
  const lengths = Object.values(experiment.grid).map((values) => values.length);
  throw new BnlabError(
    'INVALID_CONFIG',
    `${file}: the grid and seeds make ${bound} trials (${[...lengths, `${experiment.seeds.length} seeds`].join(' × ')}), more than the ${TRIAL_CEILING} one experiment file may have, even with --yes; ` +
      'shrink the grid or seeds, or split the experiment into several files',
    { where: 'grid' },
  );
}

/**
 * The grid combinations an experiment runs, as indices into each path's values (the first
 * path varying slowest), with `exclude` applied. Checks the exclusions' paths.
 */
function gridCombinations(experiment: Experiment, file: string): number[][] {
  const paths = Object.keys(experiment.grid);
  let combos: number[][] = [[]];
  for (const p of paths) {
    const n = (experiment.grid[p] as unknown[]).length;
    combos = combos.flatMap((c) => Array.from({ length: n }, (_, i) => [...c, i]));
  }
  experiment.exclude.forEach((entry, i) => {
    for (const p of Object.keys(entry)) {
      if (!paths.includes(p)) {
        throw new BnlabError(
          'INVALID_CONFIG',
          `${file}: exclude[${i}]: "${p}" is not a grid path (grid paths: ${paths.join(', ') || 'none'})`,
          { where: `exclude.${i}` },
        );
      }
    }
  });
  // Each exclusion's values as canonical JSON once, not once per combination.
  const grid = paths.map((p) => (experiment.grid[p] as unknown[]).map((v) => canonicalJson(v)));
  const exclusions = experiment.exclude.map((entry) =>
    Object.entries(entry).map(([p, v]) => [paths.indexOf(p), canonicalJson(v)] as const),
  );
  const excluded = (combo: number[]): boolean => exclusions.some((entry) => entry.every(([k, v]) => grid[k]?.[combo[k] as number] === v));
  combos = combos.filter((c) => !excluded(c));
  if (combos.length === 0) {
    throw new BnlabError('INVALID_CONFIG', `${file}: exclude leaves no grid combination to run`, { where: 'exclude' });
  }
  return combos;
}

/**
 * The number of trials an experiment expands to (exclusions applied), without validating or
 * building them: for limits checked before {@link expandTrials}. Refuses, as it does, more than
 * {@link TRIAL_CEILING}.
 */
export function countTrials(experiment: Experiment, file = 'experiment'): number {
  checkTrialCeiling(experiment, file);
  return gridCombinations(experiment, file).length * experiment.seeds.length;
}

/**
 * Expands an experiment into its trials: the Cartesian product of the grid (in the order
 * the grid lists its paths and values), each run once per seed. Every trial's
 * configuration is validated, normalization specs included; errors name the variant.
 */
export function expandTrials(experiment: Experiment, file = 'experiment'): Trial[] {
  checkTrialCeiling(experiment, file);
  const paths = Object.keys(experiment.grid);
  for (const p of paths) checkGridPath(p, file);
  for (const [p, labels] of Object.entries(experiment.labels ?? {})) {
    // Own paths only: `toString` or `hasOwnProperty` would otherwise find Object.prototype's function.
    const values = Object.hasOwn(experiment.grid, p) ? experiment.grid[p] : undefined;
    if (!values) throw new BnlabError('INVALID_CONFIG', `${file}: labels: "${p}" is not a grid path`, { where: `labels.${p}` });
    if (labels.length !== values.length) {
      throw new BnlabError('INVALID_CONFIG', `${file}: labels.${p} has ${labels.length} labels for ${values.length} grid values`, {
        where: `labels.${p}`,
      });
    }
    const twice = repeatAt(labels);
    if (twice >= 0) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${file}: labels.${p}: "${labels[twice]}" names two grid values (the report would merge them into one row)`,
        { where: `labels.${p}` },
      );
    }
  }
  // The same seed or grid value twice would make the same trial twice: one id, one file,
  // written by two runs (at once, with workers).
  const seedTwice = repeatAt(experiment.seeds);
  if (seedTwice >= 0) {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${file}: seeds: ${experiment.seeds[seedTwice]} is listed twice (every variant runs once per seed)`,
      { where: 'seeds' },
    );
  }
  for (const p of paths) {
    const i = repeatAt((experiment.grid[p] as unknown[]).map((v) => canonicalJson(v)));
    if (i >= 0) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${file}: grid."${p}": the value ${formatValue((experiment.grid[p] as unknown[])[i])} is listed twice`,
        { where: `grid.${p}` },
      );
    }
  }
  const shortName = (p: string): string => {
    const last = p.split('.').pop() as string;
    return paths.filter((q) => q.split('.').pop() === last).length > 1 ? p : last;
  };
  const labelOf = (p: string, i: number): string => experiment.labels?.[p]?.[i] ?? defaultLabel(experiment.grid[p]?.[i]);

  const base = {
    dataset: experiment.dataset,
    model: experiment.model,
    training: experiment.training,
    record: experiment.record,
    divergence: experiment.divergence,
    evaluation: experiment.evaluation,
  };
  const combos = gridCombinations(experiment, file);
  const trials: Trial[] = [];
  const ids = new Set<string>();
  for (const combo of combos) {
    const raw = structuredClone(base) as Record<string, unknown>;
    const variant: Record<string, unknown> = {};
    combo.forEach((i, k) => {
      const p = paths[k] as string;
      const v = (experiment.grid[p] as unknown[])[i];
      variant[p] = v;
      setPath(raw, p, v);
    });
    const variantLabel = paths.length
      ? combo.map((i, k) => `${shortName(paths[k] as string)}=${labelOf(paths[k] as string, i)}`).join(' ')
      : 'base';
    const parsed = trialFieldsSchema.safeParse(raw);
    if (!parsed.success) {
      const err = configError(file, parsed.error.issues, raw, trialFieldsSchema);
      throw new BnlabError(
        'INVALID_CONFIG',
        err.message.replace('invalid experiment:', () => `invalid experiment (grid variant "${variantLabel}"):`),
        { where: file },
      );
    }
    try {
      validateNormalizationSpec(parsed.data.model.norm);
    } catch (e) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${file}: model.norm${paths.length ? ` (grid variant "${variantLabel}")` : ''}: ${(e as Error).message} (got ${formatValue(parsed.data.model.norm)})`,
        { where: 'model.norm', cause: e },
      );
    }
    // The model as a whole (a normalization that does not fit a block, placement), before any
    // trial runs, so a sweep does not stop at its first trial that cannot build. The input is
    // an image of any size (every dataset's images are rank 3); what depends on its size is
    // checked when the trial builds the model.
    const model = parsed.data.model;
    try {
      validateModelSpec({
        architecture: model.architecture,
        inputShape: NOMINAL_IMAGE_SHAPE,
        numClasses: 10,
        norm: model.norm,
        ...(model.placement ? { placement: model.placement } : {}),
        ...(model.options ? { options: model.options } : {}),
      });
    } catch (e) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${file}: model${paths.length ? ` (grid variant "${variantLabel}")` : ''}: ${(e as Error).message}`,
        { where: 'model', cause: e },
      );
    }
    checkSplit(parsed.data, file, paths.length ? variantLabel : undefined);
    checkPreciseBatches(parsed.data, file, paths.length ? variantLabel : undefined);
    checkSchedule(parsed.data, file, paths.length ? variantLabel : undefined);
    checkAugmentation(parsed.data, file, paths.length ? variantLabel : undefined);
    const hashed = hashedFields(parsed.data);
    for (const seed of experiment.seeds) {
      const hash = createHash('sha256')
        .update(canonicalJson({ fields: hashed, seed }))
        .digest('hex')
        .slice(0, 8);
      let id = `${slug(variantLabel)}-seed${seed}-${hash}`;
      // Variants that differ only in what the hash leaves out (`evaluation`, without batch norm),
      // with labels alike in the 80 characters the slug keeps, would share an id (one results
      // file, written by two trials): the later one's hash takes its label in too.
      if (ids.has(id))
        id = `${slug(variantLabel)}-seed${seed}-${createHash('sha256')
          .update(canonicalJson({ fields: hashed, seed, variantLabel }))
          .digest('hex')
          .slice(0, 8)}`;
      ids.add(id);
      trials.push({
        id,
        index: trials.length,
        variant,
        variantLabel,
        seed,
        fields: parsed.data,
      });
    }
  }
  return trials;
}

/**
 * The fields a trial's id hashes. `evaluation` changes what a trial records only for a batch-
 * norm model evaluated with precise statistics; elsewhere it is left out, so that trials run
 * before it existed (evaluated with the moving averages) keep their ids. Likewise
 * `evaluation.preciseAugmentation` only counts when the training is augmented and it says
 * `training` (`none` is what trials got before it existed).
 */
function hashedFields(fields: TrialFields): Partial<TrialFields> {
  if (!usesPreciseBatchNorm(fields)) {
    const { evaluation: _ignored, ...rest } = fields;
    return rest;
  }
  // Plain precise batches are what every trial got before the option existed.
  if (fields.training.augmentation && fields.evaluation.preciseAugmentation === 'training') return fields;
  const { preciseAugmentation: _unused, ...evaluation } = fields.evaluation;
  const hashed: Omit<TrialFields, 'evaluation'> & { evaluation: Omit<TrialFields['evaluation'], 'preciseAugmentation'> } = {
    ...fields,
    evaluation,
  };
  return hashed as Partial<TrialFields>;
}

/** Training-set sizes of the built-in datasets, for checks made before any data is loaded. */
const TRAIN_SIZES: Record<string, number> = {
  mnist: MNIST_SPEC.trainSize,
  'fashion-mnist': FASHION_MNIST_SPEC.trainSize,
  cifar10: CIFAR10_SPEC.trainSize,
};

/**
 * The training examples a trial starts from, before the validation split, as far as the file
 * tells: exactly for a built-in dataset (its size, or `trainLimit` below it); at most
 * `trainLimit` for data read from a folder or archive; unknown otherwise.
 */
function trainExamples(dataset: TrialFields['dataset']): { count: number; exact: boolean } | undefined {
  const known = dataset.dir || dataset.imageArchive || dataset.imageFolder ? undefined : TRAIN_SIZES[dataset.name];
  const count = Math.min(dataset.trainLimit ?? Infinity, known ?? Infinity);
  return Number.isFinite(count) ? { count, exact: known !== undefined } : undefined;
}

/**
 * `dataset.validationSplit` must leave examples on both sides (as `ImageDataset.split` cuts:
 * `floor(n × (1 − split))` to train on), when the file tells how many there are.
 */
function checkSplit(fields: TrialFields, file: string, variant: string | undefined): void {
  const { validationSplit, trainLimit } = fields.dataset;
  const examples = trainExamples(fields.dataset);
  if (validationSplit === 0 || !examples) return;
  const { count, exact } = examples;
  const train = Math.floor(count * (1 - validationSplit));
  const where = `${file}: dataset.validationSplit${variant ? ` (grid variant "${variant}")` : ''}`;
  const of = `${validationSplit} of ${exact ? '' : 'at most '}${count} training example${count === 1 ? '' : 's'}${trainLimit === count ? ` (dataset.trainLimit ${trainLimit})` : ''}`;
  if (train === 0) {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${where}: ${of} leaves none to train on; use a larger trainLimit or a smaller validationSplit`,
      { where: 'dataset.validationSplit' },
    );
  }
  if (exact && train === count) {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${where}: ${of} holds out none for validation; use a larger validationSplit, or 0 for no validation`,
      { where: 'dataset.validationSplit' },
    );
  }
}

/**
 * A given `evaluation.preciseBatches` must not ask for more batches than the training split
 * has (when its size is known from the file: a built-in dataset or `trainLimit`).
 */
function checkPreciseBatches(fields: TrialFields, file: string, variant: string | undefined): void {
  const { dataset, training, evaluation } = fields;
  if (!usesPreciseBatchNorm(fields) || evaluation.preciseBatches === undefined) return;
  const examples = trainExamples(dataset);
  if (!examples) return;
  const tooMany = tooManyBatches(evaluation.preciseBatches, training.batchSize, Math.floor(examples.count * (1 - dataset.validationSplit)));
  if (tooMany) {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${file}: evaluation.preciseBatches${variant ? ` (grid variant "${variant}")` : ''}: ${tooMany.message}; use at most ${tooMany.batches}`,
      { where: 'evaluation.preciseBatches' },
    );
  }
}

/**
 * The learning-rate schedule must fit the run where that depends on the training split's size
 * (milestones in epochs against `training.steps`, say), when the file tells the size exactly
 * (a built-in dataset); the rest was checked as the file parsed, and the trial checks it all.
 */
function checkSchedule(fields: TrialFields, file: string, variant: string | undefined): void {
  const examples = trainExamples(fields.dataset);
  if (!examples?.exact) return;
  const [misfit] = scheduleProblems(fields.training, Math.floor(examples.count * (1 - fields.dataset.validationSplit)));
  if (misfit) {
    const where = `training.${misfit.path.join('.')}`;
    throw new BnlabError('INVALID_CONFIG', `${file}: ${where}${variant ? ` (grid variant "${variant}")` : ''}: ${misfit.message}`, {
      where,
    });
  }
}

/** Image shapes of the built-in datasets, by name. */
const IMAGE_SHAPES: Record<string, readonly number[]> = {
  mnist: MNIST_SPEC.imageShape,
  'fashion-mnist': FASHION_MNIST_SPEC.imageShape,
  cifar10: CIFAR10_SPEC.imageShape,
};

/**
 * `training.augmentation` must fit the images (a crop padding smaller than their height and
 * width), when the file tells their size (a built-in dataset from its built-in sources); the
 * trial checks it against the images it loads.
 */
function checkAugmentation(fields: TrialFields, file: string, variant: string | undefined): void {
  const { dataset } = fields;
  const shape = dataset.dir || dataset.imageArchive || dataset.imageFolder ? undefined : IMAGE_SHAPES[dataset.name];
  const problem = shape ? augmentationProblem(fields.training.augmentation, shape) : undefined;
  if (problem) {
    throw new BnlabError('INVALID_CONFIG', `${file}${variant ? ` (grid variant "${variant}")` : ''}: ${problem.message}`, {
      where: problem.where,
    });
  }
}

/** Parses `--shard i/n` (0 ≤ i < n). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new BnlabError('INVALID_ARGUMENT', `--shard must be "i/n" with 0 ≤ i < n (e.g. 0/4), got "${text}"`, { where: '--shard' });
  }
  return { index, count };
}

/** The trials shard `index` of `count` runs: every count-th trial, so shards stay balanced across the grid. */
export function selectShard<T extends { index: number }>(trials: readonly T[], shard: { index: number; count: number }): T[] {
  return trials.filter((t) => t.index % shard.count === shard.index);
}
