import type { SimdExports } from './simd/simd_module.js';
import { Scratch } from './simd/simd_module.js';
import type { WasmBackendLike } from './wasm_backend.js';
import { forSlices } from '../threads/kernel_threads.js';

/** Multiply-adds below which a product is not split over kernel threads (their wake-up costs more). */
const SPLIT_MACS = 1 << 20;

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
 * op(A) already in the GEMM's packed layout (panels of 4 rows of op(A), each K deep), as
 * written by `packA`, `im2colPacked` or `im2colPackedT`; see {@link packedASize}.
 */
export interface PackedA {
  /** Byte offset of the first panel. */
  packed: number;
}

/**
 * op(B) already in the GEMM's packed layout (panels of 8 columns, each K deep), from
 * {@link packB}: for a matrix multiplied many times (a filter, slice after slice).
 */
export interface PackedB {
  /** Byte offset of the first panel. */
  packedB: number;
}

/**
 * Images a convolution processes at a time: as many whole images as fit their `floatsPerImage`
 * of intermediate data (a patch matrix or its gradient, Winograd's transformed blocks) in
 * `budgetFloats` (default 512 KB), at least one, so that data is written and read back within
 * the L2 cache instead of through memory.
 */
export function imagesPerSlice(floatsPerImage: number, batch: number, budgetFloats = 1 << 17): number {
  return Math.max(1, Math.min(batch, Math.floor(budgetFloats / Math.max(1, floatsPerImage))));
}

/**
 * Floats between matrices (or panels) that kernels write side by side, for blocks of
 * `floats` floats: rounded up to an odd number of 64-byte cache lines. Rows of several such
 * blocks written at once, a multiple of 4 KB apart, share one L1 cache set and evict each
 * other (Winograd's filter transform ran 4–5× slower so; the filter gradient's transposed
 * patch panels of ResNet-20's 32×32×16 stride-2 layer, 12 KB apart, 2× slower).
 */
export function cacheSpreadStride(floats: number): number {
  const lines = Math.ceil(floats / 16);
  return (lines % 2 === 0 ? lines + 1 : lines) * 16;
}

/** Floats of scratch `gemmStrided` needs: a 4×8 edge tile (32) and its edge panels (12 · 512). */
export const GEMM_STRIDED_SCRATCH = 32 + 12 * 512;

/** Packs op(B) (K×N) once, into space from `scratch`, for several {@link gemm} calls. */
export function packB(simd: SimdExports, scratch: Scratch, b: GemmOperand, k: number, n: number): PackedB {
  const packedB = scratch.alloc(Math.ceil(n / 8) * 8 * k);
  simd.packB(b.at, b.ld, k, n, b.transposed, packedB);
  return { packedB };
}

/** What {@link gemm} applies to C as it stores it: + bias per column, then ReLU. */
export interface GemmEpilogue {
  /** Byte offset of N floats added to each row of C. */
  bias?: number;
  relu?: boolean;
}

/** Floats a packed op(A) of M rows and depth K takes. */
export function packedASize(m: number, k: number): number {
  return Math.ceil(m / 4) * 4 * k;
}

/**
 * C[M, N] = op(A)[M, K] · op(B)[K, N] (+ C when `accumulate`) with bnlab's SIMD kernel:
 * both operands are packed into panels (which absorbs any transposition; either may come
 * packed already), then multiplied in 4×8 register tiles, over slices of K at most 512
 * deep and in blocks sized for the L1 and L2 caches; an `epilogue` adds a bias per column
 * and applies ReLU as the tiles are stored.
 */
export function gemm(
  simd: SimdExports,
  backend: WasmBackendLike,
  a: GemmOperand | PackedA,
  b: GemmOperand | PackedB,
  m: number,
  n: number,
  k: number,
  c: number,
  ldc: number,
  accumulate = false,
  epilogue: GemmEpilogue = {},
  /** Space that lives until the calls run (a kernel thread's lane); by default its own. */
  within?: Scratch,
): void {
  const scratch = within ?? new Scratch(backend);
  try {
    const bp = 'packedB' in b ? b.packedB : packB(simd, scratch, b, k, n).packedB;
    // Rows in panels of 4; with kernel threads each takes a range of panels (and packs its
    // own rows of A), so every element of C is summed as on one thread.
    const panels = Math.ceil(m / 4);
    const parts = m * n * k >= SPLIT_MACS ? panels : 1;
    forSlices(backend, simd, parts, (lane, first, end) => {
      const p0 = parts === 1 ? 0 : first;
      const p1 = parts === 1 ? panels : end;
      const r0 = p0 * 4;
      const rows = Math.min(m, p1 * 4) - r0;
      let ap: number;
      if ('packed' in a) {
        ap = a.packed + r0 * k * 4;
      } else {
        ap = scratch.alloc(packedASize(rows, k));
        lane.packA(a.at + (a.transposed ? r0 * 4 : r0 * a.ld * 4), a.ld, rows, k, a.transposed, ap);
      }
      const tile = scratch.alloc(32);
      lane.gemmPacked(ap, bp, rows, n, k, c + r0 * ldc * 4, ldc, accumulate, tile, epilogue.bias ?? 0, epilogue.relu === true);
    });
  } finally {
    if (!within) scratch.free();
  }
}
