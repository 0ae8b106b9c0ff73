import { getKernel } from '@tensorflow/tfjs-core';
import type { DataType, KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * The parts of tfjs-backend-wasm's `BackendWasm` that bnlab's kernels use. The class is
 * not exported with these members typed, so they are described here and checked at run
 * time by {@link asWasmBackend}.
 */
export interface WasmBackendLike extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  wasm: { HEAPF32: Float32Array; _malloc(n: number): number; _free(p: number): void };
}

/** Narrows a kernel's backend to the wasm backend, or throws a clear error. */
export function asWasmBackend(backend: unknown): WasmBackendLike {
  const b = backend as Partial<WasmBackendLike> | null;
  if (!b || typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function' || !b.wasm) {
    throw new Error('bnlab wasm kernel called with a backend that is not tfjs-backend-wasm');
  }
  return b as WasmBackendLike;
}

/**
 * Runs another registered wasm kernel from inside a kernel. Kernels must call kernels,
 * never `tf.*` ops: a tensor made by an op inside a kernel corrupts the engine's
 * bookkeeping of the backend's data.
 */
export function runWasmKernel(name: string, backend: WasmBackendLike, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = getKernel(name, 'wasm');
  if (!kernel) throw new Error(`bnlab: the wasm backend has no '${name}' kernel`);
  const out = kernel.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`bnlab: kernel '${name}' returned several outputs`);
  return out as TensorInfo;
}

/** Frees intermediate results of a kernel. */
export function disposeAll(backend: WasmBackendLike, infos: Array<TensorInfo | null | undefined>): void {
  for (const t of infos) if (t) backend.disposeData(t.dataId);
}

/** `transpose(t, perm)` through the wasm Transpose kernel. */
export function transpose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  return runWasmKernel('Transpose', backend, { x }, { perm });
}
