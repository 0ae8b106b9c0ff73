import type { layers } from '@tensorflow/tfjs-layers';

// tfjs-layers' package entry exports its layer classes and factories but not the argument and
// object types they use (LayerArgs, Initializer, …); those live in files under its `dist/`.
// Importing them from there breaks the published types of this package under
// `moduleResolution: node16 | nodenext` (an ESM declaration file cannot import a CommonJS
// package's extensionless deep paths), so they are read off the public API instead.

/** The tfjs-layers `LayerArgs` every layer's constructor takes (`inputShape`, `name`, `trainable`, …). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;

type BatchNormalizationLayerArgs = NonNullable<Parameters<typeof layers.batchNormalization>[0]>;
type InitializerArg = NonNullable<BatchNormalizationLayerArgs['betaInitializer']>;
type RegularizerArg = NonNullable<BatchNormalizationLayerArgs['betaRegularizer']>;
type ConstraintArg = NonNullable<BatchNormalizationLayerArgs['betaConstraint']>;

/** A tfjs-layers initializer object (as `tf.initializers.zeros()` makes). */
export type Initializer = Exclude<InitializerArg, string>;
/** The name of a tfjs-layers initializer (`'zeros'`, `'ones'`, `'glorotUniform'`, …). */
export type InitializerIdentifier = Extract<InitializerArg, string>;
/** A tfjs-layers regularizer object (as `tf.regularizers.l2()` makes). */
export type Regularizer = Exclude<RegularizerArg, string>;
/** The name of a tfjs-layers regularizer (`'l1l2'`). */
export type RegularizerIdentifier = Extract<RegularizerArg, string>;
/** A tfjs-layers constraint object (as `tf.constraints.maxNorm()` makes). */
export type Constraint = Exclude<ConstraintArg, string>;
/** The name of a tfjs-layers constraint (`'maxNorm'`, `'nonNeg'`, …). */
export type ConstraintIdentifier = Extract<ConstraintArg, string>;

/** The keyword arguments a layer's `call` receives (`training`, `mask`, …). */
export type Kwargs = { [key: string]: unknown };
