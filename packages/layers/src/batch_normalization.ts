import { batchNormTraining } from '@bnlab/core';
import {
  add,
  batchNorm,
  clipByValue,
  concat,
  div,
  getBackend,
  maximum,
  mul,
  ones,
  reshape,
  serialization,
  split,
  sqrt,
  sub,
  tidy,
  zeros,
} from '@tensorflow/tfjs-core';
import type { Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import { InputSpec, initializers } from '@tensorflow/tfjs-layers';
import type { LayerVariable, Shape } from '@tensorflow/tfjs-layers';
import { resolveInitializer, serializeObject } from './keras_objects.js';
import { NormalizationLayer, mergeOptions } from './normalization_layer.js';
import type { NormalizationLayerArgs } from './normalization_layer.js';
import { normalizeWith, standardize, stopGradient } from './ops/standardize.js';
import type { Standardized } from './ops/standardize.js';
import { checkBatchOptionCombination } from './options.js';
import { axesExcept, broadcastShape, knownDim, resolveAxis, singleShape, singleTensor } from './shape_utils.js';
import type { Initializer, InitializerIdentifier, Kwargs } from './tfjs_types.js';

/** Options of {@link BatchNormalization}. */
export interface BatchNormalizationArgs extends NormalizationLayerArgs {
  /** The feature (channel) axis; statistics are taken over all the others. @default -1 */
  axis?: number;
  /** `moving = momentum · moving + (1 − momentum) · batch` (Keras convention). @default 0.99 */
  momentum?: number;
  /**
   * Ghost batch normalization (Hoffer et al., 2017): in training, each run of this many
   * consecutive samples is normalized with its own statistics; a batch that is not a multiple
   * leaves a smaller last ghost batch. The moving statistics take the sample-weighted mean of
   * the ghost means and variances. Cannot be combined with `renorm`. @default none
   */
  virtualBatchSize?: number;
  /** Batch renormalization (Ioffe, 2017). @default false */
  renorm?: boolean;
  /**
   * Clipping of the renormalization corrections: `r` to `[1/rmax, rmax]`, `d` to
   * `[−dmax, dmax]` (the paper's form). Missing bounds do not clip. @default no clipping
   */
  renormClipping?: { rmax?: number; dmax?: number };
  /** Momentum of the moving mean and standard deviation renormalization uses. @default 0.99 */
  renormMomentum?: number;
  /** Initializer of `moving_mean`. @default 'zeros' */
  movingMeanInitializer?: InitializerIdentifier | Initializer;
  /** Initializer of `moving_variance`. @default 'ones' */
  movingVarianceInitializer?: InitializerIdentifier | Initializer;
}

interface BatchOptions {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  virtualBatchSize?: number;
  renorm: boolean;
  renormClipping?: { rmax?: number; dmax?: number };
  renormMomentum: number;
}

/** The backends core's fused `batchNormTraining` has kernels for. */
const FUSED_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);

/** The options that appear in `getConfig()` only when the user passed them (beyond Keras/tfjs). */
const EXTENSIONS = ['virtualBatchSize', 'renorm', 'renormClipping', 'renormMomentum'] as const;

/**
 * Batch normalization with Keras semantics, usable in training with `scale` and `center` off.
 *
 * `y = gamma · (x − mean) / sqrt(var + epsilon) + beta`, with `mean` and the biased `var` of
 * the current batch (per feature, over every axis but `axis`) when called with
 * `training: true`, and the moving statistics otherwise. Each training call updates
 * `moving = momentum · moving + (1 − momentum) · batch` (PyTorch's `momentum` is `1 −` this,
 * and PyTorch's running variance is unbiased; ours is biased, as Keras's).
 * A layer whose `trainable` is false normalizes with the moving statistics even in training.
 *
 * Weights, in Keras order: `gamma`, `beta` (each only when enabled), `moving_mean`,
 * `moving_variance`, then with `renorm` also `renorm_mean` and `renorm_stddev`.
 *
 * With `renorm`, training outputs are `gamma · (x̂ · r + d) + beta` where
 * `r = clip(σ_B / σ_R, 1/rmax, rmax)`, `d = clip((μ_B − μ_R) / σ_R, −dmax, dmax)`,
 * `σ_B = sqrt(var_B + epsilon)`, and `μ_R`, `σ_R` are moving averages (`renormMomentum`);
 * no gradient flows through `r` and `d`.
 *
 * @example
 * ```ts
 * const bn = batchNormalization({ momentum: 0.9, scale: false });
 * model.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, inputShape: [28, 28, 1] }));
 * model.add(bn);
 * ```
 * @see https://arxiv.org/abs/1502.03167 (Ioffe & Szegedy, 2015)
 * @see https://arxiv.org/abs/1702.03275 (batch renormalization, Ioffe, 2017)
 * @see https://arxiv.org/abs/1705.08741 (ghost batch normalization, Hoffer et al., 2017)
 */
