/** How long a trial trains, in training steps and epochs. */
export interface RunLength {
  /** Training steps (batches) of the whole run. */
  steps: number;
  /** Epochs the run starts; with `training.steps`, the last may be cut short. */
  epochs: number;
  /** Batches of a full epoch: `ceil(train examples / batchSize)`. */
  batchesPerEpoch: number;
}

/**
 * The length of a run that trains for `epochs` epochs, or for `steps` steps (then
 * `ceil(steps / batchesPerEpoch)` epochs, the last cut short).
 */
export function runLength(training: { epochs?: number | undefined; steps?: number | undefined }, batchesPerEpoch: number): RunLength {
  if (training.steps !== undefined) {
    return { steps: training.steps, epochs: Math.ceil(training.steps / batchesPerEpoch), batchesPerEpoch };
  }
  const epochs = training.epochs as number;
  return { steps: epochs * batchesPerEpoch, epochs, batchesPerEpoch };
}
