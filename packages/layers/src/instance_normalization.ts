import { serialization, tidy } from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { InputSpec } from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';
import { BnlabError } from '@bnlab/core';
import { NormalizationLayer, mergeOptions } from './normalization_layer.js';
import type { NormalizationLayerArgs } from './normalization_layer.js';
import { groupStandardize } from './ops/standardize.js';
import { broadcastShape, knownDim, resolveAxis, singleShape, singleTensor } from './shape_utils.js';
import type { Kwargs } from './tfjs_types.js';

/** Options of {@link InstanceNormalization}. */
export interface InstanceNormalizationArgs extends NormalizationLayerArgs {
  /** The channel axis. @default -1 */
  axis?: number;
}

interface InstanceOptions {
  axis: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
}

/**
 * Instance normalization: each sample and channel standardized over its spatial positions.
 *
 * `y = gamma · (x − mean_nc) / sqrt(var_nc + epsilon) + beta`, with the mean and biased
 * variance of channel `c` of sample `n` over every axis but the batch and channel axes;
 * `gamma` and `beta` are per channel. It is group normalization with one group per channel.
 * Unlike PyTorch's `InstanceNorm2d` (affine off by default), `center` and `scale` default to
 * true, as for the other bnlab layers. It needs at least one spatial axis (rank ≥ 3): on a 2-D
 * input every output would be `beta`. Training and inference compute the same thing.
 *
 * @example
 * ```ts
 * instanceNormalization();   // after a conv2d (NHWC)
 * ```
 * @see https://arxiv.org/abs/1607.08022 (Ulyanov, Vedaldi & Lempitsky, 2016)
 */
export class InstanceNormalization extends NormalizationLayer {
  /** The registered class name, also the `class_name` of saved models. */
  static readonly className = 'bnlab>InstanceNormalization';
  private readonly options: InstanceOptions;
  /** The resolved channel axis and channel count, set by `build`. */
  private channelAxis = -1;
  private channels = 0;

  constructor(args: InstanceNormalizationArgs = {}) {
    const options = mergeOptions<InstanceOptions>('instance', args, 'InstanceNormalization');
    super(args, 'instance_normalization', options);
    this.options = options;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape, 'InstanceNormalization');
    if (shape.length < 3) {
      throw new BnlabError(
        'INVALID_SHAPE',
        `InstanceNormalization: the input must have rank >= 3 (batch, spatial axes, channels), got shape ` +
          `${JSON.stringify(shape)}; use layer or group normalization after a dense layer`,
      );
    }
    this.channelAxis = resolveAxis(this.options.axis, shape.length, 'InstanceNormalization');
    this.channels = knownDim(shape, this.channelAxis, 'InstanceNormalization');
    this.inputSpec = [new InputSpec({ ndim: shape.length, axes: { [this.channelAxis]: this.channels } })];
    this.addAffineWeights([this.channels]);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = singleTensor(inputs, 'InstanceNormalization');
      const normalized = groupStandardize(x, this.channelAxis, this.channels, this.epsilon);
      return this.applyAffine(normalized, broadcastShape(x.rank, [this.channelAxis], x.shape));
    });
  }

  override getConfig(): serialization.ConfigDict {
    const o = this.options;
    return {
      axis: o.axis,
      epsilon: o.epsilon,
      center: o.center,
      scale: o.scale,
      ...this.affineConfig(),
      ...super.getConfig(),
    };
  }
}
serialization.registerClass(InstanceNormalization, 'bnlab', 'InstanceNormalization');

/** Creates an {@link InstanceNormalization} layer. */
export function instanceNormalization(args?: InstanceNormalizationArgs): InstanceNormalization {
  return new InstanceNormalization(args);
}