export class BatchNormalization extends NormalizationLayer {
  /** The registered class name, also the `class_name` of saved models. */
  static readonly className = 'bnlab>BatchNormalization';
  private readonly options: BatchOptions;
  private readonly given: ReadonlySet<string>;
  private readonly movingMeanInitializer: Initializer;
  private readonly movingVarianceInitializer: Initializer;
  private movingMean: LayerVariable | null = null;
  private movingVariance: LayerVariable | null = null;
  private renormMean: LayerVariable | null = null;
  private renormStddev: LayerVariable | null = null;
  /** The resolved (non-negative) feature axis, set by `build`. */
  private featureAxis = -1;

  constructor(args: BatchNormalizationArgs = {}) {
    const options = mergeOptions<BatchOptions>('batch', args, 'BatchNormalization');
    checkBatchOptionCombination(args as Record<string, unknown>, 'BatchNormalization');
    super(args, 'batch_normalization', options);
    this.options = options;
    this.given = new Set(EXTENSIONS.filter((k) => args[k] != null));
    this.movingMeanInitializer = resolveInitializer(args.movingMeanInitializer, 'zeros', 'movingMeanInitializer');
    this.movingVarianceInitializer = resolveInitializer(args.movingVarianceInitializer, 'ones', 'movingVarianceInitializer');
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape, 'BatchNormalization');
    this.featureAxis = resolveAxis(this.options.axis, shape.length, 'BatchNormalization');
    const dim = knownDim(shape, this.featureAxis, 'BatchNormalization');
    this.inputSpec = [new InputSpec({ ndim: shape.length, axes: { [this.featureAxis]: dim } })];
    this.addAffineWeights([dim]);
    this.movingMean = this.addWeight('moving_mean', [dim], 'float32', this.movingMeanInitializer, undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [dim], 'float32', this.movingVarianceInitializer, undefined, false);
    if (this.options.renorm) {
      this.renormMean = this.addWeight('renorm_mean', [dim], 'float32', initializers.zeros(), undefined, false);
      this.renormStddev = this.addWeight('renorm_stddev', [dim], 'float32', initializers.ones(), undefined, false);
    }
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = singleTensor(inputs, 'BatchNormalization');
      const bshape = broadcastShape(x.rank, [this.featureAxis], x.shape);
      // Keras 2.1+: a frozen layer keeps using (and no longer updates) its moving statistics.
      if (kwargs['training'] !== true || this.frozen()) {
        if (this.featureAxis === x.rank - 1 && x.rank >= 2 && x.rank <= 4) {
          // Channels-last: tfjs's own batchNorm op, one kernel (FusedBatchNorm) instead of
          // six element-wise passes; it centers before scaling too. Absent weights become
          // constants: its gradient breaks on a missing scale or offset (as tfjs issue 2868).
          const features = [x.shape[this.featureAxis]!];
          return batchNorm(
            x,
            this.movingMean!.read(),
            this.movingVariance!.read(),
            this.beta?.read() ?? zeros(features),
            this.gamma?.read() ?? ones(features),
            this.epsilon,
          );
        }
        const m = reshape(this.movingMean!.read(), bshape);
        const v = reshape(this.movingVariance!.read(), bshape);
        return this.applyAffine(normalizeWith(x, m, v, this.epsilon), bshape);
      }
      if (this.canFuseTraining(x)) return this.fusedTraining(x);
      const axes = axesExcept(x.rank, this.featureAxis);
      const { normalized, mean, variance } = this.batchStatistics(x, axes);
      const features = [x.shape[this.featureAxis]!];
      const batchMean = reshape(mean, features);
      const batchVariance = reshape(variance, features);
      let y = normalized;
      if (this.options.renorm) y = this.renormalize(y, batchMean, batchVariance, bshape);
      updateMovingAverage(this.movingMean!, batchMean, this.options.momentum);
      updateMovingAverage(this.movingVariance!, batchVariance, this.options.momentum);
      return this.applyAffine(y, bshape);
    });
  }

  /**
   * Whether the layer is frozen: its own `trainable` is false, or its scale and offset weights
   * all are. tfjs's `model.trainable = false` (freezing a base model for transfer learning)
   * only marks each layer's weights, not the layers, and Keras runs the batch norm of a frozen
   * base in inference mode. (A layer with neither scale nor offset is frozen only through its
   * own `trainable`.)
   */
  private frozen(): boolean {
    if (!this.trainable) return true;
    const affine = [this.gamma, this.beta].filter((w): w is LayerVariable => w !== null);
    return affine.length > 0 && affine.every((w) => !w.trainable);
  }

  /**
   * Whether a training call can run as core's fused `batchNormTraining` (one kernel forward,
   * one backward, instead of ~20 elementary ops and their gradients): on the backends it has
   * kernels for (wasm, cpu), channels-last, float32, non-empty, and neither ghost batches nor
   * renorm, whose statistics it does not compute.
   */
  private canFuseTraining(x: Tensor): boolean {
    const { virtualBatchSize, renorm } = this.options;
    const ghost = virtualBatchSize !== undefined && virtualBatchSize < x.shape[0]!;
    return FUSED_BACKENDS.has(getBackend()) && this.featureAxis === x.rank - 1 && x.dtype === 'float32' && x.size > 0 && !ghost && !renorm;
  }

  /**
   * Training forward through the fused op, the same maths as `standardize` + `applyAffine`
   * (biased variance of the centered values, gradients through the statistics too), with
   * `gamma`/`beta` passed only when the layer has them; the moving statistics are updated from
   * the batch mean and variance as on the general path. The op shifts each channel by its
   * first value before summing, so a large mean costs no precision (as `standardize`).
   */
  private fusedTraining(x: Tensor): Tensor {
    const { y, mean, variance } = batchNormTraining(x, {
      scale: this.gamma?.read() as Tensor1D | undefined,
      offset: this.beta?.read() as Tensor1D | undefined,
      epsilon: this.epsilon,
    });
    updateMovingAverage(this.movingMean!, mean, this.options.momentum);
    updateMovingAverage(this.movingVariance!, variance, this.options.momentum);
    return y;
  }

  /** Statistics of the whole batch, or of each ghost batch (concatenated back in order). */
  private batchStatistics(x: Tensor, axes: number[]): Standardized {
    const n = x.shape[0]!;
    const size = this.options.virtualBatchSize;
    if (size === undefined || size >= n) return standardize(x, axes, this.epsilon);
    const sizes: number[] = [];
    for (let start = 0; start < n; start += size) sizes.push(Math.min(size, n - start));
    // A last ghost batch of one sample would normalize it to exactly beta (zero variance),
    // with no gradient: it joins the ghost batch before it (batch 9 in ghost batches of 4: 4 + 5).
    if (sizes.length > 1 && sizes[sizes.length - 1] === 1) {
      sizes.pop();
      sizes[sizes.length - 1]! += 1;
    }
    const parts = split(x, sizes, 0).map((chunk) => standardize(chunk, axes, this.epsilon));
    // Sample-weighted averages: the mean equals the batch mean, the variance is the mean
    // within-ghost-batch variance (the Keras average when all ghost batches are full).
    const weighted = (key: 'mean' | 'variance') => parts.map((p, i) => mul(p[key], sizes[i]! / n)).reduce((acc, t) => add(acc, t));
    return {
      normalized: concat(
        parts.map((p) => p.normalized),
        0,
      ),
      mean: weighted('mean'),
      variance: weighted('variance'),
    };
  }

  /** Applies the renorm correction `x̂ · r + d` and updates the renorm statistics. */
  private renormalize(y: Tensor, mean: Tensor, variance: Tensor, bshape: number[]): Tensor {
    const { rmax, dmax } = this.options.renormClipping ?? {};
    const stddev = sqrt(add(variance, this.epsilon));
    const renormStddev = maximum(this.renormStddev!.read(), Math.sqrt(this.epsilon));
    let r = div(stddev, renormStddev);
    let d = div(sub(mean, this.renormMean!.read()), renormStddev);
    if (rmax !== undefined) r = clipByValue(r, 1 / rmax, rmax);
    if (dmax !== undefined) d = clipByValue(d, -dmax, dmax);
    r = stopGradient(r);
    d = stopGradient(d);
    updateMovingAverage(this.renormMean!, mean, this.options.renormMomentum);
    updateMovingAverage(this.renormStddev!, stddev, this.options.renormMomentum);
    return add(mul(y, reshape(r, bshape)), reshape(d, bshape));
  }

  override getConfig(): serialization.ConfigDict {
    const o = this.options;
    const config: serialization.ConfigDict = {
      axis: o.axis,
      momentum: o.momentum,
      epsilon: o.epsilon,
      center: o.center,
      scale: o.scale,
    };
    for (const key of EXTENSIONS) {
      const value = o[key];
      if (this.given.has(key) && value !== undefined) config[key] = typeof value === 'object' ? { ...value } : value;
    }
    Object.assign(config, this.affineConfig(), {
      movingMeanInitializer: serializeObject(this.movingMeanInitializer),
      movingVarianceInitializer: serializeObject(this.movingVarianceInitializer),
    });
    return { ...config, ...super.getConfig() };
  }
}
serialization.registerClass(BatchNormalization, 'bnlab', 'BatchNormalization');

/** `variable ← variable − (variable − value) · (1 − momentum)`, the Keras moving average. */
function updateMovingAverage(variable: LayerVariable, value: Tensor, momentum: number): void {
  tidy(() => {
    const current = variable.read();
    variable.write(sub(current, mul(sub(current, value), 1 - momentum)));
  });
}

/** Creates a {@link BatchNormalization} layer, as `tf.layers.batchNormalization` does. */
export function batchNormalization(args?: BatchNormalizationArgs): BatchNormalization {
  return new BatchNormalization(args);
}
