import { keep, tidy } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';
import { BatchNormalization } from './batch_normalization.js';
import { affine, standardize } from './ops/standardize.js';
import { axesExcept, broadcastShape } from './shape_utils.js';

/** The parts of a batch-normalization layer (ours or tfjs-layers') used here. */
export interface BatchNormalizationLike {
  name: string;
  trainable: boolean;
  trainableWeights: LayerVariable[];
  nonTrainableWeights: LayerVariable[];
  getConfig(): { axis?: unknown; epsilon?: unknown };
  call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[];
}

/** A batch-normalization layer found in a model. */
export interface FoundBatchNormalization {
  /** The layer. */
  layer: BatchNormalizationLike;
  /** `'bnlab'` for `@bnlab/layers`' {@link BatchNormalization}, `'tfjs'` for tfjs-layers' own. */
  kind: 'bnlab' | 'tfjs';
  /**
   * Frozen as Keras decides it: the layer's own `trainable` is false, or its scale and offset
   * weights all are (a frozen base model). It then normalizes with its moving statistics.
   */
  frozen: boolean;
}

/**
 * Every batch-normalization layer of `model` — `@bnlab/layers`' and tfjs-layers' own (as in
 * Keras-converted models) — nested models included, in layer order.
 */
export function batchNormalizationLayers(model: LayersModel): FoundBatchNormalization[] {
  const found: FoundBatchNormalization[] = [];
  const visit = (layers: readonly unknown[]): void => {
    for (const item of layers) {
      const l = item as { layers?: unknown[]; getClassName(): string };
      if (Array.isArray(l.layers)) visit(l.layers);
      else if (item instanceof BatchNormalization || l.getClassName() === 'BatchNormalization') {
        const layer = item as unknown as BatchNormalizationLike;
        found.push({ layer, kind: item instanceof BatchNormalization ? 'bnlab' : 'tfjs', frozen: isFrozen(layer) });
      }
    }
  };
  visit(model.layers);
  return found;
}

function isFrozen(layer: BatchNormalizationLike): boolean {
  if (!layer.trainable) return true;
  const affine = [...layer.trainableWeights, ...layer.nonTrainableWeights].filter((w) => /(gamma|beta)$/.test(w.originalName));
  return affine.length > 0 && affine.every((w) => !w.trainable);
}

/** The feature axis of a batch-normalization layer for an input of this rank. */
export function featureAxis(layer: BatchNormalizationLike, rank: number): number {
  const axis = layer.getConfig().axis;
  const a = typeof axis === 'number' ? axis : Array.isArray(axis) && typeof axis[0] === 'number' ? axis[0] : -1;
  return a < 0 ? a + rank : a;
}

/** Called with each input a batch-normalization layer receives while batch statistics are in force. */
export type BatchNormInputObserver = (found: FoundBatchNormalization, x: Tensor, axis: number) => void;

/**
 * Makes the given layers normalize with each batch's own statistics, whatever mode the model
 * runs in, until the returned function is called: ours run their training path (ghost
 * batches, renormalization and frozen layers as in training); tfjs-layers' own normalize
 * here, because its training path crashes without scale or offset (tfjs issue 2868). Their
 * training path updates the moving averages: callers restore them. `observe` sees every input.
 */
export function forceBatchStatistics(layers: readonly FoundBatchNormalization[], observe?: BatchNormInputObserver): () => void {
  const originals = layers.map((f) => ({ layer: f.layer, call: f.layer.call }));
  for (const found of layers) {
    const { layer, kind } = found;
    const original = layer.call;
    layer.call = function (this: BatchNormalizationLike, inputs, kwargs) {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const axis = featureAxis(layer, x.rank);
      observe?.(found, x, axis);
      if (kind === 'bnlab') return original.call(this, inputs, { ...kwargs, training: true });
      return normalizeWithBatchStatistics(layer, x, axis);
    };
  }
  return () => {
    for (const { layer, call } of originals) layer.call = call;
  };
}

/** tfjs-layers' `BatchNormalization` in training mode, without its moving-average update. */
function normalizeWithBatchStatistics(layer: BatchNormalizationLike, x: Tensor, axis: number): Tensor {
  return tidy(() => {
    const weight = (suffix: string): Tensor | null =>
      layer.trainableWeights
        .concat(layer.nonTrainableWeights)
        .find((v) => v.originalName.endsWith(suffix))
        ?.read() ?? null;
    const epsilon = layer.getConfig().epsilon;
    const { normalized } = standardize(x, axesExcept(x.rank, axis), typeof epsilon === 'number' ? epsilon : 1e-3);
    return affine(normalized, weight('gamma'), weight('beta'), broadcastShape(x.rank, [axis], x.shape));
  });
}

/**
 * Copies the moving statistics (every non-trainable weight) of `layers`; the returned function
 * puts them back and frees the copies.
 */
export function saveStatistics(layers: readonly FoundBatchNormalization[]): () => void {
  const saved = layers.flatMap((f) => f.layer.nonTrainableWeights).map((w) => ({ w, value: keep(w.read().clone()) }));
  return () => {
    for (const { w, value } of saved) {
      w.write(value);
      value.dispose();
    }
  };
}

/**
 * Runs `fn` with every batch-normalization layer of `model` normalizing with the statistics of
 * the batch it is given, as in training, while the model otherwise runs as `fn` calls it (in
 * inference mode: no dropout) — the "batch statistics" accuracy beside the moving-average one.
 * The moving statistics are left as they were.
 */
export async function withBatchStatistics<T>(model: LayersModel, fn: () => Promise<T> | T): Promise<T> {
  const layers = batchNormalizationLayers(model);
  const restoreStatistics = saveStatistics(layers);
  const restore = forceBatchStatistics(layers);
  try {
    return await fn();
  } finally {
    restore();
    restoreStatistics();
  }
}
