import type { NormalizationSpec, NormPlacement } from '@bnlab/core';

/** Activations a block may use (a subset of tfjs's, all of which train on wasm and cpu). */
export type BlockActivation = 'relu' | 'relu6' | 'elu' | 'selu' | 'tanh' | 'sigmoid' | 'swish' | 'gelu' | 'linear';

/** Activation of the final classifier layer. */
export type OutputActivation = 'softmax' | 'linear';

/** The variance-scaling initializers, by their tfjs names. */
export type VarianceScalingName = 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'lecunUniform' | 'lecunNormal';

/**
 * How conv/dense kernels are initialized, as plain JSON: a variance-scaling name, or a fixed
 * distribution. `{ name: 'randomNormal', stddev: 10 }` is the deliberately badly scaled
 * initialization used to test "normalization makes training less sensitive to initialization".
 *
 * Every form resolves to a stock tfjs initializer (`VarianceScaling`, `RandomNormal`,
 * `RandomUniform`, `TruncatedNormal`), so saved models need nothing registered to load.
 * Note that tfjs's `*Normal` variance-scaling initializers draw from a truncated normal without
 * Keras's 0.8796 correction, so their standard deviation is about 0.88 · sqrt(scale / fan).
 */
export type KernelInitializerSpec =
  | VarianceScalingName
  | { name: 'randomNormal'; mean?: number; stddev: number }
  | { name: 'truncatedNormal'; mean?: number; stddev: number }
  | { name: 'randomUniform'; minval: number; maxval: number };

/** Options every builder takes. */
export interface CommonBuildOptions {
  /** The model's name. @default the architecture name */
  name?: string;
  /** Activation of every conv/dense block. @default 'relu' */
  activation?: BlockActivation;
  /** Activation of the classifier (the last dense layer). @default 'softmax' */
  outputActivation?: OutputActivation;
  /** Initializer of every conv/dense kernel, the classifier's included. @default 'glorotUniform' */
  kernelInitializer?: KernelInitializerSpec;
  /**
   * Multiplies the spread of every kernel initializer (its standard deviation, or the bounds of a
   * uniform): `10` makes the default Glorot initialization ten times too large.
   * @default 1
   */
  kernelInitializerScale?: number;
  /**
   * Keep the bias of a conv/dense layer even where the normalization right after it makes the
   * bias redundant (see {@link biasIsRedundant}).
   * @default false
   */
  keepBias?: boolean;
  /**
   * Seed of the kernel initializers (and dropout masks): the same seed builds the same weights.
   * @default unseeded (tfjs's own random state)
   */
  seed?: number;
}

/** Options of {@link mlp}. */
export interface MlpOptions extends CommonBuildOptions {
  /** Units of the hidden dense layers (blocks 1…n). @default [128, 64] */
  hiddenUnits?: number[];
}

/** Options of {@link simpleCnn}. */
export interface SimpleCnnOptions extends CommonBuildOptions {
  /** Filters of the two conv layers (blocks 1, 2). @default [32, 64] */
  filters?: number[];
  /** Side of the square conv kernels. @default 3 */
  kernelSize?: number;
  /** Units of the hidden dense layer (block 3). @default 128 */
  denseUnits?: number;
}

/** Options of {@link kerasCnn}. */
export interface KerasCnnOptions extends CommonBuildOptions {
  /** Filters of the three conv layers (blocks 1–3). @default [32, 64, 64] */
  filters?: number[];
  /** Side of the square conv kernels. @default 3 */
  kernelSize?: number;
  /** Units of the hidden dense layer (block 4). @default 64 */
  denseUnits?: number;
}

/** Options of {@link convNet4}. */
export interface ConvNet4Options extends CommonBuildOptions {
  /** Filters of the four conv layers (blocks 1–4). @default [64, 64, 128, 128] */
  filters?: number[];
  /** Units of the hidden dense layer (block 5). @default 512 */
  denseUnits?: number;
  /**
   * `'seed'`: seed 002's published code, where blocks 1 and 3 put an after-activation
   * normalization after their pooling (conv → ReLU → pool → BN) and blocks 2 and 4 before it
   * (conv → ReLU → BN → pool). `'uniform'`: every block conv → ReLU → norm → pool.
   * Before-activation placement is conv → norm → ReLU → pool in both layouts.
   * @default 'seed'
   */
  layout?: 'seed' | 'uniform';
}

