import { add, conv2d, engine, tidy } from '@tensorflow/tfjs-core';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { layers as tfl } from '@tensorflow/tfjs-layers';
import type { ConvLayerArgs } from '@tensorflow/tfjs-layers/dist/layers/convolutional';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';

type StockConv2D = ReturnType<typeof tfl.conv2d>;

/** tfjs-layers' `Conv2D` class (not exported by name from the package root). */
const StockConv2DClass = tfl.conv2d({ filters: 1, kernelSize: 1 }).constructor as new (args: ConvLayerArgs) => StockConv2D;

/**
 * tfjs-layers' `Conv2D` with one change to how it trains: while gradients are recorded, a
 * convolution with a linear activation runs as `conv2d` (+ bias) instead of tfjs-core's
 * `fused.conv2d`.
 *
 * The fused op's gradient computes the input gradient and the filter gradient together,
 * whether or not the input needs one; the plain op's gradients are computed per input, so
 * tfjs skips the input gradient of a model's first convolution (its input is data). That
 * input gradient was 7% of a training step of the benchmark CNN with batch norm, whose
 * convolutions are linear (normalization comes before the activation). Other activations
 * are unfused by tfjs-core itself while recording gradients; inference keeps the fused op.
 *
 * Saved models record the stock class name `Conv2D` and load as the stock layer: the
 * weights, config and outputs are the same.
 */
export class Conv2D extends StockConv2DClass {
  static className = 'Conv2D';

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const recording = engine().state.gradientDepth > 0;
    if (!recording || this.dataFormat !== 'channelsLast' || this.activation?.getClassName() !== 'linear') {
      return super.call(inputs, kwargs);
    }
    return tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor4D;
      const [sh, sw] = this.strides as [number, number];
      const [dh, dw] = this.dilationRate as [number, number];
      const y = conv2d(x, this.kernel!.read() as Tensor4D, [sh, sw], this.padding as 'valid' | 'same', 'NHWC', [dh, dw]);
      return this.bias ? add(y, this.bias.read()) : y;
    });
  }
}

/** A {@link Conv2D} layer (same arguments as `tf.layers.conv2d`). */
export function conv2dLayer(args: ConvLayerArgs): Conv2D {
  return new Conv2D(args);
}
