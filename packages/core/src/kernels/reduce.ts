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
  const block = reducedBlock(axis, rank);
  return block && block.start === 0 ? block.end : 0;
}

/**
 * The axes `axis` reduces when they are one run start..end−1 of a rank-r tensor that leaves
 * the last axis out (0 ≤ start < end < r), else null: the batch statistics (leading axes) and
 * global average pooling (H, W of NHWC activations, axes 1 and 2).
 */
export function reducedBlock(axis: number | number[], rank: number): { start: number; end: number } | null {
  const axes = util.parseAxisParam(
    axis,
    Array.from({ length: rank }, () => 1),
  );
  const sorted = [...new Set(axes)].sort((x, y) => x - y);
  if (sorted.length === 0) return null;
  const start = sorted[0] as number;
  const end = start + sorted.length;
  if (end >= rank || !sorted.every((a, i) => a === start + i)) return null;
  return { start, end };
}

/** Slices (the product of the axes before the reduced ones) above which one SIMD call each costs too much. */
const MAX_SLICES = 4096;

function reduceBlock(kernelName: 'Sum' | 'Mean'): KernelFunc {
  return (args) => {
    const backend = asWasmBackend(args.backend);
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const simd = simdFor(backend);
    const block = simd && x.dtype === 'float32' ? reducedBlock(axis, x.shape.length) : null;
    const slices = block ? util.sizeFromShape(x.shape.slice(0, block.start)) : 0;
    if (!simd || !block || slices > MAX_SLICES || util.sizeFromShape(x.shape) === 0) return runStock(kernelName, args);
    // tfjs-wasm's own kernels transpose the reduced axes to the end first, a full copy of
    // the activation; reducing columns of each [rows, cols] slice needs no copy.
    const rows = util.sizeFromShape(x.shape.slice(block.start, block.end));
    const cols = util.sizeFromShape(x.shape.slice(block.end));
    const outShape = x.shape.flatMap((d, i) => (i < block.start || i >= block.end ? [d] : keepDims ? [1] : []));
    const out = backend.makeOutput(outShape, 'float32');
    const scale = kernelName === 'Mean' ? 1 / rows : 1;
    const work = workspace(backend, 8 * cols);
    const [at, to] = [ptr(backend, x), ptr(backend, out)];
    for (let s = 0; s < slices; s++) simd.colSum(at + s * rows * cols * 4, 0, rows, cols, to + s * cols * 4, scale, work);
    return out;
  };
}

/**
 * `Sum` on the wasm backend: reductions of float32 tensors over one run of axes short of the
 * last (the batch statistics and bias gradients of training over the leading axes, global
 * average pooling over H and W) run as SIMD column sums in place, slice by slice; every other
 * case goes to tfjs-backend-wasm's kernel.
 */
export const sumConfig: KernelConfig = { kernelName: Sum, backendName: 'wasm', kernelFunc: reduceBlock('Sum') };

/** `Mean` on the wasm backend, as {@link sumConfig}. */
export const meanConfig: KernelConfig = { kernelName: Mean, backendName: 'wasm', kernelFunc: reduceBlock('Mean') };