/** Options of {@link resnet}. */
export interface ResNetOptions extends CommonBuildOptions {
  /**
   * Number of weight layers, 6n + 2 for n ≥ 1: the stem convolution, 3 stages of n basic
   * blocks of 2 convolutions, and the classifier. 20, 32, 44, 56 and 110 are the paper's.
   * @default 20
   */
  depth?: number;
  /** Channels of stages 1, 2 and 3 (the stem has `widths[0]`). @default [16, 32, 64] */
  widths?: number[];
  /**
   * The shortcut of the blocks whose input and output shapes differ (the first block of
   * stages 2 and 3, and any stage whose width changes): `'A'`, the identity subsampled by 2
   * with zero channels appended ({@link ZeroPadShortcut}, no parameters; needs widths that do
   * not decrease); `'B'`, a 1×1 convolution with stride 2 (followed by its own normalization
   * in classic blocks). Every other shortcut is the identity, never normalized.
   * @default 'A'
   */
  shortcut?: 'A' | 'B';
  /**
   * He et al.'s identity-mapping blocks (ResNet v2): norm → activation → conv, norm →
   * activation → conv, add, with a final norm and activation before the pooling. The first
   * block of each stage shares its first norm and activation with its shortcut (as the paper
   * does after the stem, and as the authors' code does where a stage begins). `false`: the
   * original blocks, conv → norm → activation → conv → norm, add, activation.
   * @default false
   */
  preActivation?: boolean;
  /**
   * Initialize `gamma` of the last normalization of each residual branch to 0, so that every
   * block starts as its shortcut (Goyal et al., 2017). Needs a normalization with `scale`.
   * @default false
   */
  zeroInitLastNorm?: boolean;
}

/** The depths {@link vgg} builds: VGG-11, VGG-13 and VGG-16 (configurations A, B and D). */
export type VggDepth = 11 | 13 | 16;

/** Options of {@link vgg}. */
export interface VggOptions extends CommonBuildOptions {
  /** @default 16 */
  depth?: VggDepth;
  /**
   * Units of hidden dense layers between the convolutions and the classifier, numbered as
   * blocks after the convolutions. `[]` is the common CIFAR head (the 512 features straight
   * into the classifier); `[512, 512]` the ImageNet VGG's head, scaled to CIFAR.
   * @default []
   */
  hiddenUnits?: number[];
  /**
   * Rate of a dropout layer after each hidden dense layer (and its normalization), as the
   * VGG paper's head has; 0 adds none. Needs `hiddenUnits`.
   * @default 0
   */
  dropout?: number;
}

/** A convolution block of a custom model; numbered with the dense blocks from 1. */
export interface ConvBlockSpec {
  type: 'conv';
  filters: number;
  /** @default 3 */
  kernelSize?: number;
  /** @default 1 */
  strides?: number;
  /** @default 'valid' */
  padding?: 'valid' | 'same';
  /** @default the model's `activation` */
  activation?: BlockActivation;
  /**
   * With `position: 'after-activation'`, put this block's normalization after the pooling
   * block that follows it (conv → act → pool → norm), as seed 002 does. It takes effect only
   * when the block is normalized (see `placement.layers`), `placement.position` is
   * `'after-activation'` and the very next block is a `maxPool` or `avgPool` (not, say, a
   * dropout then a pool). A spec where it takes effect on none of the blocks that set it is an
   * `INVALID_CONFIG` error naming this field (the option would do nothing); a block where it
   * does not take effect while it does on another keeps its norm right after the activation
   * (conv → act → norm). Ignored with `norm: { type: 'none' }`. @default false
   */
  normAfterPool?: boolean;
}

/** A dense block of a custom model; a Flatten is inserted before it when the input is an image. */
export interface DenseBlockSpec {
  type: 'dense';
  units: number;
  /** @default the model's `activation` */
  activation?: BlockActivation;
}

/** A 2-D pooling block. */
export interface PoolBlockSpec {
  type: 'maxPool' | 'avgPool';
  /** @default 2 */
  poolSize?: number;
  /** @default `poolSize` */
  strides?: number;
  /** @default 'valid' */
  padding?: 'valid' | 'same';
}

/** A dropout block. */
export interface DropoutBlockSpec {
  type: 'dropout';
  /** Fraction of the inputs dropped in training, in [0, 1). */
  rate: number;
}

/** An explicit Flatten (one is also inserted automatically before the first dense block). */
export interface FlattenBlockSpec {
  type: 'flatten';
}

/** One block of a custom model. */
export type BlockSpec = ConvBlockSpec | DenseBlockSpec | PoolBlockSpec | DropoutBlockSpec | FlattenBlockSpec;

/** Options of a custom model ({@link fromSpec} with `architecture: 'custom'`). */
export interface CustomOptions extends CommonBuildOptions {
  /** The blocks, in order; the classifier (dense `numClasses`) is appended after them. */
  blocks: BlockSpec[];
}

/**
 * What every builder takes: a {@link ModelSpec} without the architecture, with typed options and
 * the seeds' defaults (MNIST-shaped input, ten classes, no normalization).
 */
export interface BuilderSpec<O> {
  /** Input shape without the batch dimension (NHWC). @default per builder, see {@link DEFAULTS} */
  inputShape?: number[];
  /** @default 10 */
  numClasses?: number;
  /** @default { type: 'none' } */
  norm?: NormalizationSpec;
  /** @default { layers: 'all', position: 'before-activation' } */
  placement?: NormPlacement;
  options?: O;
}
