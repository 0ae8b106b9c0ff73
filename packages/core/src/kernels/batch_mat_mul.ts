import { BatchMatMul, util } from '@tensorflow/tfjs-core';
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { gemm } from './gemm.js';
import { ptr, simdFor } from './simd/simd_module.js';
import { runStock } from './stock.js';
import { asWasmBackend } from './wasm_backend.js';

/**
 * `BatchMatMul` on the wasm backend when an operand is transposed (the gradients of dense
 * layers: `dx = dy · Wᵀ`, `dW = xᵀ · dy`): bnlab's packed SIMD GEMM, which absorbs the
 * transposition while packing. tfjs-backend-wasm 4.22 runs these products an order of
 * magnitude slower than plain ones; plain products stay on its XNNPACK kernel.
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
  if (
    !simd || (!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2 ||
    !(sameOuter || (batchA === 1 && ra === 3) || (batchB === 1 && rb === 3) || (batchA === 1 && batchB === 1))
  ) {
    return runStock(BatchMatMul, args);
  }
  const m = transposeA ? (a.shape[ra - 1] as number) : (a.shape[ra - 2] as number);
  const k = transposeA ? (a.shape[ra - 2] as number) : (a.shape[ra - 1] as number);
  const kb = transposeB ? (b.shape[rb - 1] as number) : (b.shape[rb - 2] as number);
  const n = transposeB ? (b.shape[rb - 2] as number) : (b.shape[rb - 1] as number);
  if (k !== kb) return runStock(BatchMatMul, args); // let tfjs report the shape error
  const batch = Math.max(batchA, batchB);
  const outer = batchA >= batchB ? outerA : outerB;
  const out = backend.makeOutput([...outer, m, n], 'float32');
  if (m * n === 0) return out;
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
      m, n, k, ct + i * m * n * 4, n,
    );
  }
  return out;
};

export const batchMatMulConfig: KernelConfig = { kernelName: BatchMatMul, backendName: 'wasm', kernelFunc: batchMatMul };
