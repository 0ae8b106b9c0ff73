import type { backend_util } from '@tensorflow/tfjs-core';
import type { GemmEpilogue } from './gemm.js';
import { cacheSpreadStride, GEMM_STRIDED_SCRATCH, imagesPerSlice } from './gemm.js';
import type { Scratch, SimdExports } from './simd/simd_module.js';
import type { WasmBackendLike } from './wasm_backend.js';
import { addInto, forSlices, imagesPerLane } from '../threads/kernel_threads.js';

/**
 * 3×3 convolutions of stride 1 as Winograd F(4×4, 3×3) (Lavin & Gray 2016): each 4×4 block
 * of outputs is computed from its 6×6 block of input in a transformed space where the
 * convolution is an element-wise product, so summing over input channels becomes 36 matrix
 * products of depth `inChannels` (one per transform position) instead of one of depth
 * 9 · `inChannels`: 36 multiply-adds per block and channel pair instead of 144. The forward
 * pass, the filter gradient and the input gradient each run as 36 such products on
 * bnlab's SIMD GEMM, reading the transformed blocks where the SIMD transforms
 * (assembly/winograd.ts) left them; the filter gradient is the adjoint of the forward's
 * linear maps, the input gradient a forward convolution of the output gradient with the
 * filter turned by 180° (see {@link winogradInputGrad}), so both are the exact gradients of
 * the convolution up to float32 rounding. The transforms' coefficients (up to 8, and sixths)
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

/**
 * The 36 products C[ξ] (+)= op(A[ξ]) · op(B[ξ]) of one slice on the transformed blocks where
 * they lie (`gemmStrided`; strides in bytes, matrices `aXi`, `bXi`, `cXi` bytes apart).
 */
interface Products {
  a: number;
  aRow: number;
  aStep: number;
  aPanel: number;
  aXi: number;
  b: number;
  bStep: number;
  bPanel: number;
  bXi: number;
  m: number;
  n: number;
  k: number;
  c: number;
  ldc: number;
  cXi: number;
  accumulate: boolean;
}

function products(simd: SimdExports, p: Products, work: number): void {
  const edge = work + 32 * 4;
  for (let i = 0; i < XI; i++) {
    simd.gemmStrided(
      p.a + i * p.aXi,
      p.aRow,
      p.aStep,
      p.aPanel,
      p.b + i * p.bXi,
      p.bStep,
      p.bPanel,
      p.m,
      p.n,
      p.k,
      p.c + i * p.cXi,
      p.ldc,
      p.accumulate,
      work,
      edge,
    );
  }
}

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
 * Whether {@link winogradInputGrad} computes this convolution's input gradient: where
 * {@link winogradApplies}, and the 4×4 blocks over dx (the input, rounded up at the edges)
 * cost at most 40% of the direct multiply-adds. The input gradient runs as a forward Winograd
 * convolution of dy padded by two, whose edge blocks are mostly zeros, so it needs a larger
 * image than the forward pass to win: measured (examples/benchmark kernels.mjs, 64 images,
 * 16–128 channels, relaxed build), the Winograd input gradient was 0.49–0.52× the direct one
 * at a ratio of 0.64 (5×5 inputs), 0.81–1.08× at 0.44 (6×6, 9×9), 1.24–1.85× from 0.38 down.
 */
export function winogradAppliesToInputGrad(info: backend_util.Conv2DInfo): boolean {
  if (!winogradApplies(info)) return false;
  const { inHeight, inWidth } = info;
  return XI * Math.ceil(inHeight / TILE) * Math.ceil(inWidth / TILE) <= 0.4 * 9 * inHeight * inWidth;
}

/** Floats between the matrices of successive ξ (see {@link cacheSpreadStride}). */
const xiStride = cacheSpreadStride;

/** A 3×3 stride-1 convolution as the kernels below see it: channels last, zeros outside. */
interface Conv3x3 {
  batch: number;
  inH: number;
  inW: number;
  ci: number;
  outH: number;
  outW: number;
  co: number;
  /** Rows and columns of zeros before the image (output tile 0 reads input from −top, −left). */
  top: number;
  left: number;
}

