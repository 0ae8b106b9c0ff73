import { engine, tidy } from '@tensorflow/tfjs-core';
import type { Tensor, Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';
import { conv2dBiasActivation } from '@bnlab/core';
import { layers as tfl } from '@tensorflow/tfjs-layers';
import type { Kwargs } from '@bnlab/layers';

type StockConv2D = ReturnType<typeof tfl.conv2d>;
type ConvLayerArgs = Parameters<typeof tfl.conv2d>[0];

/** tfjs-layers' `Conv2D` class (not exported by name from the package root). */
const StockConv2DClass = tfl.conv2d({ filters: 1, kernelSize: 1 }).constructor as new (args: ConvLayerArgs) => StockConv2D;

/**
 * tfjs-layers' `Conv2D` with one change to how it trains: while gradients are recorded, a
 * channels-last convolution with a linear or ReLU activation (and dilation 1) runs as
 * `@bnlab/core`'s `conv2dBiasActivation` instead of tfjs-core's `fused.conv2d`.
 *
 * While recording, tfjs-core splits `fused.conv2d` into convolution, bias add and ReLU (a
 * pass over the output each, each with its own tensor), and for a linear activation its
 * gradient computes the input gradient even when nothing needs it (a model's first layer:
 * 7% of a training step of the benchmark CNN with batch norm). `conv2dBiasActivation` is
 * one kernel forward (bnlab's GEMM adds the bias and applies ReLU in place) with gradients
 * per input. Inference keeps the stock path.
 *
 * Saved models record the stock class name `Conv2D` and load as the stock layer: the
 * weights, config and outputs are the same.
 */
export class Conv2D extends StockConv2DClass {
  static className = 'Conv2D';

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const recording = engine().state.gradientDepth > 0;
    const activation = this.activation?.getClassName();
    const [dh, dw] = this.dilationRate as [number, number];
    if (!recording || this.dataFormat !== 'channelsLast' || (activation !== 'linear' && activation !== 'relu') || dh !== 1 || dw !== 1) {
      return super.call(inputs, kwargs);
    }
    return tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor4D;
      return conv2dBiasActivation(x, this.kernel!.read() as Tensor4D, {
        bias: this.bias?.read() as Tensor1D | undefined,
        activation,
        strides: this.strides as [number, number],
        pad: this.padding as 'valid' | 'same',
      });
    });
  }
}

/** A {@link Conv2D} layer (same arguments as `tf.layers.conv2d`). */
export function conv2dLayer(args: ConvLayerArgs): Conv2D {
  return new Conv2D(args);
}
