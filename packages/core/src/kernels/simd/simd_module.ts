import { withSharedMemory } from './shared_memory.js';
import { RELAXED_SIMD_WASM_BASE64, SIMD_WASM_BASE64 } from './simd_wasm_bytes.js';
import type { WasmBackendLike } from '../wasm_backend.js';

import type { SimdExports } from './simd_exports.js';

export type { SimdExports } from './simd_exports.js';

/** Which build of bnlab's SIMD module runs: with relaxed SIMD (fused multiply-add), or plain SIMD. */
export type SimdKernels = 'relaxed' | 'simd';

/** The module compiled for an unshared memory, its bytes, and (once needed) for a shared one. */
let compiled: { module: WebAssembly.Module; bytes: Uint8Array; kind: SimdKernels; shared?: WebAssembly.Module } | null | undefined;
/** Per backend memory, the kernels bound to it, or null when they could not be (then tfjs's run). */
let instances = new WeakMap<WebAssembly.Memory, SimdExports | null>();
let relaxedWanted = true;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Whether bnlab may use its relaxed-SIMD build (on by default): matrix products then use
 * fused multiply-adds where the CPU has them, faster, with results that can differ by
 * rounding between machines (one rounding per multiply-add instead of two). Engines
 * without relaxed SIMD (Node 20 without `--experimental-wasm-relaxed-simd`, Safari) always
 * get the plain SIMD build.
 */
export function setRelaxedSimd(allowed: boolean): void {
  if (allowed === relaxedWanted) return;
  relaxedWanted = allowed;
  compiled = undefined;
  instances = new WeakMap();
}

function tryCompile(base64: string): { module: WebAssembly.Module; bytes: Uint8Array } | null {
  const bytes = decodeBase64(base64);
  if (!WebAssembly.validate(bytes)) return null;
  try {
    return { module: new WebAssembly.Module(bytes), bytes };
  } catch {
    return null;
  }
}

/**
 * Compiles the SIMD module (once): the relaxed-SIMD build when allowed and this engine
 * accepts it, else the plain one. Returns false when this engine cannot run either (no
 * WebAssembly SIMD): bnlab's kernels then fall back to tfjs's own.
 */
export function simdAvailable(): boolean {
  if (compiled === undefined) {
    const relaxed = relaxedWanted ? tryCompile(RELAXED_SIMD_WASM_BASE64) : null;
    const plain = relaxed ? null : tryCompile(SIMD_WASM_BASE64);
    compiled = relaxed ? { ...relaxed, kind: 'relaxed' } : plain ? { ...plain, kind: 'simd' } : null;
  }
  return compiled !== null;
}

/**
 * Whether this engine accepts bnlab's relaxed-SIMD build now (V8 flags set at run time
 * count: Node 20 accepts it after `--experimental-wasm-relaxed-simd`).
 */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(decodeBase64(RELAXED_SIMD_WASM_BASE64));
}

/** The build of the SIMD kernels in use, or null when WebAssembly SIMD is unavailable. */
export function simdKernels(): SimdKernels | null {
  return simdAvailable() ? (compiled as { kind: SimdKernels }).kind : null;
}

/**
 * The wasm backend's `WebAssembly.Memory`, where its tensors live: exported by the module
 * in the single-threaded builds, created by the JavaScript glue (shared) in the threaded one.
 */
function backendMemory(backend: WasmBackendLike): WebAssembly.Memory | null {
  const wasm = backend.wasm as { asm?: { memory?: unknown }; wasmMemory?: unknown };
  if (wasm.asm?.memory instanceof WebAssembly.Memory) return wasm.asm.memory;
  return wasm.wasmMemory instanceof WebAssembly.Memory ? wasm.wasmMemory : null;
}

const isShared = (memory: WebAssembly.Memory): boolean =>
  typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;

/**
 * bnlab's SIMD kernels bound to a wasm backend's memory (instantiated once per memory), or
 * null when they cannot run here.
 */
export function simdFor(backend: WasmBackendLike): SimdExports | null {
  const memory = backendMemory(backend);
  if (!memory || !simdAvailable()) return null;
  let inst = instances.get(memory);
  if (inst === undefined) {
    const c = compiled as NonNullable<typeof compiled>;
    try {
      let module = c.module;
      if (isShared(memory)) {
        c.shared ??= new WebAssembly.Module(withSharedMemory(c.bytes));
        module = c.shared;
      }
      inst = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdExports;
    } catch {
      // A memory the module cannot import (an engine or tfjs build unlike those known):
      // bnlab's kernels fall back to tfjs's, and initBackend reports simdKernels: null.
      inst = null;
    }
    instances.set(memory, inst);
  }
  return inst;
}

/**
 * What kernel threads need to run bnlab's kernels on a backend's heap: the heap (shared),
 * the SIMD module compiled for a shared memory, and the calling thread's instance; null
 * when the heap is not shared or bnlab's kernels do not run on it.
 */
export function sharedSimdFor(
  backend: WasmBackendLike,
): { memory: WebAssembly.Memory; module: WebAssembly.Module; main: SimdExports } | null {
  const main = simdFor(backend);
  const memory = backendMemory(backend);
  if (!main || !memory || !isShared(memory)) return null;
  const c = compiled as NonNullable<typeof compiled>;
  c.shared ??= new WebAssembly.Module(withSharedMemory(c.bytes));
  return { memory, module: c.shared, main };
}

/** Byte offset of a tensor's data in the wasm backend's memory. */
export function ptr(backend: WasmBackendLike, t: { dataId: object }): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (!d) throw new Error('bnlab: tensor data is not on the wasm backend');
  return d.memoryOffset;
}

/**
 * Scratch space on the wasm heap for one kernel call: `alloc(floats)` returns a byte offset
 * (16-byte aligned), `free()` releases everything the call allocated.
 */
export class Scratch {
  private readonly blocks: number[] = [];
  constructor(readonly backend: WasmBackendLike) {}

  alloc(floats: number): number {
    const raw = this.backend.wasm._malloc(floats * 4 + 16);
    if (!raw) throw new Error(`bnlab: the wasm heap could not allocate ${floats * 4} bytes`);
    this.blocks.push(raw);
    return (raw + 15) & ~15;
  }

  /** Copies small float arrays to the heap (for per-channel vectors). */
  put(values: ArrayLike<number>): number {
    const at = this.alloc(values.length);
    new Float32Array(this.backend.wasm.HEAPF32.buffer, at, values.length).set(values);
    return at;
  }

  free(): void {
    for (const b of this.blocks) this.backend.wasm._free(b);
    this.blocks.length = 0;
  }
}

const workspaces = new WeakMap<object, { raw: number; floats: number }>();

/**
 * A workspace of at least `floats` floats on the wasm heap (16-byte aligned), kept across
 * calls and grown when a call needs more: for the small float64 accumulators of the column
 * passes. Valid until the next `workspace` call, so only for use inside one SIMD call.
 * (A malloc and free of a few hundred bytes on every `Sum` or batch-norm step fragments
 * the heap between the large tensor blocks, and the wasm memory creeps up.)
 */
export function workspace(backend: WasmBackendLike, floats: number): number {
  let w = workspaces.get(backend);
  if (!w || w.floats < floats) {
    if (w) backend.wasm._free(w.raw);
    const size = Math.max(floats, 1024);
    const raw = backend.wasm._malloc(size * 4 + 16);
    if (!raw) throw new Error(`bnlab: the wasm heap could not allocate ${size * 4} bytes`);
    w = { raw, floats: size };
    workspaces.set(backend, w);
  }
  return (w.raw + 15) & ~15;
}
