import { Mean, Sum, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, SumAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, simdFor, workspace } from './simd/simd_module.js';
import { runStock } from './stock.js';
import { asWasmBackend } from './wasm_backend.js';

/**
 * The number of leading axes `axis` reduces when it names exactly axes 0..k−1 of a
 * rank-r tensor with 0 < k < r, else 0. Those are the reductions of batch statistics
 * (over N, H, W of NHWC activations, or over the batch of dense activations).
 */
export function leadingAxes(axis: number | number[], rank: number): number {
  const axes = util.parseAxisParam(axis, Array.from({ length: rank }, () => 1));
  const sorted = [...new Set(axes)].sort((x, y) => x - y);
  if (sorted.length === 0 || sorted.length >= rank) return 0;
  return sorted.every((a, i) => a === i) ? sorted.length : 0;
}

function reduceLeading(kernelName: 'Sum' | 'Mean'): KernelFunc {
  return (args) => {
    const backend = asWasmBackend(args.backend);
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const simd = simdFor(backend);
    const k = simd && x.dtype === 'float32' ? leadingAxes(axis, x.shape.length) : 0;
    if (!simd || k === 0 || util.sizeFromShape(x.shape) === 0) return runStock(kernelName, args);
    // tfjs-wasm's own kernels transpose the reduced axes to the end first, a full copy of
    // the activation; reducing columns of the [rows, cols] view needs no copy.
    const rows = util.sizeFromShape(x.shape.slice(0, k));
    const cols = util.sizeFromShape(x.shape.slice(k));
    const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)] : x.shape.slice(k);
    const out = backend.makeOutput(outShape, 'float32');
    simd.colSum(ptr(backend, x), 0, rows, cols, ptr(backend, out), kernelName === 'Mean' ? 1 / rows : 1, workspace(backend, 8 * cols));
    return out;
  };
}

/**
 * `Sum` on the wasm backend: reductions over leading axes of float32 tensors (the batch
 * statistics and bias gradients of training) run as SIMD column sums in place; every
 * other case goes to tfjs-backend-wasm's kernel.
 */
export const sumConfig: KernelConfig = { kernelName: Sum, backendName: 'wasm', kernelFunc: reduceLeading('Sum') };

/** `Mean` on the wasm backend, as {@link sumConfig}. */
export const meanConfig: KernelConfig = { kernelName: Mean, backendName: 'wasm', kernelFunc: reduceLeading('Mean') };
