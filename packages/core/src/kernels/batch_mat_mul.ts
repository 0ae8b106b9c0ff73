import { backend_util, BatchMatMul, util } from '@tensorflow/tfjs-core';
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { gemm } from './gemm.js';
import { ptr, simdFor } from './simd/simd_module.js';
import { runStock } from './stock.js';
import { asWasmBackend } from './wasm_backend.js';

/** Right operands (by data id) of plain products seen before: a repeat means fixed weights. */
const seenB = new WeakSet<object>();

/**
 * `BatchMatMul` on the wasm backend through bnlab's packed SIMD GEMM, which absorbs any
 * transposition while packing: products with a transposed operand (the gradients of dense
 * layers: `dx = dy · Wᵀ`, `dW = xᵀ · dy`), which tfjs-backend-wasm 4.22 runs an order of
 * magnitude slower than plain ones, and plain products with a right operand it has not
 * seen (a dense layer's forward pass in training: the weights change every step, and
 * XNNPACK repacks them on each call, about 5 GFLOP/s for the benchmark CNN's 576 → 64
 * layer). A plain product whose right operand repeats (inference) stays on XNNPACK, whose
 * cached operator is then the faster choice.
 */
const batchMatMul: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  const simd = simdFor(backend);
  const ra = a.shape.length;
  const rb = b.shape.length;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  const sameOuter = util.arraysEqual(outerA, outerB);
  let repeated = false;
  if (!transposeA && !transposeB) {
    repeated = seenB.has(b.dataId);
    seenB.add(b.dataId);
  }
  if (
    !simd ||
    repeated ||
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    ra < 2 ||
    rb < 2 ||
    !(sameOuter || (batchA === 1 && ra === 3) || (batchB === 1 && rb === 3) || (batchA === 1 && batchB === 1))
  ) {
    return runStock(BatchMatMul, args);
  }
  const m = transposeA ? (a.shape[ra - 1] as number) : (a.shape[ra - 2] as number);
  const k = transposeA ? (a.shape[ra - 2] as number) : (a.shape[ra - 1] as number);
  const kb = transposeB ? (b.shape[rb - 1] as number) : (b.shape[rb - 2] as number);
  const n = transposeB ? (b.shape[rb - 2] as number) : (b.shape[rb - 1] as number);
  if (k !== kb) return runStock(BatchMatMul, args); // let tfjs report the shape error
  // The leading dimensions broadcast (one side's are all 1, or both are the same).
  const outer = backend_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = util.sizeFromShape(outer); // 0 when either side has an empty batch
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (batch * m * n === 0) return out;
  const at = ptr(backend, a);
  const bt = ptr(backend, b);
  const ct = ptr(backend, out);
  if (k === 0) {
    backend.wasm.HEAPF32.fill(0, ct >> 2, (ct >> 2) + batch * m * n);
    return out;
  }
  const lda = a.shape[ra - 1] as number;
  const ldb = b.shape[rb - 1] as number;
  for (let i = 0; i < batch; i++) {
    gemm(
      simd,
      backend,
      { at: at + (batchA === 1 ? 0 : i * m * k * 4), transposed: transposeA, ld: lda },
      { at: bt + (batchB === 1 ? 0 : i * k * n * 4), transposed: transposeB, ld: ldb },
      m,
      n,
      k,
      ct + i * m * n * 4,
      n,
    );
  }
  return out;
};

export const batchMatMulConfig: KernelConfig = { kernelName: BatchMatMul, backendName: 'wasm', kernelFunc: batchMatMul };
