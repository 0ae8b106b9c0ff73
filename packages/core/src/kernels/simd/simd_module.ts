import { withSharedMemory } from './shared_memory.js';
import { RELAXED_SIMD_WASM_BASE64, SIMD_WASM_BASE64 } from './simd_wasm_bytes.js';
import type { WasmBackendLike } from '../wasm_backend.js';

/**
 * The functions of bnlab's SIMD module (assembly/index.ts). Pointers are byte offsets
 * into the wasm backend's memory; booleans are 0/1.
 */
export interface SimdExports {
  colSum(x: number, s: number, rows: number, cols: number, out: number, scale: number, work: number): void;
  colSum2(dy: number, x: number, s: number, m: number, rows: number, cols: number, sumDy: number, sumDyXc: number, work: number): void;
  colMoments(x: number, s: number, rows: number, cols: number, centre: number, variance: number, work: number): number;
  affine(a: number, s: number, m: number, p: number, b: number, q: number, k: number, rows: number, cols: number, out: number): void;
  maxPoolGrad(
    x: number, dy: number, dx: number, batch: number, inH: number, inW: number, channels: number,
    outH: number, outW: number, fh: number, fw: number, sh: number, sw: number, top: number, left: number,
  ): void;
  col2im(
    cols: number, batch: number, inH: number, inW: number, ch: number, kh: number, kw: number, sh: number, sw: number,
    dh: number, dw: number, top: number, left: number, outH: number, outW: number, dx: number,
  ): void;
  im2colPacked(
    x: number, batch: number, inH: number, inW: number, ch: number, kh: number, kw: number, sh: number, sw: number,
    dh: number, dw: number, top: number, left: number, outH: number, outW: number, ap: number,
  ): void;
  im2colPackedT(
    x: number, batch: number, inH: number, inW: number, ch: number, kh: number, kw: number, sh: number, sw: number,
    dh: number, dw: number, top: number, left: number, outH: number, outW: number, ap: number, panelStride: number,
  ): void;
  biasRelu(y: number, rows: number, cols: number, bias: number, relu: number, out: number): void;
  reluGrad(dy: number, x: number, n: number, out: number): void;
  padPlanes(x: number, batch: number, h: number, w: number, ch: number, top: number, left: number, hp: number, wp: number, out: number): void;
  convFew3(
    xp: number, batch: number, hp: number, wp: number, ch: number, kh: number, w: number, co: number, outH: number, outW: number, y: number,
    bias: number, relu: number,
  ): void;
  convFew3Grad(xp: number, batch: number, hp: number, wp: number, ch: number, kh: number, dy: number, co: number, outH: number, outW: number, dw: number): void;
  adamStep(
    w: number, m: number, v: number, g: number, n: number, lr: number, b1: number, b1c: number, b2: number, b2c: number,
    eps: number, c1: number, c2: number,
    wOut: number, mOut: number, vOut: number,
  ): void;
  spreadRows(v: number, slices: number, rows: number, cols: number, scale: number, out: number): void;
  momentumStep(w: number, a: number, g: number, n: number, m: number, c: number, nesterov: number, wOut: number, aOut: number): void;
  maxPool2x2(x: number, batch: number, inH: number, inW: number, channels: number, outH: number, outW: number, y: number): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, batch: number, inH: number, inW: number, channels: number, outH: number, outW: number): void;
  groupNorm(x: number, n: number, p: number, c: number, groups: number, eps: number, y: number, r: number, work: number): void;
  groupNormGrad(dy: number, yh: number, r: number, n: number, p: number, c: number, groups: number, dx: number, work: number): void;
  packA(a: number, lda: number, m: number, k: number, transposed: number, ap: number): void;
  packB(b: number, ldb: number, k: number, n: number, transposed: number, bp: number): void;
  gemmPacked(
    ap: number, bp: number, m: number, n: number, k: number, c: number, ldc: number, accumulate: number, scratch: number, bias: number, relu: number,
  ): void;
  gemmStrided(
    a: number, aRow: number, aStep: number, aPanel: number, b: number, bStep: number, bPanel: number,
    m: number, n: number, k: number, c: number, ldc: number, accumulate: number, scratch: number, edge: number,
  ): void;
  gemmBatch(
    count: number, a: number, aStride: number, lda: number, aTransposed: number, b: number, bStride: number, ldb: number, bTransposed: number,
    bPacked: number, m: number, n: number, k: number, c: number, cStride: number, ldc: number, accumulate: number, ap: number, bp: number, scratch: number,
  ): void;
  winoFilter(g: number, ci: number, co: number, uStride: number, u: number, work: number): void;
  winoFilterGrad(du: number, ci: number, co: number, duStride: number, dg: number, work: number): void;
  winoInput(
    x: number, batch: number, inH: number, inW: number, ci: number, top: number, left: number, tilesH: number, tilesW: number,
    v: number, xiStride: number, work: number,
  ): void;
  winoOutput(
    m: number, batch: number, tilesH: number, tilesW: number, co: number, outH: number, outW: number, xiStride: number,
    bias: number, relu: number, y: number, work: number,
  ): void;
  winoGradOutput(
    dy: number, batch: number, outH: number, outW: number, co: number, tilesH: number, tilesW: number, dm: number, xiStride: number, work: number,
  ): void;
  winoGradInput(
    dv: number, batch: number, inH: number, inW: number, ci: number, top: number, left: number, tilesH: number, tilesW: number,
    xiStride: number, dx: number, work: number,
  ): void;
}

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
export function sharedSimdFor(backend: WasmBackendLike): { memory: WebAssembly.Memory; module: WebAssembly.Module; main: SimdExports } | null {
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
