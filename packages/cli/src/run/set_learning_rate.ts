import type { Optimizer } from '@tensorflow/tfjs-core';

/**
 * Sets a tfjs optimizer's learning rate: through `setLearningRate` where it has one (SGD and
 * momentum keep the rate as a scalar tensor), otherwise its `learningRate` field, which Adam
 * and RMSprop read at every step.
 */
export function setLearningRate(optimizer: Optimizer, rate: number): void {
  const o = optimizer as unknown as { setLearningRate?: (x: number) => void; learningRate: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(rate);
  else o.learningRate = rate;
}
