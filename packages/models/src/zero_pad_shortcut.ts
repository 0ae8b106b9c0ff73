import { pad, reshape, serialization, slice, tidy } from '@tensorflow/tfjs-core';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Shape } from '@tensorflow/tfjs-layers';
import { BnlabError, formatValue } from '@bnlab/core';

/** The tfjs-layers `LayerArgs` (`name`, `inputShape`, `trainable`, …), read off the public API. */
type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;

let unnamed = 0;

/** Options of {@link ZeroPadShortcut}. */
export interface ZeroPadShortcutArgs extends LayerArgs {
  /**
   * Keep every `strides`-th row and column, starting with the first (row and column 0), as a
   * 1×1 convolution with this stride and `'valid'` padding samples them. The output has
   * `ceil(height / strides)` rows and `ceil(width / strides)` columns.
   * @default 1
   */
  strides?: number;
  /**
   * Channels of the output: the input's channels first, then zeros up to this count.
   * Must be at least the input's channels.
   * @default the input's channels
   */
  channels?: number;
}

/**
 * The parameter-free shortcut of He et al.'s CIFAR ResNets (option A): the identity,
 * subsampled by `strides` and with zero channels appended where the residual branch has more
 * channels than its input.
 *
 * `y[n, i, j, c] = x[n, i·s, j·s, c]` for `c < C_in`, and `0` for `C_in ≤ c < channels`
 * (channels last). The zeros go after the input's channels, as in the authors' Torch code
 * (fb.resnet.torch concatenates the identity with a zeroed copy). Its gradient passes `dy`
 * of the first `C_in` channels back to the sampled positions and zero everywhere else. It has
 * no weights, and works the same in training and inference.
 *
 * Saved models record it as `bnlab>ZeroPadShortcut`; importing `@bnlab/models` registers it.
 *
 * @example
 * ```ts
 * zeroPadShortcut({ strides: 2, channels: 32 });   // [n, 32, 32, 16] → [n, 16, 16, 32]
 * ```
 * @see https://arxiv.org/abs/1512.03385 (He, Zhang, Ren & Sun, 2016, section 4.2, option A)
 */
export class ZeroPadShortcut extends layers.Layer {
  /** The registered class name, also the `class_name` of saved models. */
  static readonly className: string = 'bnlab>ZeroPadShortcut';
  private readonly strides: number;
  /** `channels` as given (`null`: the input's), so `getConfig` returns what was passed. */
  private readonly channelsOption: number | null;
  /** Zero channels appended, set by `build`. */
  private extraChannels = 0;

  constructor(args: ZeroPadShortcutArgs = {}) {
    // tfjs derives a default name from the class name, whose '>' is not valid in a tensor name.
    super({ ...args, name: args.name || `zero_pad_shortcut_${++unnamed}` });
    this.strides = positiveInteger(args.strides ?? 1, 'strides');
    this.channelsOption = args.channels == null ? null : positiveInteger(args.channels, 'channels');
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const inChannels = shape[3];
    if (inChannels == null) {
      throw new BnlabError('INVALID_SHAPE', 'ZeroPadShortcut: the input channels (axis 3) must be known when built', {
        where: 'channels',
      });
    }
    const channels = this.channelsOption ?? inChannels;
    if (channels < inChannels) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `ZeroPadShortcut: \`channels\` (${channels}) must be at least the input's channels (${inChannels}): ` +
          'zero padding adds channels, it cannot remove any',
        { where: 'channels' },
      );
    }
    this.extraChannels = channels - inChannels;
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: { [key: string]: unknown }): Tensor {
    return tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor4D;
      const sampled = this.strides === 1 ? x : subsample(x, this.strides);
      return this.extraChannels === 0
        ? sampled
        : pad(sampled, [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, this.extraChannels],
          ]);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = singleShape(inputShape);
    const s = this.strides;
    return [n ?? null, h == null ? null : Math.ceil(h / s), w == null ? null : Math.ceil(w / s), this.channelsOption ?? c ?? null];
  }

  override getConfig(): serialization.ConfigDict {
    return { strides: this.strides, channels: this.channelsOption, ...super.getConfig() };
  }
}
serialization.registerClass(ZeroPadShortcut, 'bnlab', 'ZeroPadShortcut');

/** Creates a {@link ZeroPadShortcut} layer. */
export function zeroPadShortcut(args?: ZeroPadShortcutArgs): ZeroPadShortcut {
  return new ZeroPadShortcut(args);
}

/**
 * `x[:, ::s, ::s, :]` from ops that all have gradients in tfjs (tfjs-core registers none for
 * `StridedSlice`): pad the bottom and right up to multiples of `s`, view each `s`×`s` cell as
 * its own axes, and keep the cell's first row and column.
 */
function subsample(x: Tensor4D, s: number): Tensor4D {
  const [n, h, w, c] = x.shape;
  const rows = Math.ceil(h / s);
  const cols = Math.ceil(w / s);
  const padded =
    rows * s === h && cols * s === w
      ? x
      : pad(x, [
          [0, 0],
          [0, rows * s - h],
          [0, cols * s - w],
          [0, 0],
        ]);
  // [n·rows, s, cols, s·c]: axis 1 is the row within a cell; the first c of the last axis its column 0.
  const cells = reshape(padded, [n * rows, s, cols, s * c]);
  return reshape(slice(cells, [0, 0, 0, 0], [n * rows, 1, cols, c]), [n, rows, cols, c]);
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new BnlabError('INVALID_CONFIG', `ZeroPadShortcut: \`${field}\` (${formatValue(value)}) must be a positive integer`, {
    where: field,
  });
}

function singleShape(inputShape: Shape | Shape[]): Shape {
  if (!Array.isArray(inputShape)) {
    throw new BnlabError('INVALID_SHAPE', 'ZeroPadShortcut: the input shape is unknown');
  }
  const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
  if (shape.length !== 4) {
    throw new BnlabError(
      'INVALID_SHAPE',
      `ZeroPadShortcut: the input must have rank 4 ([batch, height, width, channels]), got shape ${formatValue(shape)}`,
    );
  }
  return shape;
}
