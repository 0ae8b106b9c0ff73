/** What happened to a run. */
export type RunStatus = 'running' | 'completed' | 'diverged' | 'failed' | 'interrupted';

/** One training step. */
export interface BatchRecord {
  /** Global step, from 0. */
  step: number;
  epoch: number;
  /** Batch index within the epoch, from 0. */
  batch: number;
  loss: number;
  accuracy?: number;
  learningRate?: number;
}

/** One epoch's summary; evaluation figures are in inference mode. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Wall time of the epoch, seconds. */
  seconds: number;
  imagesPerSecond: number;
  learningRate?: number;
  /** Further per-epoch figures (gradient norms, activation statistics, …). */
  extra?: Record<string, number | number[]>;
}

/**
 * Percentiles of one unit's pre-activation input (a dense unit, or a conv channel over all
 * positions) over a fixed set of examples, measured every few steps of training: how the
 * distribution a nonlinearity sees moves (Ioffe & Szegedy 2015, Figure 1 b, c).
 */
export interface ActivationTrace {
  /** The conv or dense layer whose block's pre-activation is traced. */
  block: string;
  /** The unit (last axis) traced. */
  unit: number;
  /** The percentiles measured, in [0, 100] (for example 15, 50, 85). */
  percentiles: number[];
  /** Training steps done (weight updates) at each measurement, increasing; 0 is before training. */
  steps: number[];
  /** `values[i][j]`: percentile `percentiles[j]` at `steps[i]`. */
  values: number[][];
}

/** The whole record of one training run. */
export interface TrainingRecord {
  /** Schema version of this record. */
  version: number;
  runId: string;
  /** The configuration the run was made from (plain JSON). */
  config: Record<string, unknown>;
  status: RunStatus;
  /** Step at which the run diverged, when `status` is `'diverged'`. */
  divergedAtStep?: number;
  error?: string;
  batches: BatchRecord[];
  epochs: EpochRecord[];
  /** Traced pre-activation percentiles, when the run asked for them. */
  activationTraces?: ActivationTrace[];
  /** Backend, versions and such. */
  environment?: Record<string, unknown>;
  startedAt: string;
  finishedAt?: string;
}

/** A consumer of training events: a recorder, a logger, a live plot. */
export interface MetricsSink {
  onRunStart?(info: { runId: string; config: Record<string, unknown> }): void | Promise<void>;
  onBatch(record: BatchRecord): void | Promise<void>;
  onEpoch(record: EpochRecord): void | Promise<void>;
  onRunEnd?(record: TrainingRecord): void | Promise<void>;
}
