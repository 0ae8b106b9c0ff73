import { z } from 'zod';
import { formatValue } from '@bnlab/core';
import { scheduleSchema } from './schedule_schema.js';
import { augmentationSchema } from './augmentation_schema.js';
import { checkTraining } from './training_checks.js';

/** Dataset names the CLI can load. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10'] as const;
/** Architectures of `@bnlab/models`. */
export const ARCHITECTURES = ['mlp', 'simpleCnn', 'kerasCnn', 'convNet4', 'resnet', 'vgg', 'custom'] as const;
/** Optimizers a trial can use. */
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;

const positiveInt = z.number().int().positive();
/** What `optimizer.weightDecayExclude` can leave out of weight decay. */
export const WEIGHT_DECAY_EXCLUDES = ['norm', 'bias'] as const;

/** Which data a trial trains and is evaluated on. */
export const datasetSchema = z
  .strictObject({
    name: z.enum(DATASET_NAMES),
    /** A folder holding the dataset's files (otherwise the built-in sources are used). */
    dir: z.string().min(1).optional(),
    /**
     * CIFAR-10 only: a `.tar.gz` (or `.tar`) of class folders of images, `train/<class>/*.jpg`
     * and `test/<class>/*.jpg`, such as the JPEG re-encoding of CIFAR-10. Decoded pixels are
     * cached, so only the first load decodes.
     */
    imageArchive: z.string().min(1).optional(),
    /** CIFAR-10 only: a folder of class folders of images (as torchvision's ImageFolder). */
    imageFolder: z.string().min(1).optional(),
    /** Use only the first N training examples (before the validation split). */
    trainLimit: positiveInt.optional(),
    /** Use only the first N test examples. */
    testLimit: positiveInt.optional(),
    /** Fraction of the training set held out for validation (the seeds use 0.1). */
    validationSplit: z.number().min(0).max(0.9).default(0),
    /** Pixel scaling: to [0, 1], or per-channel standardization. */
    scaling: z.enum(['unit', 'standardize']).default('unit'),
  })
  .superRefine((dataset, ctx) => {
    // What the loaders would refuse when the trial runs, said when the file loads.
    for (const key of ['imageArchive', 'imageFolder'] as const) {
      const value = dataset[key];
      if (value !== undefined && dataset.name !== 'cifar10') {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `is for cifar10 only, not ${formatValue(dataset.name)}; got ${formatValue(value)}`,
        });
      }
    }
    const sources = (['dir', 'imageArchive', 'imageFolder'] as const).filter((k) => dataset[k] !== undefined);
    if (dataset.name === 'cifar10' && sources.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [sources[1] as string],
        message: `give one of dir, imageArchive and imageFolder; got ${sources.map((k) => `${k} ${formatValue(dataset[k])}`).join(' and ')}`,
      });
    }
  });

/** The model a trial trains: an `@bnlab/models` builder and its normalization. */
export const modelSchema = z.strictObject({
  architecture: z.enum(ARCHITECTURES),
  /** A normalization spec of `@bnlab/layers`, checked by `validateNormalizationSpec`. */
  norm: z.record(z.string(), z.unknown()).default({ type: 'none' }),
  placement: z
    .strictObject({
      layers: z.union([z.literal('all'), z.array(positiveInt).min(1)]).default('all'),
      position: z.enum(['before-activation', 'after-activation']).default('before-activation'),
    })
    .optional(),
  /** Builder options (hidden sizes, initializer, …), passed through to the builder. */
  options: z.record(z.string(), z.unknown()).default({}),
});

