import type { serialization, Tensor } from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { resolveConstraint, resolveInitializer, resolveRegularizer, serializeObject } from './keras_objects.js';
import { affine } from './ops/standardize.js';
import { NORMALIZATION_DEFAULTS, OPTION_NAMES, optionsSchema, parseOrThrow } from './options.js';
import type { NormalizationFamily } from './options.js';
import { defaultLayerName } from './shape_utils.js';
import type {
  Constraint,
  ConstraintIdentifier,
  Initializer,
  InitializerIdentifier,
  LayerArgs,
  Regularizer,
  RegularizerIdentifier,
} from './tfjs_types.js';

/** Options every bnlab normalization layer takes, besides the tfjs {@link LayerArgs}. */
export interface NormalizationLayerArgs extends LayerArgs {
  /** Added to the variance before the square root. @default 1e-3 */
  epsilon?: number;
  /** Learn an offset `beta`; without it there is no `beta` weight. @default true */
  center?: boolean;
  /** Learn a scale `gamma`; without it there is no `gamma` weight. @default true */
  scale?: boolean;
  /** Initializer of `beta`. @default 'zeros' */
  betaInitializer?: InitializerIdentifier | Initializer;
  /** Initializer of `gamma`. @default 'ones' */
  gammaInitializer?: InitializerIdentifier | Initializer;
  /** Regularizer of `beta`. @default none */
  betaRegularizer?: RegularizerIdentifier | Regularizer;
  /** Regularizer of `gamma`. @default none */
  gammaRegularizer?: RegularizerIdentifier | Regularizer;
  /** Constraint on `beta`. @default none */
  betaConstraint?: ConstraintIdentifier | Constraint;
  /** Constraint on `gamma`. @default none */
  gammaConstraint?: ConstraintIdentifier | Constraint;
}

const constructorSchemas = new Map<NormalizationFamily, ReturnType<typeof optionsSchema>>();

/** The options of a family as the user gave them, checked, and merged once with their defaults. */
export function mergeOptions<T>(family: NormalizationFamily, args: object, context: string): T {
  let schema = constructorSchemas.get(family);
  if (schema === undefined) constructorSchemas.set(family, (schema = optionsSchema(family, false)));
  parseOrThrow(schema, args, context);
  const given: Record<string, unknown> = {};
  for (const name of OPTION_NAMES[family]) {
    const v = (args as Record<string, unknown>)[name];
    // Copy arrays and objects so later changes to the caller's values cannot reach the layer.
    if (v != null) given[name] = typeof v === 'object' ? structuredCloneJson(v) : v;
  }
  return { ...NORMALIZATION_DEFAULTS[family], ...given } as T;
}

function structuredCloneJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * The base of the four bnlab normalization layers: the options and the optional affine
 * weights `gamma` and `beta` they share. Not used directly.
 */
export abstract class NormalizationLayer extends layers.Layer {
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Whether the layer has a learned offset `beta`. */
  readonly center: boolean;
  /** Whether the layer has a learned scale `gamma`. */
  readonly scale: boolean;
  /** The learned scale, `null` without `scale` or before `build`. */
  protected gamma: LayerVariable | null = null;
  /** The learned offset, `null` without `center` or before `build`. */
  protected beta: LayerVariable | null = null;
  private readonly gammaInitializer: Initializer;
  private readonly betaInitializer: Initializer;
  private readonly gammaRegularizer: Regularizer | null;
  private readonly betaRegularizer: Regularizer | null;
  private readonly gammaConstraint: Constraint | null;
  private readonly betaConstraint: Constraint | null;

  protected constructor(args: NormalizationLayerArgs, namePrefix: string, options: { epsilon: number; center: boolean; scale: boolean }) {
    super({ ...args, name: args.name || defaultLayerName(namePrefix) });
    this.epsilon = options.epsilon;
    this.center = options.center;
    this.scale = options.scale;
    this.gammaInitializer = resolveInitializer(args.gammaInitializer, 'ones', 'gammaInitializer');
    this.betaInitializer = resolveInitializer(args.betaInitializer, 'zeros', 'betaInitializer');
    this.gammaRegularizer = resolveRegularizer(args.gammaRegularizer, 'gammaRegularizer');
    this.betaRegularizer = resolveRegularizer(args.betaRegularizer, 'betaRegularizer');
    this.gammaConstraint = resolveConstraint(args.gammaConstraint, 'gammaConstraint');
    this.betaConstraint = resolveConstraint(args.betaConstraint, 'betaConstraint');
  }

  /** Adds `gamma` then `beta` (Keras order), each only when enabled. */
  protected addAffineWeights(shape: number[]): void {
    this.gamma = this.scale
      ? this.addWeight(
          'gamma',
          shape,
          'float32',
          this.gammaInitializer,
          this.gammaRegularizer ?? undefined,
          true,
          this.gammaConstraint ?? undefined,
        )
      : null;
    this.beta = this.center
      ? this.addWeight(
          'beta',
          shape,
          'float32',
          this.betaInitializer,
          this.betaRegularizer ?? undefined,
          true,
          this.betaConstraint ?? undefined,
        )
      : null;
  }

  /** `y · gamma + beta`, with the weights reshaped to `broadcast`; absent weights are skipped. */
  protected applyAffine(y: Tensor, broadcast: number[]): Tensor {
    return affine(y, this.gamma?.read() ?? null, this.beta?.read() ?? null, broadcast);
  }

  /** The serialized affine options, in Keras order. */
  protected affineConfig(): serialization.ConfigDict {
    return {
      betaInitializer: serializeObject(this.betaInitializer),
      gammaInitializer: serializeObject(this.gammaInitializer),
      betaRegularizer: serializeObject(this.betaRegularizer),
      gammaRegularizer: serializeObject(this.gammaRegularizer),
      betaConstraint: serializeObject(this.betaConstraint),
      gammaConstraint: serializeObject(this.gammaConstraint),
    };
  }
}
