import type { backend_util } from '@tensorflow/tfjs-core';
import type { GemmEpilogue } from './gemm.js';
import { imagesPerSlice, packedASize } from './gemm.js';
import type { Scratch, SimdExports } from './simd/simd_module.js';
import type { WasmBackendLike } from './wasm_backend.js';

/**
 * 3×3 convolutions of stride 1 as Winograd F(4×4, 3×3) (Lavin & Gray 2016): each 4×4 block
 * of outputs is computed from its 6×6 block of input in a transformed space where the
 * convolution is an element-wise product, so summing over input channels becomes 36 matrix
 * products of depth `inChannels` (one per transform position) instead of one of depth
 * 9 · `inChannels`: 36 multiply-adds per block and channel pair instead of 144. The forward
 * pass, the filter gradient and the input gradient each run as 36 such products on
 * bnlab's packed SIMD GEMM, between SIMD transforms (assembly/winograd.ts); the gradients
 * are the adjoints of the forward's linear maps, so they are the exact gradients of the
 * convolution up to float32 rounding. The transforms' coefficients (up to 8, and sixths)
 * make that rounding larger than the direct sum's: about 1e-6 to 1e-5 relative to the
 * largest output on random data, against 1e-7 (see the kernel tests).
 *
 * Measured on the benchmark CNN (examples/benchmark/kernels.mjs --compare winograd): its
 * second layer (13×13×32 → 64) runs 1.6–2.1× faster in the forward pass and both gradients,
 * its third (5×5×64 → 64, one tile per image) 1.3–1.6×.
 */

/** Outputs per tile side, and transform positions (a 6×6 block). */
const TILE = 4;
const XI = 36;

/** Channels below this make the products too shallow to beat the patch-matrix GEMM. */
const MIN_CHANNELS = 8;

/** Floats of scratch the SIMD transforms need (672 bytes). */
const WORK = 168;

let enabled = true;

/**
 * Whether bnlab may compute 3×3 stride-1 convolutions (and their gradients) as Winograd
 * F(4×4, 3×3) on the wasm backend (on by default; for which convolutions, see
 * `InitBackendOptions.winograd`). Off, they run as one matrix product over the patch matrix:
 * up to four times the multiply-adds, with rounding closer to the cpu backend's direct sums.
 */
export function setWinograd(allowed: boolean): void {
  enabled = allowed;
}

/** Whether Winograd convolutions are allowed (see {@link setWinograd}). */
export function winogradEnabled(): boolean {
  return enabled;
}

/**
 * Whether {@link winogradConv} and its gradients compute this convolution: a 3×3 filter,
 * stride and dilation 1, channels last, input and output channels multiples of 4 and at
 * least 8, and an output large enough that the 4×4 blocks (rounded up at the edges) cost
 * at most 70% of the direct multiply-adds (a 2×2 output, 36 vs 4 · 9, stays direct).
 */
export function winogradApplies(info: backend_util.Conv2DInfo): boolean {
  if (!enabled) return false;
  if (info.filterHeight !== 3 || info.filterWidth !== 3) return false;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return false;
  if (info.dataFormat !== 'channelsLast') return false;
  const { inChannels: ci, outChannels: co, outHeight, outWidth } = info;
  if (ci % 4 !== 0 || co % 4 !== 0 || ci < MIN_CHANNELS || co < MIN_CHANNELS) return false;
  const blocks = Math.ceil(outHeight / TILE) * Math.ceil(outWidth / TILE);
  return outHeight > 0 && outWidth > 0 && info.batchSize > 0 && XI * blocks <= 0.7 * 9 * outHeight * outWidth;
}

/**
 * Floats between the matrices of successive ξ, for matrices of `floats` floats: rounded up to
 * an odd number of 64-byte cache lines. A transform reads or writes the same row of all 36
 * matrices at once; at a distance of a multiple of 4 KB (the filter's 32 · 64 floats are
 * 8 KB) those rows share one cache set and evict each other: the filter transform ran 4–5×
 * slower so (kernels measured alone, examples/benchmark).
 */
function xiStride(floats: number): number {
  const lines = Math.ceil(floats / 16);
  return (lines % 2 === 0 ? lines + 1 : lines) * 16;
}

interface Geometry {
  tilesH: number;
  tilesW: number;
  tiles: number;
  /** Images per slice, and the tiles of a whole slice (rows of each ξ's matrices). */
  chunk: number;
  rows: number;
  /** Floats between successive ξ of the input-side (V, dV) and output-side (M, dM) matrices. */
  vStride: number;
  mStride: number;
  /** Bytes of one input / output image. */
  xImage: number;
  yImage: number;
}

function geometry(info: backend_util.Conv2DInfo): Geometry {
  const { inChannels: ci, outChannels: co } = info;
  const tilesH = Math.ceil(info.outHeight / TILE);
  const tilesW = Math.ceil(info.outWidth / TILE);
  const tiles = tilesH * tilesW;
  // Slices whose transformed input and output take about 1 MB (the L2 of the machines
  // measured); a single large image takes more (a 224×224×64 → 64 layer about 58 MB, still
  // less than its patch matrix).
  const chunk = imagesPerSlice(XI * tiles * (ci + co), info.batchSize, 1 << 18);
  const rows = chunk * tiles;
  return {
    tilesH,
    tilesW,
    tiles,
    chunk,
    rows,
    vStride: xiStride(rows * ci),
    mStride: xiStride(rows * co),
    xImage: info.inHeight * info.inWidth * ci * 4,
    yImage: info.outHeight * info.outWidth * co * 4,
  };
}

