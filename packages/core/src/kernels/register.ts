import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter.js';
import { depthwiseConv2dNativeBackpropFilterConfig, depthwiseConv2dNativeBackpropInputConfig } from './depthwise_conv2d_backprop.js';
import { addConfig } from './add.js';
import { maxPoolConfig } from './max_pool.js';
import { maxPoolGradConfig } from './max_pool_grad.js';
import { conv2DBackpropInputConfig, setStockConv2DBackpropInput } from './conv2d_backprop_input.js';
import { tileConfig } from './tile.js';
import { meanConfig, sumConfig } from './reduce.js';
import { batchMatMulConfig } from './batch_mat_mul.js';
import { setStockKernel } from './stock.js';
import { conv2DConfig, fusedConv2DConfig } from './conv2d.js';
import { identityConfig } from './identity.js';
import { sliceConfig } from './slice.js';
import { fusedBatchNormConfig } from './fused_batch_norm.js';
import { reluGradConfig, useFusedReluGradient, useStockReluGradient } from './relu_grad.js';
import { meanGradConfig, useFusedMeanGradient, useStockMeanGradient } from './mean_grad.js';
import { useFusedTfjsNormalization, useStockTfjsNormalization } from '../layers/tfjs_normalization.js';

/** Training kernels tfjs-backend-wasm 4.22 lacks. */
const ADDED: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
];

/**
 * tfjs-backend-wasm kernels bnlab replaces: `MaxPoolGrad` because it is wrong,
 * `Add` (a bias broadcast), `MaxPool`, `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput`, `Tile`, `Sum`, `Mean`, `BatchMatMul`, `Identity`, `Slice` and
 * `FusedBatchNorm` because they are slow (see each kernel's doc; cases a fast path does not cover go back to tfjs's own).
 * With them, `Relu`'s gradient becomes one fused kernel, `BnlabReluGrad`, and so does `Mean`'s
 * over a run of axes (global average pooling), `BnlabMeanGrad` (both restored by
 * {@link unregisterWasmTrainingKernels}).
 */
const REPLACED: readonly KernelConfig[] = [
  maxPoolGradConfig,
  addConfig,
  maxPoolConfig,
  conv2DBackpropInputConfig,
  tileConfig,
  sumConfig,
  meanConfig,
  batchMatMulConfig,
  conv2DConfig,
  fusedConv2DConfig,
  identityConfig,
  sliceConfig,
  fusedBatchNormConfig,
  reluGradConfig,
  meanGradConfig,
];

/** Every kernel bnlab registers for the `wasm` backend. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [...ADDED, ...REPLACED];

const ours = new Set(WASM_TRAINING_KERNELS.map((k) => k.kernelFunc));

const stock = new Map<string, KernelConfig>();

/** Options of {@link registerWasmTrainingKernels}. */
export interface RegisterKernelsOptions {
  /**
   * Also swap in bnlab's replacements of tfjs-backend-wasm kernels that are wrong or slow
   * (and run tfjs-layers' own `BatchNormalization` and `LayerNormalization` on bnlab's fused
   * ops). `false` registers only the missing kernels: "stock tfjs-wasm made able to train", the
   * baseline of bnlab's benchmark. @default true
   */
  replace?: boolean;
}

/**
 * Registers bnlab's training kernels for the `wasm` backend. Idempotent. A missing kernel
 * that the installed tfjs-backend-wasm already provides (a later release may add them) is
 * left alone; kernels bnlab replaces are swapped in unless `replace` is false. Returns the
 * names of the kernels registered by this call.
 */
export function registerWasmTrainingKernels(options: RegisterKernelsOptions = {}): string[] {
  const replace = options.replace ?? true;
  const registered: string[] = [];
  for (const config of WASM_TRAINING_KERNELS) {
    if (!replace && REPLACED.includes(config)) continue;
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing && ours.has(existing.kernelFunc)) continue;
    if (existing) {
      if (!REPLACED.includes(config)) continue;
      stock.set(config.kernelName, existing);
      setStockKernel(config.kernelName, existing.kernelFunc);
      if (config === conv2DBackpropInputConfig) setStockConv2DBackpropInput(existing.kernelFunc);
      unregisterKernel(config.kernelName, 'wasm');
    }
    registerKernel(config);
    registered.push(config.kernelName);
  }
  if (replace) {
    useFusedReluGradient();
    useFusedMeanGradient();
    useFusedTfjsNormalization();
  }
  return registered;
}

/**
 * Undoes {@link registerWasmTrainingKernels}: removes the kernels bnlab added and puts
 * tfjs-backend-wasm's own kernels back where bnlab replaced them (and tfjs-layers'
 * normalization layers back on tfjs's own code). For benchmarks that
 * compare bnlab with stock tfjs in one process.
 */
export function unregisterWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (!existing || !ours.has(existing.kernelFunc)) continue;
    unregisterKernel(config.kernelName, 'wasm');
    const original = stock.get(config.kernelName);
    if (original) registerKernel(original);
  }
  useStockReluGradient();
  useStockMeanGradient();
  useStockTfjsNormalization();
}

/**
 * Runs the setup of the tfjs-backend-wasm kernels bnlab replaced on `backend`: tfjs sets up
 * the kernels registered when a backend starts, so when bnlab's replacements are registered
 * during the start, the stock kernels they fall back to must be set up here.
 */
export function setUpReplacedStockKernels(backend: unknown): void {
  for (const config of stock.values()) config.setupFunc?.(backend as never);
}
