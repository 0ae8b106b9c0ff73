import { sharedSimdFor } from '../kernels/simd/simd_module.js';
import type { SimdExports } from '../kernels/simd/simd_module.js';
import type { WasmBackendLike } from '../kernels/wasm_backend.js';
import { SimdThreads } from './simd_threads.js';

let pool: SimdThreads | null = null;
let lastFailure: string | null = null;

/** Why the last {@link setKernelThreads} could not start the threads, or null. */
export function kernelThreadsFailure(): string | null {
  return lastFailure;
}

/**
 * Sets how many threads bnlab's kernels use on `backend` (the calling one included):
 * starts or replaces the pool of kernel threads. Returns the count in force, 1 when the
 * backend's heap is not shared (see `requestSharedHeap`) or `count` is 1.
 */
export async function setKernelThreads(backend: WasmBackendLike, count: number): Promise<number> {
  const n = Math.max(1, Math.floor(count));
  lastFailure = null;
  const shared = sharedSimdFor(backend);
  if (pool && (!shared || pool.memory !== shared.memory || pool.size !== n || pool.failure)) {
    pool.close();
    pool = null;
  }
  if (!shared || n === 1) return 1;
  if (!pool) {
    try {
      pool = await SimdThreads.create(n, shared.module, shared.memory, shared.main);
    } catch (e) {
      lastFailure = e instanceof Error ? e.message : String(e);
      return 1;
    }
  }
  return pool.size;
}

/** The kernel threads working on `backend`'s heap, or null (one thread). */
export function threadsFor(backend: WasmBackendLike): SimdThreads | null {
  if (!pool || pool.failure) return null;
  const shared = sharedSimdFor(backend);
  return shared && shared.memory === pool.memory ? pool : null;
}

/** Threads bnlab's kernels use on `backend` (1 without a pool). */
export function kernelThreadCount(backend: WasmBackendLike): number {
  return threadsFor(backend)?.size ?? 1;
}

/** Stops the kernel threads (bnlab's kernels then run on the calling thread). */
export function stopKernelThreads(): void {
  pool?.close();
  pool = null;
}

/**
 * Runs `slices` independent pieces of a kernel's work split over the kernel threads: `body`
 * is called once per lane, on the calling thread, with that lane's functions of the SIMD
 * module (which record the calls), its range of slices `[first, end)` and its index, and
 * must give the lane outputs and scratch no other lane touches, allocated before it returns;
 * the recorded calls then run, lane 0's on this thread. Without threads (or with one slice)
 * `body` gets the module itself and all slices, and runs directly. Returns the lanes used.
 */
export function forSlices(
  backend: WasmBackendLike,
  simd: SimdExports,
  slices: number,
  body: (lane: SimdExports, first: number, end: number, index: number) => void,
): number {
  // A lane's functions (a kernel called from inside another's share) run its slices itself.
  const threads = threadsFor(backend);
  const lanes = threads?.isCallingThread(simd) ? Math.min(threads.size, slices) : 1;
  if (!threads || lanes <= 1) {
    body(simd, 0, slices, 0);
    return 1;
  }
  try {
    for (let i = 0; i < lanes; i++) {
      body(threads.lane(i), Math.floor((i * slices) / lanes), Math.floor(((i + 1) * slices) / lanes), i);
    }
  } catch (e) {
    threads.discard();
    throw e;
  }
  threads.run();
  return lanes;
}

/** Floats below which a pass over memory is not split over kernel threads (their wake-up costs more). */
const SPLIT_FLOATS = 1 << 16;

/**
 * {@link forSlices} over the `rows` rows of a pass that touches `rowFloats` floats per row:
 * each lane gets a range of rows `[r0, r1)`; a pass smaller than 64 K floats (or of one row)
 * runs whole, on the calling thread (`body` once, with all rows).
 */
export function forRows(
  backend: WasmBackendLike,
  simd: SimdExports,
  rows: number,
  rowFloats: number,
  body: (lane: SimdExports, r0: number, r1: number, index: number) => void,
): number {
  const split = rows >= 2 && rows * rowFloats >= SPLIT_FLOATS;
  if (!split) {
    body(simd, 0, rows, 0);
    return 1;
  }
  return forSlices(backend, simd, rows, body);
}

/** Images per slice so that every kernel thread gets at least one slice of `batch`. */
export function imagesPerLane(backend: WasmBackendLike, images: number, batch: number): number {
  return Math.max(1, Math.min(images, Math.ceil(batch / kernelThreadCount(backend))));
}

/**
 * dst[0 … n) += each of `parts` (float offsets in bytes on the heap): the kernel threads'
 * partial sums of a gradient, added on the calling thread after they ran.
 */
export function addInto(backend: WasmBackendLike, dst: number, parts: number[], n: number): void {
  if (parts.length === 0) return;
  const heap = backend.wasm.HEAPF32;
  const d = dst >> 2;
  for (const p of parts) {
    const q = p >> 2;
    for (let i = 0; i < n; i++) heap[d + i] = (heap[d + i] as number) + (heap[q + i] as number);
  }
}
