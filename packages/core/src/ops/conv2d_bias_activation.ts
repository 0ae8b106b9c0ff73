import { engine, FusedConv2D, getKernel, sum } from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, Tensor, Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';
import { BnlabError } from '../errors.js';
import { reluGradient } from '../kernels/relu_grad.js';
import { registerOp } from './register_op.js';

/** Kernel name of {@link conv2dBiasActivation} (the backend's `FusedConv2D`, with its own gradient). */
export const CONV2D_BIAS_ACTIVATION_KERNEL = 'BnlabConv2DBiasActivation';

/** Options of {@link conv2dBiasActivation}. */
export interface Conv2DBiasActivationOptions {
  /** Added per output channel, shape `[outChannels]`. */
  bias?: Tensor1D;
  /** Applied last. @default 'linear' */
  activation?: 'linear' | 'relu';
  /** `[strideHeight, strideWidth]` or one number for both. @default 1 */
  strides?: number | [number, number];
  /** @default 'valid' */
  pad?: 'valid' | 'same';
}

/** Runs the backend's own `FusedConv2D` kernel (bnlab's on wasm when registered). */
function forwardOn(backendName: string): KernelFunc {
  return (args) => {
    const kernel = getKernel(FusedConv2D, backendName);
    if (!kernel) throw new Error(`bnlab: the ${backendName} backend has no FusedConv2D kernel`);
    return kernel.kernelFunc(args);
  };
}

function register(): void {
  const forward = CONV2D_BIAS_ACTIVATION_KERNEL;
  registerOp(
    { forward, wasm: { forward: forwardOn('wasm') }, cpu: { forward: forwardOn('cpu') } },
    {
      kernelName: CONV2D_BIAS_ACTIVATION_KERNEL,
      inputsToSave: ['x', 'filter'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter, y] = saved as Tensor[];
        const a = attrs as NamedAttrMap;
        // ReLU's output is positive where its input is: the gradient needs only y.
        const dz = a['activation'] === 'relu' ? reluGradient(dy as Tensor, y!) : (dy as Tensor);
        const conv = { strides: a['strides'], pad: a['pad'], dataFormat: 'NHWC', dimRoundingMode: undefined };
        return {
          x: () =>
            engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: filter! }, { ...conv, inputShape: x!.shape } as never) as Tensor,
          filter: () =>
            engine().runKernel('Conv2DBackpropFilter', { x: x!, dy: dz }, { ...conv, filterShape: filter!.shape } as never) as Tensor,
          bias: () => sum(dz, [0, 1, 2]),
        };
      },
    },
  );
}

/**
 * A 2-D convolution (NHWC, dilation 1) with its bias and activation (linear or ReLU) in one
 * kernel, the backend's `FusedConv2D`, and gradients computed per input: for training.
 *
 * tfjs-core's `fused.conv2d` splits into convolution, bias add and activation while a
 * gradient is recorded (a pass over the output each, with their own tensors), and for a
 * linear activation computes the input gradient even when nothing needs it (a model's
 * first layer). Here the forward pass is one kernel (on wasm bnlab's GEMM adds the bias
 * and applies ReLU in place) and tfjs asks only for the gradients it needs: the input's
 * (`Conv2DBackpropInput`), the filter's (`Conv2DBackpropFilter`) and the bias's (a sum of
 * the output gradient), after one fused ReLU gradient from the saved output.
 *
 * @example
 * ```ts
 * const y = conv2dBiasActivation(x, kernel, { bias, activation: 'relu', strides: 1, pad: 'same' });
 * ```
 */
export function conv2dBiasActivation(x: Tensor4D, filter: Tensor4D, options: Conv2DBiasActivationOptions = {}): Tensor4D {
  const activation = options.activation ?? 'linear';
  if (activation !== 'linear' && activation !== 'relu') {
    throw new BnlabError('INVALID_ARGUMENT', `conv2dBiasActivation: activation must be 'linear' or 'relu', got '${String(activation)}'`, {
      where: 'activation',
    });
  }
  for (const [name, t] of [
    ['x', x],
    ['filter', filter],
    ['bias', options.bias],
  ] as const) {
    if (t && t.dtype !== 'float32') {
      throw new BnlabError('INVALID_ARGUMENT', `conv2dBiasActivation: ${name} must be float32, got ${t.dtype}`, { where: name });
    }
  }
  if (x.rank !== 4 || filter.rank !== 4 || x.shape[3] !== filter.shape[2]) {
    throw new BnlabError(
      'INVALID_SHAPE',
      `conv2dBiasActivation: x [batch, height, width, inChannels] and filter [kh, kw, inChannels, outChannels] must agree, got [${x.shape.join(', ')}] and [${filter.shape.join(', ')}]`,
      { where: 'x' },
    );
  }
  if (options.bias && !(options.bias.rank === 1 && options.bias.shape[0] === filter.shape[3])) {
    throw new BnlabError(
      'INVALID_SHAPE',
      `conv2dBiasActivation: bias must have shape [${filter.shape[3]}], got [${options.bias.shape.join(', ')}]`,
      { where: 'bias' },
    );
  }
  register();
  const s = options.strides ?? 1;
  const strides = typeof s === 'number' ? [s, s] : s;
  const inputs: Record<string, Tensor> = { x, filter };
  if (options.bias) inputs['bias'] = options.bias;
  return engine().runKernel(CONV2D_BIAS_ACTIVATION_KERNEL, inputs, {
    strides,
    pad: options.pad ?? 'valid',
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
    activation,
  } as never) as Tensor4D;
}
