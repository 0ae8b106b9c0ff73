import type { SimdExports } from './simd/simd_module.js';
import { Scratch } from './simd/simd_module.js';
import type { WasmBackendLike } from './wasm_backend.js';

/** One operand of {@link gemm}: a row-major matrix at a byte offset of the wasm heap. */
export interface GemmOperand {
  /** Byte offset of element [0, 0]. */
  at: number;
  /** Stored transposed: op(A) = Aᵀ. */
  transposed: boolean;
  /** Row stride of the stored matrix, in elements. */
  ld: number;
}

/**
 * C[M, N] = op(A)[M, K] · op(B)[K, N] (+ C when `accumulate`) with bnlab's SIMD kernel:
 * both operands are packed into panels (which absorbs any transposition), then multiplied
 * in 4×8 register tiles over 256-deep slices of K.
 */
export function gemm(
  simd: SimdExports,
  backend: WasmBackendLike,
  a: GemmOperand,
  b: GemmOperand,
  m: number,
  n: number,
  k: number,
  c: number,
  ldc: number,
  accumulate = false,
): void {
  const scratch = new Scratch(backend);
  try {
    const ap = scratch.alloc(Math.ceil(m / 4) * 4 * k);
    const bp = scratch.alloc(Math.ceil(n / 8) * 8 * k);
    const tile = scratch.alloc(32);
    simd.packA(a.at, a.ld, m, k, a.transposed ? 1 : 0, ap);
    simd.packB(b.at, b.ld, k, n, b.transposed ? 1 : 0, bp);
    simd.gemmPacked(ap, bp, m, n, k, c, ldc, accumulate ? 1 : 0, tile);
  } finally {
    scratch.free();
  }
}
