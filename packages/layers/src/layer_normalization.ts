import { serialization, tidy } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { InputSpec } from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';
import { BnlabError } from '@bnlab/core';
import { NormalizationLayer, mergeOptions } from './normalization_layer.js';
import type { NormalizationLayerArgs } from './normalization_layer.js';
import { normalizeOver } from './ops/standardize.js';
import { broadcastShape, knownDim, resolveAxis, singleShape, singleTensor } from './shape_utils.js';
import type { Kwargs } from './tfjs_types.js';

/** Options of {@link LayerNormalization}. */
export interface LayerNormalizationArgs extends NormalizationLayerArgs {
  /**
   * The axis or axes normalized over, per sample. `-1` on an NHWC image normalizes each pixel
   * across its channels (Keras); `[1, 2, 3]` normalizes over the whole sample, as PyTorch's
   * `LayerNorm([C, H, W])`. `gamma` and `beta` are shaped like these axes (in increasing
   * order). @default -1
   */
  axis?: number | number[];
}

interface LayerOptions {
  axis: number | number[];
  epsilon: number;
  center: boolean;
  scale: boolean;
}

/**
 * Layer normalization: each sample standardized over `axis`, independently of the batch.
 *
 * `y = gamma · (x − mean) / sqrt(var + epsilon) + beta`, with the mean and biased variance of
 * each sample over the normalized axes; `gamma` and `beta` are element-wise over those axes.
 * Training and inference compute the same thing.
 *
 * @example
 * ```ts
 * layerNormalization();                      // over the last axis, as Keras
 * layerNormalization({ axis: [1, 2, 3] });   // over H, W and C of an NHWC input
 * ```
 * @see https://arxiv.org/abs/1607.06450 (Ba, Kiros & Hinton, 2016)
 */
export class LayerNormalization extends NormalizationLayer {
  /** The registered class name, also the `class_name` of saved models. */
  static readonly className = 'bnlab>LayerNormalization';
  private readonly options: LayerOptions;
  /** The resolved, sorted axes, set by `build`. */
  private axes: number[] = [];

  constructor(args: LayerNormalizationArgs = {}) {
    const options = mergeOptions<LayerOptions>('layer', args, 'LayerNormalization');
    super(args, 'layer_normalization', options);
    this.options = options;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape, 'LayerNormalization');
    const given = typeof this.options.axis === 'number' ? [this.options.axis] : this.options.axis;
    const axes = given.map((a) => resolveAxis(a, shape.length, 'LayerNormalization'));
    if (new Set(axes).size !== axes.length) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `LayerNormalization: \`axis\` (${JSON.stringify(this.options.axis)}) must name distinct axes of an input ` +
          `of rank ${shape.length}, but ${JSON.stringify(axes)} repeats one`,
        { where: 'axis' },
      );
    }
    this.axes = [...axes].sort((a, b) => a - b);
    const dims = this.axes.map((a) => knownDim(shape, a, 'LayerNormalization'));
    const known: Record<number, number> = {};
    this.axes.forEach((a, i) => (known[a] = dims[i]!));
    this.inputSpec = [new InputSpec({ ndim: shape.length, axes: known })];
    this.addAffineWeights(dims);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = singleTensor(inputs, 'LayerNormalization');
      const normalized = normalizeOver(x, this.axes, this.epsilon);
      return this.applyAffine(normalized, broadcastShape(x.rank, this.axes, x.shape));
    });
  }

  override getConfig(): serialization.ConfigDict {
    const o = this.options;
    return {
      axis: typeof o.axis === 'number' ? o.axis : [...o.axis],
      epsilon: o.epsilon,
      center: o.center,
      scale: o.scale,
      ...this.affineConfig(),
      ...super.getConfig(),
    };
  }
}
serialization.registerClass(LayerNormalization, 'bnlab', 'LayerNormalization');

/** Creates a {@link LayerNormalization} layer, as `tf.layers.layerNormalization` does. */
export function layerNormalization(args?: LayerNormalizationArgs): LayerNormalization {
  return new LayerNormalization(args);
}