/** U[ξ] = G g Gᵀ, [36][ci][co], and, per ξ, packed as the GEMM's B (op(B) = U or Uᵀ). */
function transformedFilter(simd: SimdExports, scratch: Scratch, info: backend_util.Conv2DInfo, filter: number, work: number, transposed: boolean) {
  const { inChannels: ci, outChannels: co } = info;
  const us = xiStride(ci * co);
  const u = scratch.alloc(XI * us);
  simd.winoFilter(filter, ci, co, us, u, work);
  // op(B) is U[ξ] (ci × co) for the forward pass, U[ξ]ᵀ (co × ci) for the input gradient.
  const [k, n] = transposed ? [co, ci] : [ci, co];
  const stride = Math.ceil(n / 8) * 8 * k;
  const packed = scratch.alloc(XI * stride);
  for (let i = 0; i < XI; i++) simd.packB(u + i * us * 4, co, k, n, transposed ? 1 : 0, packed + i * stride * 4);
  return { packed, stride };
}

/**
 * y = conv(x, filter) (+ bias, ReLU) for `info` (see {@link winogradApplies}); x, filter,
 * y and the bias are byte offsets on the wasm heap.
 */
export function winogradConv(
  simd: SimdExports, scratch: Scratch, info: backend_util.Conv2DInfo, x: number, filter: number, y: number, epilogue: GemmEpilogue,
): void {
  const { inChannels: ci, outChannels: co, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  const g = geometry(info);
  const work = scratch.alloc(WORK);
  const u = transformedFilter(simd, scratch, info, filter, work, false);
  const { rows, vStride: vs, mStride: ms } = g;
  const v = scratch.alloc(XI * vs);
  const m = scratch.alloc(XI * ms);
  const ap = scratch.alloc(packedASize(rows, ci));
  for (let b0 = 0; b0 < info.batchSize; b0 += g.chunk) {
    const nb = Math.min(g.chunk, info.batchSize - b0);
    const t = nb * g.tiles;
    simd.winoInput(x + b0 * g.xImage, nb, inHeight, inWidth, ci, top, left, g.tilesH, g.tilesW, v, vs, work);
    simd.gemmBatch(XI, v, vs, ci, 0, u.packed, u.stride, 0, 0, 1, t, co, ci, m, ms, co, 0, ap, 0, work);
    simd.winoOutput(m, nb, g.tilesH, g.tilesW, co, outHeight, outWidth, ms, epilogue.bias ?? 0, epilogue.relu ? 1 : 0, y + b0 * g.yImage, work);
  }
}

/** dW = ∂/∂filter of Σ conv(x, filter) ⊙ dy, into `dw` ([3, 3, ci, co]). */
export function winogradFilterGrad(simd: SimdExports, scratch: Scratch, info: backend_util.Conv2DInfo, x: number, dy: number, dw: number): void {
  const { inChannels: ci, outChannels: co, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  const g = geometry(info);
  const work = scratch.alloc(WORK);
  const { rows, vStride: vs, mStride: ms } = g;
  const us = xiStride(ci * co);
  const v = scratch.alloc(XI * vs);
  const dm = scratch.alloc(XI * ms);
  const du = scratch.alloc(XI * us);
  const ap = scratch.alloc(packedASize(ci, rows));
  const bp = scratch.alloc(Math.ceil(co / 8) * 8 * rows);
  for (let b0 = 0; b0 < info.batchSize; b0 += g.chunk) {
    const nb = Math.min(g.chunk, info.batchSize - b0);
    const t = nb * g.tiles;
    simd.winoInput(x + b0 * g.xImage, nb, inHeight, inWidth, ci, top, left, g.tilesH, g.tilesW, v, vs, work);
    simd.winoGradOutput(dy + b0 * g.yImage, nb, outHeight, outWidth, co, g.tilesH, g.tilesW, dm, ms, work);
    // dU[ξ] (+)= V[ξ]ᵀ · dM[ξ]
    simd.gemmBatch(XI, v, vs, ci, 1, dm, ms, co, 0, 0, ci, co, t, du, us, co, b0 > 0 ? 1 : 0, ap, bp, work);
  }
  simd.winoFilterGrad(du, ci, co, us, dw, work);
}

/** dx = ∂/∂x of Σ conv(x, filter) ⊙ dy, into `dx` ([batch, inH, inW, ci]; overwritten). */
export function winogradInputGrad(
  simd: SimdExports, scratch: Scratch, backend: WasmBackendLike, info: backend_util.Conv2DInfo, dy: number, filter: number, dx: number,
): void {
  const { inChannels: ci, outChannels: co, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  const g = geometry(info);
  const work = scratch.alloc(WORK);
  const uT = transformedFilter(simd, scratch, info, filter, work, true);
  const { rows, vStride: vs, mStride: ms } = g;
  const dm = scratch.alloc(XI * ms);
  const dv = scratch.alloc(XI * vs);
  const ap = scratch.alloc(packedASize(rows, co));
  // (The heap's view is read after the allocations above, which may have grown the memory.)
  backend.wasm.HEAPF32.fill(0, dx >> 2, (dx + info.batchSize * g.xImage) >> 2);
  for (let b0 = 0; b0 < info.batchSize; b0 += g.chunk) {
    const nb = Math.min(g.chunk, info.batchSize - b0);
    const t = nb * g.tiles;
    simd.winoGradOutput(dy + b0 * g.yImage, nb, outHeight, outWidth, co, g.tilesH, g.tilesW, dm, ms, work);
    // dV[ξ] = dM[ξ] · U[ξ]ᵀ
    simd.gemmBatch(XI, dm, ms, co, 0, uT.packed, uT.stride, 0, 0, 1, t, ci, co, dv, vs, ci, 0, ap, 0, work);
    simd.winoGradInput(dv, nb, inHeight, inWidth, ci, top, left, g.tilesH, g.tilesW, vs, dx + b0 * g.xImage, work);
  }
}
