import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { adam, momentum } from '@bnlab/core';
import type { RunLength } from '../experiment/run_length.js';
import type { TrialFields } from '../experiment/schema.js';
import { learningRateSchedule } from './learning_rate_schedule.js';
import { setLearningRate } from './set_learning_rate.js';
import { weightDecayExclusions } from './weight_decay_exclusions.js';
import { WeightDecayOptimizer } from './weight_decay_optimizer.js';

/** An optimizer whose learning rate follows the trial's schedule. */
export interface ScheduledOptimizer {
  optimizer: tf.Optimizer;
  /** Sets the learning rate for training step `step` (from 0) and returns it. */
  setStep(step: number): number;
}

/** The weight-decay options' defaults, when `weightDecay` is given. */
export const WEIGHT_DECAY_DEFAULTS = { weightDecayMode: 'l2', weightDecayExclude: [] } as const;

/**
 * Makes the trial's optimizer for a run of `run`'s length. `sgd` with a momentum is SGD with
 * (heavy-ball) momentum as in Keras, or Nesterov's with `nesterov`; a `weightDecay` wraps the
 * optimizer in a {@link WeightDecayOptimizer}, its exclusions found in `model`. The rate
 * follows `training.schedule` (Keras's legacy `decay`, `lr / (1 + decay · step)`, which seed
 * 002 uses, is the constant schedule's).
 */
export function makeOptimizer(
  training: Pick<TrialFields['training'], 'optimizer' | 'schedule'>,
  run: RunLength,
  model: LayersModel,
): ScheduledOptimizer {
  const spec = training.optimizer;
  const lr = spec.learningRate;
  let optimizer: tf.Optimizer;
  switch (spec.name) {
    case 'adam':
      // tf.train.adam's update, fused into one kernel per variable on wasm.
      optimizer = adam(lr);
      break;
    case 'sgd':
      // tf.train.momentum's update, fused into one kernel per variable on wasm.
      optimizer = spec.momentum ? momentum(lr, spec.momentum, spec.nesterov ?? false) : tf.train.sgd(lr);
      break;
    case 'rmsprop':
      optimizer = tf.train.rmsprop(lr, 0.9, spec.momentum ?? 0);
      break;
  }
  if (spec.weightDecay !== undefined) {
    optimizer = new WeightDecayOptimizer(optimizer, {
      weightDecay: spec.weightDecay,
      mode: spec.weightDecayMode ?? WEIGHT_DECAY_DEFAULTS.weightDecayMode,
      learningRate: lr,
      exclude: weightDecayExclusions(model, spec.weightDecayExclude ?? WEIGHT_DECAY_DEFAULTS.weightDecayExclude),
    });
  }
  const rateAt = learningRateSchedule({ learningRate: lr, decay: spec.decay, schedule: training.schedule }, run);
  let current = lr;
  return {
    optimizer,
    setStep(step: number): number {
      const rate = rateAt(step);
      // Only a change is set: SGD makes a new scalar tensor for each rate.
      if (rate !== current) {
        setLearningRate(optimizer, rate);
        current = rate;
      }
      return rate;
    },
  };
}
