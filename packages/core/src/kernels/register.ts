import { getKernel, registerKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter.js';
import {
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
} from './depthwise_conv2d_backprop.js';

/** The training kernels bnlab adds to tfjs-backend-wasm. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
];

/**
 * Registers bnlab's training kernels for the `wasm` backend. Idempotent; a kernel the
 * installed tfjs-backend-wasm already provides is left alone (a future tfjs release may
 * add them). Returns the names registered by this call.
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const config of WASM_TRAINING_KERNELS) {
    if (getKernel(config.kernelName, 'wasm')) continue;
    registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}
