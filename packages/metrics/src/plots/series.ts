import type { EpochRecord, TrainingRecord } from '@bnlab/core';
import { extraKeys } from '../record/record.js';

/** One run in a chart, under the label its legend shows. */
export interface LabelledRun {
  /** The legend entry. */
  label: string;
  /** The run. */
  record: TrainingRecord;
}

/** Several runs of one variant (e.g. one per seed), aggregated into mean ± band. */
export interface RunGroup {
  /** The legend entry (the variant). */
  label: string;
  /** The runs, typically one per seed. */
  records: readonly TrainingRecord[];
}

/** The numeric fields of an {@link EpochRecord}. */
export type EpochField =
  | 'trainLoss'
  | 'trainAccuracy'
  | 'valLoss'
  | 'valAccuracy'
  | 'testLoss'
  | 'testAccuracy'
  | 'seconds'
  | 'imagesPerSecond'
  | 'learningRate';

/** An epoch figure: a field of {@link EpochRecord}, or the key of an `extra` figure (`'preact/conv2d_1/std'`). */
export type EpochMetric = EpochField | (string & {});

const FIELD_TITLES: Record<EpochField, string> = {
  trainLoss: 'Training loss',
  trainAccuracy: 'Training accuracy',
  valLoss: 'Validation loss',
  valAccuracy: 'Validation accuracy',
  testLoss: 'Test loss',
  testAccuracy: 'Test accuracy',
  seconds: 'Epoch time (s)',
  imagesPerSecond: 'Images per second',
  learningRate: 'Learning rate',
};

const EXTRA_TITLES: Record<string, string> = {
  [extraKeys.probeAccuracyTrainingMode]: 'Accuracy, training mode (batch statistics)',
  [extraKeys.probeAccuracyInferenceMode]: 'Accuracy, inference mode (moving statistics)',
  [extraKeys.probeLossTrainingMode]: 'Loss, training mode (batch statistics)',
  [extraKeys.probeLossInferenceMode]: 'Loss, inference mode (moving statistics)',
  [extraKeys.gradNormTotal]: 'Gradient norm (all layers)',
  [extraKeys.evalSeconds]: 'Evaluation time (s)',
  [extraKeys.batches]: 'Batches',
  [extraKeys.bnMovingTestAccuracy]: 'Test accuracy, moving averages',
  [extraKeys.bnMovingTestLoss]: 'Test loss, moving averages',
  [extraKeys.bnMovingValAccuracy]: 'Validation accuracy, moving averages',
  [extraKeys.bnMovingValLoss]: 'Validation loss, moving averages',
  [extraKeys.bnBatchTestAccuracy]: 'Test accuracy, batch statistics',
  [extraKeys.bnBatchTestLoss]: 'Test loss, batch statistics',
  [extraKeys.bnGapTestAccuracy]: 'Accuracy gap, batch statistics − moving averages',
  [extraKeys.bnPreciseBatches]: 'Batches for precise statistics',
  [extraKeys.bnPreciseExamples]: 'Examples for precise statistics',
};

/**
 * A human title for an epoch metric (`valAccuracy` → `Validation accuracy`,
 * `preact/conv1/std` → `Pre-activation std of conv1`).
 */
export function metricTitle(metric: EpochMetric): string {
  const known = (FIELD_TITLES as Record<string, string>)[metric] ?? EXTRA_TITLES[metric];
  if (known) return known;
  const pre = /^preact\/(.+)\/(mean|std)$/.exec(metric);
  if (pre) return `Pre-activation ${pre[2]} of ${pre[1]}`;
  const grad = /^gradNorm\/(.+)$/.exec(metric);
  if (grad) return `Gradient norm of ${grad[1]}`;
  return metric;
}

/** True for metrics shown as accuracy (0–1, formatted as percent). */
export function isAccuracy(metric: EpochMetric): boolean {
  return /accuracy/i.test(metric);
}

/** Statuses of runs that did not finish: results tables and seed bands leave them out. */
const UNFINISHED: ReadonlySet<TrainingRecord['status']> = new Set(['failed', 'interrupted']);

/** Whether statistics over runs leave `r` out: it failed or was interrupted, so it did not finish. */
export function isLeftOut(r: TrainingRecord): boolean {
  return UNFINISHED.has(r.status);
}

/** The value of `metric` in one epoch record (undefined when absent; arrays are not plotted). */
export function epochValue(e: EpochRecord, metric: EpochMetric): number | undefined {
  const direct = (e as unknown as Record<string, unknown>)[metric];
  if (typeof direct === 'number') return direct;
  const x = e.extra?.[metric];
  return typeof x === 'number' ? x : undefined;
}

/** Runs labelled by their `runId`, for charts of plain record lists. */
export function labelByRunId(records: readonly TrainingRecord[]): LabelledRun[] {
  return records.map((record) => ({ label: record.runId, record }));
}
