/**
 * `@bnlab/core`: the ground the other bnlab packages stand on.
 *
 * - {@link initBackend} starts the SIMD WebAssembly backend (cpu fallback) and registers the
 *   training kernels tfjs-backend-wasm lacks, so CNNs train on wasm.
 * - Shared types: {@link Dataset}, {@link NormalizationSpec}, {@link ModelSpec},
 *   {@link TrainingRecord} / {@link MetricsSink}, {@link ProgressReporter}.
 * - {@link batchNormTraining}: training-mode batch normalization as one fused kernel with a
 *   fused gradient (SIMD on wasm, JavaScript on cpu), for normalization layers.
 * - {@link BnlabError} with stable codes, and a seeded {@link Rng}.
 *
 * @packageDocumentation
 */
export { initBackend, activeBackend } from './backend/init_backend.js';
export type { BackendInfo, BackendName, InitBackendOptions } from './backend/init_backend.js';
export { relaxedSimdSupported, setRelaxedSimd, simdKernels } from './kernels/simd/simd_module.js';
export { setWinograd, winogradEnabled } from './kernels/winograd.js';
export type { SimdKernels } from './kernels/simd/simd_module.js';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS } from './kernels/register.js';
export type { RegisterKernelsOptions } from './kernels/register.js';
export {
  batchNormTraining,
  registerBatchNormTrainingKernels,
  BATCH_NORM_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
} from './ops/batch_norm_training.js';
export type { BatchNormTrainingOptions, BatchNormTrainingResult } from './ops/batch_norm_training.js';
export { adam, FusedAdamOptimizer } from './optimizers/adam.js';
export { momentum, FusedMomentumOptimizer } from './optimizers/momentum.js';
export { conv2dBiasActivation, CONV2D_BIAS_ACTIVATION_KERNEL } from './ops/conv2d_bias_activation.js';
export type { Conv2DBiasActivationOptions } from './ops/conv2d_bias_activation.js';
export {
  groupNorm,
  groupNormAvailable,
  standardizeTrailing,
  registerGroupNormKernels,
  GROUP_NORM_KERNEL,
  GROUP_NORM_GRAD_KERNEL,
} from './ops/group_norm.js';
export { BnlabError, isBnlabError, ERROR_CODES } from './errors.js';
export type { BnlabErrorCode, BnlabErrorOptions } from './errors.js';
export { Rng } from './rng.js';
export { formatValue, valueAtPath } from './format.js';
export type {
  NormalizationType,
  NormalizationCommonOptions,
  BatchNormSpec,
  LayerNormSpec,
  GroupNormSpec,
  InstanceNormSpec,
  NoNormSpec,
  NormalizationSpec,
} from './types/normalization.js';
export type { NormPosition, NormPlacement, ArchitectureName, ModelSpec } from './types/model.js';
export type { Batch, BatchOptions, Dataset, DatasetSplits } from './types/dataset.js';
export type { RunStatus, BatchRecord, EpochRecord, TrainingRecord, MetricsSink, ActivationTrace } from './types/metrics.js';
export type { ProgressReporter } from './types/progress.js';
export { silentProgress } from './types/progress.js';
