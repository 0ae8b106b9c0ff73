import * as tf from '@tensorflow/tfjs-core';
import { adam } from '@bnlab/core';
import type { TrialFields } from '../experiment/schema.js';

/** An optimizer whose learning rate can follow Keras's legacy `decay` schedule. */
export interface ScheduledOptimizer {
  optimizer: tf.Optimizer;
  /** Sets the learning rate for training step `step` (from 0) and returns it. */
  setStep(step: number): number;
}

/**
 * Makes the trial's optimizer. `sgd` with a momentum is SGD with (heavy-ball) momentum as
 * in Keras; `decay` gives `lr / (1 + decay · step)`, Keras's legacy schedule that seed 002
 * uses.
 */
export function makeOptimizer(spec: TrialFields['training']['optimizer']): ScheduledOptimizer {
  const lr = spec.learningRate;
  let optimizer: tf.Optimizer;
  switch (spec.name) {
    case 'adam':
      // tf.train.adam's update, fused into one kernel per variable on wasm.
      optimizer = adam(lr);
      break;
    case 'sgd':
      optimizer = spec.momentum ? tf.train.momentum(lr, spec.momentum) : tf.train.sgd(lr);
      break;
    case 'rmsprop':
      optimizer = tf.train.rmsprop(lr, 0.9, spec.momentum ?? 0);
      break;
  }
  const decay = spec.decay ?? 0;
  const o = optimizer as unknown as { setLearningRate?: (x: number) => void; learningRate: number };
  return {
    optimizer,
    setStep(step: number): number {
      const rate = lr / (1 + decay * step);
      if (decay > 0) {
        if (typeof o.setLearningRate === 'function') o.setLearningRate(rate);
        else o.learningRate = rate;
      }
      return rate;
    },
  };
}
