import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter.js';
import {
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
} from './depthwise_conv2d_backprop.js';
import { maxPoolGradConfig } from './max_pool_grad.js';
import { conv2DBackpropInputConfig, setStockConv2DBackpropInput } from './conv2d_backprop_input.js';

/** Training kernels tfjs-backend-wasm 4.22 lacks. */
const ADDED: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
];

/**
 * tfjs-backend-wasm kernels bnlab replaces: `MaxPoolGrad` because it is wrong,
 * `Conv2DBackpropInput` because it is slow (see each kernel's doc).
 */
const REPLACED: readonly KernelConfig[] = [maxPoolGradConfig, conv2DBackpropInputConfig];

/** Every kernel bnlab registers for the `wasm` backend. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [...ADDED, ...REPLACED];

const ours = new Set(WASM_TRAINING_KERNELS.map((k) => k.kernelFunc));

/**
 * Registers bnlab's training kernels for the `wasm` backend. Idempotent. A missing kernel
 * that the installed tfjs-backend-wasm already provides (a later release may add them) is
 * left alone; kernels bnlab replaces for correctness are always swapped in. Returns the
 * names of the kernels registered by this call.
 */
export function registerWasmTrainingKernels(): string[] {
  const registered: string[] = [];
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing && ours.has(existing.kernelFunc)) continue;
    if (existing) {
      if (!REPLACED.includes(config)) continue;
      if (config === conv2DBackpropInputConfig) setStockConv2DBackpropInput(existing.kernelFunc);
      unregisterKernel(config.kernelName, 'wasm');
    }
    registerKernel(config);
    registered.push(config.kernelName);
  }
  return registered;
}
