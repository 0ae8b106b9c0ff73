import { z } from 'zod';
import { formatValue } from '@bnlab/core';

/** Learning-rate schedules a trial can follow. */
export const SCHEDULE_TYPES = ['constant', 'step', 'multistep', 'cosine', 'onecycle'] as const;

/** The defaults of the schedules' options (PyTorch's, for step, multistep, onecycle and LinearLR). */
export const SCHEDULE_DEFAULTS = {
  unit: 'epoch',
  gamma: 0.1,
  minLearningRate: 0,
  pctStart: 0.3,
  divFactor: 25,
  finalDivFactor: 1e4,
  startFactor: 1 / 3,
} as const;

const positiveInt = z.number().int().positive();

/**
 * A linear warmup: the schedule's rate times a factor that rises linearly, step by step,
 * from `startFactor` at the first step to 1 after `steps` steps (or `epochs` epochs), then
 * stays 1 — PyTorch's `LinearLR` chained with the schedule, which counts from the first step.
 */
export const warmupSchema = z
  .strictObject({
    /** Warmup length in training steps (give this or `epochs`). */
    steps: positiveInt.optional(),
    /** Warmup length in epochs, ramped per step (give this or `steps`). */
    epochs: positiveInt.optional(),
    /** The factor of the first step, in [0, 1]. @default 1/3, as PyTorch's LinearLR */
    startFactor: z.number().min(0).max(1).default(SCHEDULE_DEFAULTS.startFactor),
  })
  .superRefine((warmup, ctx) => {
    if (warmup.steps !== undefined && warmup.epochs !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['epochs'],
        message: `give one of steps and epochs, not both; got steps ${warmup.steps} and epochs ${warmup.epochs}`,
      });
    } else if (warmup.steps === undefined && warmup.epochs === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give its length, steps or epochs' });
    }
  });

/** Whether `stepSize` and `milestones` count epochs or training steps. @default 'epoch' */
const unit = z.enum(['epoch', 'step']).default(SCHEDULE_DEFAULTS.unit);
/** The factor the rate is multiplied by at each decay, in (0, 1]. @default 0.1 */
const gamma = z.number().positive().max(1).default(SCHEDULE_DEFAULTS.gamma);

/**
 * How the learning rate changes over a run. The rate of step `t` (from 0) of a run of `T`
 * steps, with `lr` the optimizer's `learningRate`:
 * - `constant`: `lr` (with the optimizer's legacy `decay`: `lr / (1 + decay·t)`).
 * - `step`: `lr · gamma^floor(n / stepSize)`, `n` the epoch (or step, `unit: 'step'`) of `t`.
 * - `multistep`: `lr · gamma^k`, `k` the number of `milestones` at or before that epoch (step).
 * - `cosine`: `min + (lr − min) · (1 + cos(π t / T)) / 2`, annealed per step over the run.
 * - `onecycle`: PyTorch's `OneCycleLR` with cosine annealing, per step over the run: from
 *   `maxLearningRate / divFactor` up to `maxLearningRate` at step `pctStart·T − 1`, then down
 *   to `maxLearningRate / (divFactor · finalDivFactor)` at the last step. It sets the rate
 *   itself: the optimizer's `learningRate` is not used. Momentum is not cycled.
 * All but `onecycle` take a linear `warmup`.
 */
export const scheduleSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('constant'),
    warmup: warmupSchema.optional(),
  }),
  z.strictObject({
    type: z.literal('step'),
    /** Epochs (or steps) between decays. */
    stepSize: positiveInt,
    gamma,
    unit,
    warmup: warmupSchema.optional(),
  }),
  z
    .strictObject({
      type: z.literal('multistep'),
      /** The epochs (or steps) at which the rate is multiplied by `gamma`, increasing. */
      milestones: z.array(positiveInt).min(1),
      gamma,
      unit,
      warmup: warmupSchema.optional(),
    })
    .superRefine((schedule, ctx) => {
      const i = schedule.milestones.findIndex((m, k) => k > 0 && m <= (schedule.milestones[k - 1] as number));
      if (i > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['milestones', i],
          message: `must increase, each milestone after the one before (${schedule.milestones[i - 1]}); got ${formatValue(schedule.milestones)}`,
        });
      }
    }),
  z.strictObject({
    type: z.literal('cosine'),
    /** The rate the run anneals to at its end. @default 0 */
    minLearningRate: z.number().min(0).default(SCHEDULE_DEFAULTS.minLearningRate),
    warmup: warmupSchema.optional(),
  }),
  z.strictObject({
    type: z.literal('onecycle'),
    /** The peak rate. */
    maxLearningRate: z.number().positive().max(100),
    /** The fraction of the run spent rising to the peak, in (0, 1). @default 0.3 */
    pctStart: z.number().positive().lt(1).default(SCHEDULE_DEFAULTS.pctStart),
    /** The first rate is `maxLearningRate / divFactor`. @default 25 */
    divFactor: z.number().positive().default(SCHEDULE_DEFAULTS.divFactor),
    /** The last rate is the first divided by `finalDivFactor`. @default 1e4 */
    finalDivFactor: z.number().positive().default(SCHEDULE_DEFAULTS.finalDivFactor),
  }),
]);

/** A learning-rate schedule after validation, with defaults filled in. */
export type ScheduleSpec = z.infer<typeof scheduleSchema>;
/** A linear warmup after validation. */
export type WarmupSpec = z.infer<typeof warmupSchema>;