function conv3x3(info: backend_util.Conv2DInfo): Conv3x3 {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    ci: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    co: info.outChannels,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
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

function geometry(c: Conv3x3, backend: WasmBackendLike): Geometry {
  const { ci, co } = c;
  const tilesH = Math.ceil(c.outH / TILE);
  const tilesW = Math.ceil(c.outW / TILE);
  const tiles = tilesH * tilesW;
  // Slices whose transformed input and output take about 1 MB (the L2 of the machines
  // measured); a single large image takes more (a 224×224×64 → 64 layer about 58 MB, still
  // less than its patch matrix).
  // With kernel threads, at least one slice per thread.
  const chunk = imagesPerLane(backend, imagesPerSlice(XI * tiles * (ci + co), c.batch, 1 << 18), c.batch);
  const rows = chunk * tiles;
  return {
    tilesH,
    tilesW,
    tiles,
    chunk,
    rows,
    vStride: xiStride(rows * ci),
    mStride: xiStride(rows * co),
    xImage: c.inH * c.inW * ci * 4,
    yImage: c.outH * c.outW * co * 4,
  };
}

/** Transformed filters packed as the GEMM's B, one per ξ, `stride` floats apart. */
interface PackedFilter {
  packed: number;
  stride: number;
}

/**
 * U[ξ] = G g Gᵀ, [36][ci][co] for g [3, 3, ci, co], and, per ξ, packed as the GEMM's B:
 * op(B) = U[ξ] (ci × co), or U[ξ]ᵀ (co × ci) when `transposed`.
 */
function transformedFilter(
  simd: SimdExports,
  scratch: Scratch,
  ci: number,
  co: number,
  filter: number,
  work: number,
  transposed: boolean,
): PackedFilter {
  const us = xiStride(ci * co);
  const u = scratch.alloc(XI * us);
  simd.winoFilter(filter, ci, co, us, u, work);
  const [k, n] = transposed ? [co, ci] : [ci, co];
  const stride = Math.ceil(n / 8) * 8 * k;
  const packed = scratch.alloc(XI * stride);
  for (let i = 0; i < XI; i++) simd.packB(u + i * us * 4, co, k, n, transposed, packed + i * stride * 4);
  return { packed, stride };
}

/**
 * y = conv(x, U) (+ bias, ReLU): input transform, 36 products, output transform, slice by
 * slice; the slices (whole images) are split over the kernel threads, each with its own
 * transformed blocks.
 */
function forward(
  simd: SimdExports,
  scratch: Scratch,
  c: Conv3x3,
  x: number,
  u: PackedFilter,
  y: number,
  epilogue: GemmEpilogue,
  work: number,
): void {
  const { ci, co } = c;
  const g = geometry(c, scratch.backend);
  const { vStride: vs, mStride: ms } = g;
  forSlices(scratch.backend, simd, Math.ceil(c.batch / g.chunk), (lane, first, end, index) => {
    const v = scratch.alloc(XI * vs);
    const m = scratch.alloc(XI * ms);
    const gw = scratch.alloc(GEMM_STRIDED_SCRATCH);
    const w = index === 0 ? work : scratch.alloc(WORK);
    for (let s = first; s < end; s++) {
      const b0 = s * g.chunk;
      const nb = Math.min(g.chunk, c.batch - b0);
      const t = nb * g.tiles;
      lane.winoInput(x + b0 * g.xImage, nb, c.inH, c.inW, ci, c.top, c.left, g.tilesH, g.tilesW, v, vs, w);
      // M[ξ] = V[ξ] · U[ξ]: V's rows as they lie, U packed.
      products(
        lane,
        {
          a: v,
          aRow: 4 * ci,
          aStep: 4,
          aPanel: 16 * ci,
          aXi: 4 * vs,
          b: u.packed,
          bStep: 32,
          bPanel: 32 * ci,
          bXi: 4 * u.stride,
          m: t,
          n: co,
          k: ci,
          c: m,
          ldc: co,
          cXi: 4 * ms,
          accumulate: false,
        },
        gw,
      );
      lane.winoOutput(m, nb, g.tilesH, g.tilesW, co, c.outH, c.outW, ms, epilogue.bias ?? 0, epilogue.relu === true, y + b0 * g.yImage, w);
    }
  });
}

/**
 * y = conv(x, filter) (+ bias, ReLU) for `info` (see {@link winogradApplies}); x, filter,
 * y and the bias are byte offsets on the wasm heap.
 */
export function winogradConv(
  simd: SimdExports,
  scratch: Scratch,
  info: backend_util.Conv2DInfo,
  x: number,
  filter: number,
  y: number,
  epilogue: GemmEpilogue,
): void {
  const work = scratch.alloc(WORK);
  const u = transformedFilter(simd, scratch, info.inChannels, info.outChannels, filter, work, false);
  forward(simd, scratch, conv3x3(info), x, u, y, epilogue, work);
}

/**
 * dW = ∂/∂filter of Σ conv(x, filter) ⊙ dy, into `dw` ([3, 3, ci, co]). With kernel threads
 * each sums the transformed gradient over its slices and transforms it back; the threads'
 * filter gradients are then added (so the order of the sum depends on the thread count).
 */
export function winogradFilterGrad(
  simd: SimdExports,
  scratch: Scratch,
  info: backend_util.Conv2DInfo,
  x: number,
  dy: number,
  dw: number,
): void {
  const { inChannels: ci, outChannels: co, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  const backend = scratch.backend;
  const g = geometry(conv3x3(info), backend);
  const { vStride: vs, mStride: ms } = g;
  const us = xiStride(ci * co);
  const partial: number[] = [];
  forSlices(backend, simd, Math.ceil(info.batchSize / g.chunk), (lane, first, end, index) => {
    const work = scratch.alloc(WORK);
    const v = scratch.alloc(XI * vs);
    const dm = scratch.alloc(XI * ms);
    const du = scratch.alloc(XI * us);
    const gw = scratch.alloc(GEMM_STRIDED_SCRATCH);
    for (let s = first; s < end; s++) {
      const b0 = s * g.chunk;
      const nb = Math.min(g.chunk, info.batchSize - b0);
      const t = nb * g.tiles;
      lane.winoInput(x + b0 * g.xImage, nb, inHeight, inWidth, ci, top, left, g.tilesH, g.tilesW, v, vs, work);
      lane.winoGradOutput(dy + b0 * g.yImage, nb, outHeight, outWidth, co, g.tilesH, g.tilesW, dm, ms, work);
      // dU[ξ] (+)= V[ξ]ᵀ · dM[ξ]: Vᵀ read down V's columns, dM's rows as they lie.
      products(
        lane,
        {
          a: v,
          aRow: 4,
          aStep: 4 * ci,
          aPanel: 16,
          aXi: 4 * vs,
          b: dm,
          bStep: 4 * co,
          bPanel: 32,
          bXi: 4 * ms,
          m: ci,
          n: co,
          k: t,
          c: du,
          ldc: co,
          cXi: 4 * us,
          accumulate: s > first,
        },
        gw,
      );
    }
    const out = index === 0 ? dw : scratch.alloc(9 * ci * co);
    if (index > 0) partial.push(out);
    lane.winoFilterGrad(du, ci, co, us, out, work);
  });
  addInto(backend, dw, partial, 9 * ci * co);
}

/**
 * dx = ∂/∂x of Σ conv(x, filter) ⊙ dy, into `dx` ([batch, inH, inW, ci]; overwritten).
 *
 * dx[h, w] = Σ dy[h + top − i, w + left − j] · W[i, j]ᵀ is itself a 3×3 stride-1
 * convolution: of dy, with 2 − top rows and 2 − left columns of zeros before it, with the
 * filter turned by 180° (its nine [ci, co] planes in reverse order) and its channel axes
 * swapped (the transformed filters are packed transposed). So it runs as the forward pass
 * does, gathering 6×6 blocks of dy and storing each 4×4 block of dx once; the adjoint of the
 * forward's transforms (used when the padding is wider than 2) instead adds every 6×6 block
 * onto dx, overlapping: 1.2–1.4× slower on ResNet-20's 32×32×16 layers.
 */
export function winogradInputGrad(
  simd: SimdExports,
  scratch: Scratch,
  backend: WasmBackendLike,
  info: backend_util.Conv2DInfo,
  dy: number,
  filter: number,
  dx: number,
): void {
  const c = conv3x3(info);
  if (c.top > 2 || c.left > 2) {
    adjointInputGrad(simd, scratch, backend, c, dy, filter, dx);
    return;
  }
  const work = scratch.alloc(WORK);
  const plane = c.ci * c.co;
  const turned = scratch.alloc(9 * plane);
  // (The heap's view is read after the allocations, which may have grown the memory.)
  const heap = backend.wasm.HEAPF32;
  for (let p = 0; p < 9; p++) heap.copyWithin((turned >> 2) + p * plane, (filter >> 2) + (8 - p) * plane, (filter >> 2) + (9 - p) * plane);
  const uT = transformedFilter(simd, scratch, c.ci, c.co, turned, work, true);
  const transposed: Conv3x3 = {
    batch: c.batch,
    inH: c.outH,
    inW: c.outW,
    ci: c.co,
    outH: c.inH,
    outW: c.inW,
    co: c.ci,
    top: 2 - c.top,
    left: 2 - c.left,
  };
  forward(simd, scratch, transposed, dy, uT, dx, {}, work);
}

/** {@link winogradInputGrad} through the adjoints of the forward's transforms (any padding). */
function adjointInputGrad(
  simd: SimdExports,
  scratch: Scratch,
  backend: WasmBackendLike,
  c: Conv3x3,
  dy: number,
  filter: number,
  dx: number,
): void {
  const { ci, co, inH: inHeight, inW: inWidth, outH: outHeight, outW: outWidth, top, left } = c;
  const g = geometry(c, backend);
  const work = scratch.alloc(WORK);
  const uT = transformedFilter(simd, scratch, ci, co, filter, work, true);
  const { vStride: vs, mStride: ms } = g;
  // (The heap's view is read after the allocation above, which may have grown the memory.)
  backend.wasm.HEAPF32.fill(0, dx >> 2, (dx + c.batch * g.xImage) >> 2);
  // Slices are whole images, whose blocks of dx no other slice touches.
  forSlices(backend, simd, Math.ceil(c.batch / g.chunk), (lane, first, end, index) => {
    const dm = scratch.alloc(XI * ms);
    const dv = scratch.alloc(XI * vs);
    const gw = scratch.alloc(GEMM_STRIDED_SCRATCH);
    const w = index === 0 ? work : scratch.alloc(WORK);
    for (let s = first; s < end; s++) {
      const b0 = s * g.chunk;
      const nb = Math.min(g.chunk, c.batch - b0);
      const t = nb * g.tiles;
      lane.winoGradOutput(dy + b0 * g.yImage, nb, outHeight, outWidth, co, g.tilesH, g.tilesW, dm, ms, w);
      // dV[ξ] = dM[ξ] · U[ξ]ᵀ
      products(
        lane,
        {
          a: dm,
          aRow: 4 * co,
          aStep: 4,
          aPanel: 16 * co,
          aXi: 4 * ms,
          b: uT.packed,
          bStep: 32,
          bPanel: 32 * co,
          bXi: 4 * uT.stride,
          m: t,
          n: ci,
          k: co,
          c: dv,
          ldc: ci,
          cXi: 4 * vs,
          accumulate: false,
        },
        gw,
      );
      lane.winoGradInput(dv, nb, inHeight, inWidth, ci, top, left, g.tilesH, g.tilesW, vs, dx + b0 * g.xImage, w);
    }
  });
}
