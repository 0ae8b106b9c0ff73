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

/** Options of {@link GroupNormalization}. */
export interface GroupNormalizationArgs extends NormalizationLayerArgs {
  /**
   * Number of groups the channels are split into (consecutive channels per group, as Keras
   * and PyTorch). Must divide the number of channels; `-1` means one group per channel
   * (instance normalization). @default 32
   */
  groups?: number;
  /** The channel axis. @default -1 */
  axis?: number;
}

interface GroupOptions {
  groups: number;
  axis: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
}

/**
 * Group normalization: each sample's channels split into `groups` groups, each group
 * standardized over its channels and all spatial positions, independently of the batch.
 *
 * `y = gamma · (x − mean_g) / sqrt(var_g + epsilon) + beta`, with the mean and biased variance
 * of group `g` of one sample; `gamma` and `beta` are per channel. `groups = 1` is layer
 * normalization over all non-batch axes, `groups = channels` (or `-1`) instance normalization.
 * Training and inference compute the same thing.
 *
 * @example
 * ```ts
 * groupNormalization({ groups: 8 });   // after a conv2d with 32 filters (NHWC)
 * ```
 * @see https://arxiv.org/abs/1803.08494 (Wu & He, 2018)
 */
export class GroupNormalization extends NormalizationLayer {
  /** The registered class name, also the `class_name` of saved models. */
  static readonly className: string = 'bnlab>GroupNormalization';
  private readonly options: GroupOptions;
  /** The resolved channel axis and group count, set by `build`. */
  private channelAxis = -1;
  private groupCount = 0;

  constructor(args: GroupNormalizationArgs = {}) {
    const options = mergeOptions<GroupOptions>('group', args, 'GroupNormalization');
    super(args, 'group_normalization', options);
    this.options = options;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape, 'GroupNormalization');
    this.channelAxis = resolveAxis(this.options.axis, shape.length, 'GroupNormalization');
    const channels = knownDim(shape, this.channelAxis, 'GroupNormalization');
    const groups = this.options.groups === -1 ? channels : this.options.groups;
    if (channels % groups !== 0) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `GroupNormalization: \`groups\` (${groups}) must divide the number of channels (${channels}) ` + `on axis ${this.options.axis}`,
        { where: 'groups' },
      );
    }
    this.groupCount = groups;
    this.inputSpec = [new InputSpec({ ndim: shape.length, axes: { [this.channelAxis]: channels } })];
    this.addAffineWeights([channels]);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = singleTensor(inputs, 'GroupNormalization');
      const normalized = groupStandardize(x, this.channelAxis, this.groupCount, this.epsilon);
      return this.applyAffine(normalized, broadcastShape(x.rank, [this.channelAxis], x.shape));
    });
  }

  override getConfig(): serialization.ConfigDict {
    const o = this.options;
    return {
      groups: o.groups,
      axis: o.axis,
      epsilon: o.epsilon,
      center: o.center,
      scale: o.scale,
      ...this.affineConfig(),
      ...super.getConfig(),
    };
  }
}
serialization.registerClass(GroupNormalization, 'bnlab', 'GroupNormalization');

/**
 * {@link GroupNormalization} under Keras's own class name, so that models saved by Keras with
 * `tf.keras.layers.GroupNormalization` (TF 2.11+, Keras 3) and converted for tfjs load (tfjs has
 * no layer of that name: "Unknown layer", tfjs issue 4823). The same layer and options; saved
 * again it keeps Keras's class name.
 */
class KerasGroupNormalization extends GroupNormalization {
  static override readonly className: string = 'GroupNormalization';
}
serialization.registerClass(KerasGroupNormalization);

/** Creates a {@link GroupNormalization} layer. */
export function groupNormalization(args?: GroupNormalizationArgs): GroupNormalization {
  return new GroupNormalization(args);
}
