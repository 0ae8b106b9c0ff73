import { BnlabError } from '@bnlab/core';
import { cast, dispose, keep, moments, tensor, tidy } from '@tensorflow/tfjs-core';
import type { Tensor, TensorContainer } from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { batchNormalizationLayers, forceBatchStatistics, saveStatistics } from './batch_norm_layers.js';
import { axesExcept } from './shape_utils.js';
import type { BatchNormalizationLike } from './batch_norm_layers.js';
import { PooledMoments } from './pooled_moments.js';

/** A batch of inputs: the tensor itself, or an object holding it as `xs` (bnlab datasets' batches). */
export type InputBatch = Tensor | { xs: Tensor };

/** Options of {@link recomputeBatchStatistics}. */
export interface RecomputeBatchStatisticsOptions {
  /** Use at most this many batches from the iterator (it is not read further). @default all */
  maxBatches?: number;
  /**
   * Also recompute the statistics of frozen layers (`trainable: false`, or whose scale and
   * offset are frozen, as in a frozen base model). @default false: frozen layers keep theirs
   */
  includeFrozen?: boolean;
  /** Dispose of each batch's tensor once it has been used (for batches made on the fly). @default false */
  disposeBatches?: boolean;
}

/** The new statistics of one batch-normalization layer. */
export interface RecomputedLayer {
  /** The layer's name. */
  name: string;
  /** `'bnlab'` for `@bnlab/layers`' BatchNormalization, `'tfjs'` for tfjs-layers' own. */
  kind: 'bnlab' | 'tfjs';
  /** Number of features (channels). */
  channels: number;
  /** Values per channel the statistics were pooled over (examples × spatial positions). */
  count: number;
}

/** What {@link recomputeBatchStatistics} did. */
export interface RecomputeBatchStatisticsResult {
  /** The layers whose moving mean and variance were replaced. */
  updated: RecomputedLayer[];
  /** Batch-normalization layers left as they were, and why. */
  skipped: { name: string; reason: string }[];
  /** Batches run through the model. */
  batches: number;
  /** Examples run through the model. */
  examples: number;
  /** Set when there was nothing to do, saying why (no batch-normalization layer, all frozen). */
  note?: string;
}

/**
 * Sets every batch-normalization layer's moving mean and variance to the statistics of the
 * inputs it sees over `batches` ("precise BN": pycls, fvcore's `update_bn_stats`, PyTorch's
 * `torch.optim.swa_utils.update_bn`; Wu & Johnson 2021), so that inference mode normalizes
 * with the population statistics of the final weights instead of a lagging moving average.
 *
 * The batches run through the model as in training — each batch-normalization layer
 * normalizes with its batch's statistics (ghost batches and renormalization as in training),
 * every other layer in inference mode (no dropout) — and no weight is updated. Each layer's
 * new statistics are the exact pooled mean and biased variance (divisor N, the layers'
 * convention) of all its inputs over all batches, per channel, combined in float64 (Chan et
 * al.'s pairwise update), not an exponential average. Everything but `moving_mean` and
 * `moving_variance` is left as it was (renormalization's own statistics too).
 *
 * Works with `@bnlab/layers`' {@link BatchNormalization} and tfjs-layers' own
 * `BatchNormalization` (Keras-converted models), in nested models too.
 *
 * @param model the model, left in place with the new statistics
 * @param batches inputs (tensors, or `{ xs }` as bnlab datasets' `batches()` yield)
 * @example
 * ```ts
 * await recomputeBatchStatistics(model, train.batches({ batchSize: 64 }), { maxBatches: 100, disposeBatches: true });
 * ```
 * @see https://arxiv.org/abs/2105.07576 (Wu & Johnson, "Rethinking 'Batch' in BatchNorm")
 */
