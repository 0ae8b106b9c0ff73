import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BnlabError, initBackend } from '@bnlab/core';
import type { BackendName } from '@bnlab/core';
import { recomputeBatchStatistics } from '@bnlab/layers';
import type { RecomputeBatchStatisticsResult } from '@bnlab/layers';
import { evaluateModel } from '@bnlab/metrics';
import { loadModel, saveModel } from '@bnlab/models/node';
import { datasetSchema, DEFAULT_PRECISE_BATCHES } from '../experiment/schema.js';
import { tooManyBatches } from '../experiment/precise_batches.js';
import { DataCache } from '../run/data.js';
import { relaxedSimdAllowed } from '../run/relaxed_simd.js';
import { winogradAllowed } from '../run/winograd.js';

/** What `bnlab recompute-bn` is asked to do. */
export interface RecomputeBnOptions {
  /** Folder of the saved model (model.json + weights). */
  model: string;
  /** Where to save the model with the new statistics. @default the model's own folder */
  out?: string;
  /** The dataset, as in an experiment file's `dataset` (name, dir, trainLimit, scaling, …). */
  dataset: Record<string, unknown>;
  /** Training batches to compute the statistics over (a positive integer). @default 100 or the whole split */
  batches?: number;
  /** Batch size (use the training batch size). */
  batchSize: number;
  /** Recompute frozen layers too. */
  includeFrozen: boolean;
  /** Seed of the batch order. */
  seed: number;
  backend: BackendName;
  offline: boolean;
}

/** What it did: the statistics recomputed, and test accuracy before and after. */
export interface RecomputeBnSummary extends RecomputeBatchStatisticsResult {
  /** Test accuracy with the statistics the model had. */
  accuracyBefore?: number;
  /** Test accuracy with the recomputed statistics. */
  accuracyAfter?: number;
  /** The folder the model was saved to (absent when nothing changed). */
  savedTo?: string;
}

/** Mean sparse categorical cross-entropy of softmax outputs (the builders' models end in softmax). */
function sparseCrossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const k = yPred.shape[yPred.rank - 1] as number;
    const p = tf.sum(tf.mul(tf.oneHot(tf.cast(tf.reshape(yTrue, [-1]), 'int32'), k), yPred), -1);
    return tf.neg(tf.log(tf.maximum(p, 1e-7)));
  });
}

/**
 * Loads a saved model, sets its batch norms' moving statistics to the population statistics
 * of the training split (precise BN) and saves it, reporting the test accuracy before and
 * after. A model without batch norm is left as it is, and the summary says so.
 */
export async function recomputeBn(o: RecomputeBnOptions): Promise<RecomputeBnSummary> {
  const parsed = datasetSchema.safeParse(o.dataset);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BnlabError('INVALID_ARGUMENT', `--dataset: ${issue?.path.join('.') || 'dataset'}: ${issue?.message ?? 'invalid'}`, {
      where: '--dataset',
    });
  }
  await initBackend({ backend: o.backend, onWarning: () => {}, relaxedSimd: relaxedSimdAllowed(), winograd: winogradAllowed() });
  const model = await loadModel(o.model);
  try {
    const { train, test } = await new DataCache(o.offline).forTrial({ ...parsed.data, validationSplit: 0 });
    const inShape = model.inputs[0]?.shape.slice(1) ?? [];
    const dataShape = [...train.imageShape];
    if (inShape.length !== dataShape.length || inShape.some((d, i) => d !== null && d !== dataShape[i])) {
      throw new BnlabError(
        'INVALID_SHAPE',
        `--dataset: ${parsed.data.name} images are [${dataShape.join(', ')}], the model in ${o.model} takes [${inShape.map((d) => d ?? 'n').join(', ')}]`,
        { where: '--dataset' },
      );
    }
    const tooMany = o.batches !== undefined ? tooManyBatches(o.batches, o.batchSize, train.size) : undefined;
    if (tooMany) throw new BnlabError('INVALID_ARGUMENT', `--batches: ${tooMany.message}`, { where: '--batches' });
    const evaluate = async (): Promise<number> => (await evaluateModel(model, test, { loss: sparseCrossEntropy, batchSize: 500 })).accuracy;
    const accuracyBefore = await evaluate();
    const result = await recomputeBatchStatistics(model, train.batches({ batchSize: o.batchSize, shuffle: true, seed: o.seed }), {
      // The iterator ends with the split: a default larger than it takes all of it.
      maxBatches: o.batches ?? DEFAULT_PRECISE_BATCHES,
      includeFrozen: o.includeFrozen,
      disposeBatches: true,
    });
    if (result.updated.length === 0) return { ...result, accuracyBefore };
    const accuracyAfter = await evaluate();
    const savedTo = resolve(o.out ?? o.model);
    await saveModel(model, savedTo);
    return { ...result, accuracyBefore, accuracyAfter, savedTo };
  } finally {
    model.dispose();
  }
}