/** How a trial trains. */
export const trainingSchema = z
  .strictObject({
    /** Epochs to train (give this or `steps`). */
    epochs: positiveInt.max(1000).optional(),
    /** Training steps (batches) to train (give this or `epochs`): ceil(steps / batches an epoch) epochs, the last cut short. */
    steps: positiveInt.max(100_000_000).optional(),
    batchSize: positiveInt.max(65536),
    optimizer: z
      .strictObject({
        name: z.enum(OPTIMIZERS),
        learningRate: z.number().positive().max(100),
        /** SGD/RMSprop momentum. */
        momentum: z.number().min(0).max(0.9999).optional(),
        /** Learning-rate decay per step, Keras's legacy `decay`: lr / (1 + decay·step). */
        decay: z.number().min(0).optional(),
        /** SGD only, with a momentum: Nesterov's momentum (`tf.train.momentum(lr, m, true)`). */
        nesterov: z.boolean().optional(),
        /** Weight decay factor `wd` (see `weightDecayMode`). @default none */
        weightDecay: z.number().min(0).max(1).optional(),
        /**
         * `l2`: `wd · w` (the gradient of `wd/2 · ‖w‖²`) is added to each gradient, L2 in the loss
         * (PyTorch's `weight_decay`); `decoupled`: each step also takes `lr · wd · w` off the weights
         * it updates, `lr` the scheduled rate (SGDW, AdamW). @default 'l2'
         */
        weightDecayMode: z.enum(['l2', 'decoupled']).optional(),
        /** Weights weight decay leaves alone: `norm` (normalization scales and offsets), `bias`. @default none */
        weightDecayExclude: z.array(z.enum(WEIGHT_DECAY_EXCLUDES)).optional(),
      })
      .default({ name: 'adam', learningRate: 0.001 }),
    shuffle: z.boolean().default(true),
    /** Random crops and flips of the training batches (see `augmentationSchema`). @default none */
    augmentation: augmentationSchema.optional(),
    /** The learning-rate schedule. @default { type: 'constant' } */
    schedule: scheduleSchema.optional(),
  })
  .superRefine(checkTraining);

/** See `record.activationTrace`. */
export const activationTraceSchema = z.strictObject({
  /**
   * The block: its position among the model's conv/dense blocks (1 is the first; negative
   * counts from the end, -1 being the output layer) or its layer's name. @default -2, the last
   * hidden block
   */
  block: z
    .union([z.number().int().min(1), z.number().int().max(-1), z.string().min(1)], {
      error: 'must be a block position (1 for the first, -1 for the last; not 0) or a layer name',
    })
    .default(-2),
  /** Units traced (dense units or conv channels), each once. @default [0] */
  units: z
    .array(z.number().int().nonnegative())
    .min(1)
    .max(64)
    .refine((u) => new Set(u).size === u.length, { message: 'must not list a unit twice' })
    .default([0]),
  /** Percentiles in [0, 100]. @default [15, 50, 85] */
  percentiles: z.array(z.number().min(0).max(100)).min(1).max(20).default([15, 50, 85]),
  /** Measure every this many steps. @default 100 */
  every: positiveInt.default(100),
  /**
   * Test images the percentiles are over (a fixed shuffled subset, the same for every trial; the
   * whole test set when it has fewer), run through the model at once. @default 1000
   */
  examples: positiveInt.max(10000).default(1000),
  /**
   * `training` (the default): the model in training mode, so batch norm normalizes with the
   * statistics of the traced images, as the activation sees its inputs while training (the
   * moving averages are left as they were). `inference`: with the moving averages, as at test
   * time (early in training they lag far behind).
   */
  mode: z.enum(['training', 'inference']).default('training'),
});

/** What a trial records beyond losses and accuracies. */
export const recordSchema = z.strictObject({
  /** Loss and accuracy of every training batch. */
  batches: z.boolean().default(true),
  /** Per-layer gradient norms each epoch (costly). */
  gradientNorms: z.boolean().default(false),
  /** Pre-activation mean/std of each block on a fixed probe batch each epoch. */
  activationStats: z.boolean().default(false),
  /** Test accuracy in training mode (batch statistics) beside inference mode. */
  trainingModeAccuracy: z.boolean().default(true),
  /**
   * Percentiles of some units' inputs to their activation in one block (after a normalization
   * placed before the activation), over a fixed set of test images, measured before training
   * and every `every` steps: Ioffe & Szegedy's Figure 1 (b, c). Kept in the trial record
   * (`activationTraces`), written to `activations.csv` and drawn in the report. @default none
   */
  activationTrace: activationTraceSchema.optional(),
  /**
   * Feature maps of the first conv block for the first test image after training, drawn in
   * the report per variant (seed 000's pictures with and without normalization).
   */
  featureMaps: z.boolean().default(false),
});