export async function recomputeBatchStatistics(
  model: LayersModel,
  batches: Iterable<InputBatch> | AsyncIterable<InputBatch>,
  options: RecomputeBatchStatisticsOptions = {},
): Promise<RecomputeBatchStatisticsResult> {
  const maxBatches = options.maxBatches;
  if (maxBatches !== undefined && (!Number.isInteger(maxBatches) || maxBatches < 1)) {
    throw new BnlabError('INVALID_ARGUMENT', `maxBatches must be an integer ≥ 1, got ${maxBatches}`, { where: 'maxBatches' });
  }
  const all = batchNormalizationLayers(model);
  const skipped = all
    .filter((t) => t.frozen && !options.includeFrozen)
    .map((t) => ({ name: t.layer.name, reason: 'frozen (pass includeFrozen: true to recompute it too)' }));
  const targets = all.filter((t) => !t.frozen || options.includeFrozen);
  if (targets.length === 0) {
    const note =
      all.length === 0
        ? 'the model has no batch-normalization layer: nothing to recompute'
        : 'every batch-normalization layer of the model is frozen: nothing recomputed (includeFrozen: true recomputes them)';
    return { updated: [], skipped, batches: 0, examples: 0, note };
  }

  const pooled = targets.map(() => new PooledMoments());
  const pending: { index: number; count: number; mean: Tensor; variance: Tensor }[] = [];
  const restoreStatistics = saveStatistics(all);
  const restore = forceBatchStatistics(all, (found, x, axis) => {
    const index = targets.findIndex((t) => t.layer === found.layer);
    if (index >= 0) pending.push({ index, ...channelMoments(x, axis) });
  });

  const expected = model.inputs[0]?.shape;
  let batchCount = 0;
  let examples = 0;
  try {
    for await (const item of batches as AsyncIterable<InputBatch>) {
      const xs = inputOf(item, batchCount);
      try {
        checkShape(xs, expected, batchCount);
        tidy(() => {
          dispose(model.apply(xs, { training: false }) as Tensor | Tensor[]);
        });
        for (const p of pending.splice(0)) {
          const [mean, variance] = await Promise.all([p.mean.data(), p.variance.data()]);
          dispose([p.mean, p.variance]);
          pooled[p.index]!.add(p.count, mean, variance);
        }
      } finally {
        dispose(pending.splice(0).flatMap((p) => [p.mean, p.variance]));
        // The whole batch: a dataset's batch also holds its labels.
        if (options.disposeBatches) dispose(item as unknown as TensorContainer);
      }
      batchCount++;
      examples += xs.shape[0] ?? 0;
      if (maxBatches !== undefined && batchCount >= maxBatches) break;
    }
  } finally {
    restore();
    // The training-mode forward passes updated the moving averages: put every one back first.
    restoreStatistics();
  }
  if (batchCount === 0) {
    throw new BnlabError('DATA_MISSING', 'batches: the iterator yielded no batch, so there are no statistics to compute', {
      where: 'batches',
    });
  }

  // Every layer checked before any is written: an error leaves the model as it was.
  const unused = targets.find((_, i) => pooled[i]!.count === 0);
  if (unused) {
    throw new BnlabError('INVALID_ARGUMENT', `layer ${unused.layer.name}: it was not called on the batches, so it has no statistics`, {
      where: unused.layer.name,
    });
  }
  const updated: RecomputedLayer[] = targets.map((t, i) => {
    const p = pooled[i]!;
    const [movingMean, movingVariance] = movingWeights(t.layer);
    tidy(() => {
      movingMean.write(tensor(Float32Array.from(p.mean()), movingMean.read().shape));
      movingVariance.write(tensor(Float32Array.from(p.variance()), movingVariance.read().shape));
    });
    return { name: t.layer.name, kind: t.kind, channels: p.channels, count: p.count };
  });
  return { updated, skipped, batches: batchCount, examples };
}

/** The layer's `moving_mean` and `moving_variance` weights. */
function movingWeights(layer: BatchNormalizationLike): [LayerVariable, LayerVariable] {
  const byName = (suffix: string): LayerVariable => {
    const w = layer.nonTrainableWeights.find((v) => v.originalName.endsWith(suffix));
    if (!w) throw new BnlabError('INVALID_ARGUMENT', `layer ${layer.name} has no ${suffix} weight`, { where: layer.name });
    return w;
  };
  return [byName('moving_mean'), byName('moving_variance')];
}

/** Per-channel count, mean and biased variance of `x` over every axis but `axis` (kept tensors). */
function channelMoments(x: Tensor, axis: number): { count: number; mean: Tensor; variance: Tensor } {
  const axes = axesExcept(x.rank, axis);
  const count = x.size / (x.shape[axis] ?? 1);
  const m = tidy(() => {
    const r = moments(x.dtype === 'float32' ? x : cast(x, 'float32'), axes);
    return [keep(r.mean), keep(r.variance)];
  });
  return { count, mean: m[0]!, variance: m[1]! };
}

function inputOf(item: InputBatch, index: number): Tensor {
  const xs = item && typeof item === 'object' && 'xs' in item && !('dataSync' in item) ? item.xs : item;
  if (!xs || typeof (xs as Tensor).dataSync !== 'function') {
    throw new BnlabError('INVALID_ARGUMENT', `batches[${index}]: expected a tensor or { xs: tensor }, got ${describe(item)}`, {
      where: `batches[${index}]`,
    });
  }
  return xs as Tensor;
}

function checkShape(xs: Tensor, expected: readonly (number | null)[] | undefined, index: number): void {
  if (!expected) return;
  const fits = xs.rank === expected.length && expected.every((d, i) => d === null || d === xs.shape[i]);
  if (!fits || xs.shape[0] === 0) {
    const want = `[${expected.map((d) => (d === null ? 'n' : d)).join(', ')}]`;
    throw new BnlabError(
      'INVALID_SHAPE',
      `batches[${index}]: shape [${xs.shape.join(', ')}] does not fit the model's input ${want}${xs.shape[0] === 0 ? ' (an empty batch)' : ''}`,
      { where: `batches[${index}]` },
    );
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object without xs' : typeof v;
}
