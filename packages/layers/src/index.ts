/**
 * `@bnlab/layers`: Batch, Layer, Group and Instance normalization as TensorFlow.js custom layers.
 *
 * - {@link BatchNormalization} (Keras semantics, plus ghost batches and batch renormalization),
 *   {@link LayerNormalization}, {@link GroupNormalization} and {@link InstanceNormalization},
 *   each with a camelCase factory, all trainable with `scale` / `center` off.
 * - {@link normalization} builds any of them (or none) from a plain JSON
 *   {@link NormalizationSpec}, checked by {@link validateNormalizationSpec}.
 *
 * Importing the package registers the layers with tfjs's serialization under the class names
 * `bnlab>BatchNormalization`, `bnlab>LayerNormalization`, `bnlab>GroupNormalization` and
 * `bnlab>InstanceNormalization`, so saved models load with `tf.loadLayersModel` and never
 * collide with tfjs's own `BatchNormalization` / `LayerNormalization`.
 *
 * @packageDocumentation
 */
export { BatchNormalization, batchNormalization } from './batch_normalization.js';
export type { BatchNormalizationArgs } from './batch_normalization.js';
export { LayerNormalization, layerNormalization } from './layer_normalization.js';
export type { LayerNormalizationArgs } from './layer_normalization.js';
export { GroupNormalization, groupNormalization } from './group_normalization.js';
export type { GroupNormalizationArgs } from './group_normalization.js';
export { InstanceNormalization, instanceNormalization } from './instance_normalization.js';
export type { InstanceNormalizationArgs } from './instance_normalization.js';
export { NormalizationLayer } from './normalization_layer.js';
export type { NormalizationLayerArgs } from './normalization_layer.js';
export type {
  LayerArgs,
  Initializer,
  InitializerIdentifier,
  Regularizer,
  RegularizerIdentifier,
  Constraint,
  ConstraintIdentifier,
  Kwargs,
} from './tfjs_types.js';
export { normalization, validateNormalizationSpec, NORMALIZATION_TYPES } from './normalization.js';
export type { NormalizationExtraArgs } from './normalization.js';
export { NORMALIZATION_DEFAULTS } from './options.js';
export type {
  NormalizationSpec,
  NormalizationType,
  NormalizationCommonOptions,
  BatchNormSpec,
  LayerNormSpec,
  GroupNormSpec,
  InstanceNormSpec,
  NoNormSpec,
} from '@bnlab/core';
export { recomputeBatchStatistics } from './recompute_batch_statistics.js';
export type {
  InputBatch,
  RecomputeBatchStatisticsOptions,
  RecomputeBatchStatisticsResult,
  RecomputedLayer,
} from './recompute_batch_statistics.js';
export { batchNormalizationLayers, withBatchStatistics } from './batch_norm_layers.js';
export type { FoundBatchNormalization, BatchNormalizationLike } from './batch_norm_layers.js';
