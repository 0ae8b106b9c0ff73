import type { TrialFields } from './schema.js';

/**
 * Whether a trial evaluates batch norm with precise statistics: the only case in which its
 * `evaluation` fields change what it records.
 */
export function usesPreciseBatchNorm(fields: Pick<TrialFields, 'evaluation' | 'model'>): boolean {
  return fields.evaluation.batchNormStatistics === 'precise' && (fields.model.norm as { type?: unknown }).type === 'batch';
}

/**
 * Why `requested` batches of `batchSize` cannot be drawn from a training split of
 * `trainSize` examples, with the most there are; undefined when they can.
 */
export function tooManyBatches(requested: number, batchSize: number, trainSize: number): { message: string; batches: number } | undefined {
  const batches = Math.ceil(trainSize / batchSize);
  if (requested <= batches) return undefined;
  return {
    message: `${requested} batches of ${batchSize} is more than the training split holds (${trainSize} examples, ${batches} batches)`,
    batches,
  };
}
