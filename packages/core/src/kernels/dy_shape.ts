import { util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Throws unless a convolution gradient's `dy` has the shape of the convolution's output: the
 * kernels read `dy` by that shape, and a `dy` of another size (e.g. `tf.conv2dTranspose` with an
 * `outputShape` its strides and padding cannot produce) would be read past its end.
 */
export function assertDyShape(kernel: string, dy: TensorInfo, expected: readonly number[]): void {
  if (!util.arraysEqual(dy.shape, expected as number[])) {
    throw new Error(
      `${kernel}: dy has shape [${dy.shape.join(', ')}], but this convolution's output has shape [${expected.join(', ')}] ` +
        '(check the output shape, strides and padding passed to conv2dTranspose)',
    );
  }
}
