import { FusedBatchNorm, util } from '@tensorflow/tfjs-core';
import type { FusedBatchNormAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, Scratch, simdFor } from './simd/simd_module.js';
import { runStock } from './stock.js';
import { asWasmBackend } from './wasm_backend.js';
import { forRows } from '../threads/kernel_threads.js';

/**
 * `FusedBatchNorm` (batch norm with given statistics: inference, and tfjs-layers'
 * BatchNormalization in inference mode) on the wasm backend as one pass of bnlab's SIMD
 * `affine`: `y = (x − mean) · scale / √(variance + ε) + offset`, per channel (last axis).
 *
 * tfjs-backend-wasm 4.22's kernel took about 5 ns per element, a fifth of the benchmark
 * CNN's inference time. Statistics of another shape than `[C]` (tf.batchNorm broadcasts
 * any shape) and non-float32 data go to tfjs's own kernel.
 */
const fusedBatchNorm: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined> as {
    x: TensorInfo;
    mean: TensorInfo;
    variance: TensorInfo;
    offset?: TensorInfo;
    scale?: TensorInfo;
  };
  const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
  const simd = simdFor(backend);
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const perChannel = (t: TensorInfo | undefined) =>
    t === undefined || (t.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === channels);
  if (!simd || x.dtype !== 'float32' || x.shape.length === 0 || channels === 0 || ![mean, variance, offset, scale].every(perChannel)) {
    return runStock(FusedBatchNorm, args);
  }
  const at = (t: TensorInfo) => ptr(backend, t) >> 2;
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const rows = util.sizeFromShape(x.shape) / channels;
  const scratch = new Scratch(backend);
  try {
    const p = scratch.alloc(channels);
    const k = scratch.alloc(channels);
    // Read the heap view after allocating: growing the memory replaces it.
    const heap = backend.wasm.HEAPF32;
    // Per-channel coefficients in float64, then float32 like the data.
    for (let c = 0; c < channels; c++) {
      const g = scale ? heap[at(scale) + c]! : 1;
      heap[(p >> 2) + c] = g / Math.sqrt(heap[at(variance) + c]! + varianceEpsilon);
      heap[(k >> 2) + c] = offset ? heap[at(offset) + c]! : 0;
    }
    const [xAt, meanAt, outAt] = [ptr(backend, x), ptr(backend, mean), ptr(backend, out)];
    forRows(backend, simd, rows, channels, (lane, r0, r1) =>
      lane.affine(xAt + r0 * channels * 4, 0, meanAt, p, 0, 0, k, r1 - r0, channels, outAt + r0 * channels * 4),
    );
  } finally {
    scratch.free();
  }
  return out;
};

export const fusedBatchNormConfig: KernelConfig = {
  kernelName: FusedBatchNorm,
  backendName: 'wasm',
  kernelFunc: fusedBatchNorm,
};
