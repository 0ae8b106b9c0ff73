/**
 * `@bnlab/models`: architecture builders with configurable normalization type and placement.
 *
 * - Builders of the seed architectures, each returning a `tf.LayersModel` from plain JSON:
 *   {@link mlp} (seed 001), {@link simpleCnn} (seed 000), {@link kerasCnn} (seed 003 and the
 *   benchmark), {@link convNet4} (seed 002), the CIFAR {@link resnet} (He et al. 2016, with
 *   its parameter-free {@link ZeroPadShortcut}) and {@link vgg}, and {@link fromSpec} for any
 *   {@link ModelSpec}, including custom stacks of conv/dense/pool/dropout blocks.
 * - Normalization as config: `norm` (any `@bnlab/layers` spec) and `placement`
 *   (`layers: 'all' | number[]`, `position: 'before-activation' | 'after-activation'`).
 * - {@link summary}: the model as data, with Keras's parameter counts.
 *
 * Saving and loading model files in Node lives in the separate entry point
 * `@bnlab/models/node` (`saveModel`, `loadModel`), so that browser bundles never see `node:fs`;
 * browsers use tfjs's own `indexeddb://` handler.
 *
 * @packageDocumentation
 */
export { mlp } from './builders/mlp.js';
export { simpleCnn } from './builders/simple_cnn.js';
export { kerasCnn } from './builders/keras_cnn.js';
export { convNet4 } from './builders/conv_net4.js';
export { resnet } from './builders/resnet.js';
export { vgg } from './builders/vgg.js';
export { ZeroPadShortcut, zeroPadShortcut } from './zero_pad_shortcut.js';
export type { ZeroPadShortcutArgs } from './zero_pad_shortcut.js';
export { fromSpec } from './builders/from_spec.js';
export { validateModelSpec } from './spec/validate.js';
export { DEFAULTS } from './spec/defaults.js';
export { kernelInitializer } from './initializers.js';
export { biasIsRedundant, normApplies } from './placement.js';
export { summary, formatSummary } from './summary.js';
export type { LayerSummary, ModelSummary } from './summary.js';
export type {
  BlockActivation,
  OutputActivation,
  VarianceScalingName,
  KernelInitializerSpec,
  CommonBuildOptions,
  MlpOptions,
  SimpleCnnOptions,
  KerasCnnOptions,
  ConvNet4Options,
  ResNetOptions,
  VggDepth,
  VggOptions,
  CustomOptions,
  BlockSpec,
  ConvBlockSpec,
  DenseBlockSpec,
  PoolBlockSpec,
  DropoutBlockSpec,
  FlattenBlockSpec,
  BuilderSpec,
} from './spec/types.js';
export type { ModelSpec, NormPlacement, NormPosition, NormalizationSpec, ArchitectureName } from '@bnlab/core';
