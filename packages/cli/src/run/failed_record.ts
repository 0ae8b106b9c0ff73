import { createTrainingRecord } from '@bnlab/metrics';
import type { TrainingRecord } from '@bnlab/core';
import type { Trial } from '../experiment/trials.js';

/** The `config` of a trial's record: its variant label and seed with its fields, so reports group it with its variant. */
export function trialConfig(trial: Trial): Record<string, unknown> {
  return { variant: trial.variantLabel, seed: trial.seed, ...trial.fields } as unknown as Record<string, unknown>;
}

/**
 * The record of a trial that failed before its training could record anything (its data
 * missing, a model that cannot be built, a worker process that died): status `failed`, the
 * error message, no batches or epochs.
 */
export function failedRecord(trial: Trial, error: unknown, environment?: Record<string, unknown>): TrainingRecord {
  const record = createTrainingRecord({ runId: trial.id, config: trialConfig(trial) });
  record.status = 'failed';
  record.error = error instanceof Error ? error.message : String(error);
  if (environment) record.environment = environment;
  record.finishedAt = new Date().toISOString();
  return record;
}