/** Training batches precise batch-norm statistics use when `evaluation.preciseBatches` is not given (fewer when the split has fewer). */
export const DEFAULT_PRECISE_BATCHES = 100;

/** How a trial's model is evaluated. */
export const evaluationSchema = z.strictObject({
  /**
   * Which statistics batch normalization uses at evaluation. `precise` (the lab's default,
   * the fair comparison of normalizations): before each evaluation the population
   * statistics of the current weights are recomputed over training batches ("precise BN");
   * the moving averages are recorded beside them. `moving`: the moving averages of training,
   * as Keras and tfjs evaluate (the seed files that reproduce Keras scripts say so).
   */
  batchNormStatistics: z.enum(['moving', 'precise']).default('precise'),
  /**
   * Training batches (of `training.batchSize`, shuffled) the precise statistics are computed
   * over. @default 100, or the whole training split when it has fewer batches
   */
  preciseBatches: positiveInt.max(100000).optional(),
  /**
   * How the precise-statistics batches are augmented when `training.augmentation` is set.
   * `training` (the default): with the training augmentation (their own seed), so the
   * statistics are those of the inputs the network was trained on, as in Wu & Johnson's
   * "Rethinking 'Batch' in BatchNorm" (2021). `none`: the un-augmented training images (on
   * CIFAR-10 with crop and flip this evaluated ResNet-20 about 3 points lower than the moving
   * averages).
   */
  preciseAugmentation: z.enum(['training', 'none']).default('training'),
});

/** When a trial counts as diverged. */
export const divergenceSchema = z.strictObject({
  /** Batches the loss may stay above chance level before the run is stopped. */
  patience: positiveInt.default(300),
});

/** The fields of one trial: everything a grid can vary. */
export const trialFieldsSchema = z.strictObject({
  dataset: datasetSchema,
  model: modelSchema,
  training: trainingSchema,
  record: recordSchema.default({
    batches: true,
    gradientNorms: false,
    activationStats: false,
    trainingModeAccuracy: true,
    featureMaps: false,
  }),
  evaluation: evaluationSchema.default({ batchNormStatistics: 'precise', preciseAugmentation: 'training' }),
  divergence: divergenceSchema.default({ patience: 300 }),
});

/**
 * An experiment file: a base trial, a grid of variants over any of its fields (dotted
 * paths, e.g. `"model.norm"` or `"training.batchSize"`), and the seeds every variant runs
 * with.
 */
export const experimentSchema = trialFieldsSchema.extend({
  $schema: z.string().optional(),
  /** A short name, used for the results folder. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit'),
  description: z.string().optional(),
  /** Every variant runs once per seed. */
  seeds: z.array(z.number().int().min(0)).min(1).default([0]),
  /**
   * Variants: each key is a dotted path of a trial field, each value the list of values it
   * takes; the trials are the Cartesian product, times the seeds.
   */
  grid: z.record(z.string(), z.array(z.unknown()).min(1)).default({}),
  /**
   * Grid combinations to leave out: each entry maps some grid paths to values, and every
   * combination matching all of them is skipped, e.g.
   * `[{"model.norm": {"type": "none"}, "model.placement.position": "after-activation"}]`.
   */
  exclude: z.array(z.record(z.string(), z.unknown())).default([]),
  /** Labels for grid values, by path: `{"model.norm": ["none", "batch"]}`. */
  labels: z.record(z.string(), z.array(z.string())).optional(),
});

/** An experiment file after validation, with defaults filled in. */
export type Experiment = z.infer<typeof experimentSchema>;
/** The fields of one trial after validation. */
export type TrialFields = z.infer<typeof trialFieldsSchema>;
/** What an experiment file may contain before defaults are applied. */
export type ExperimentInput = z.input<typeof experimentSchema>;

/** The JSON Schema of experiment files, for editors (`"$schema"` in the file). */
export function experimentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(experimentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
