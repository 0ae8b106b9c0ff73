import { engine, getBackend } from '@tensorflow/tfjs-core';
import type { AdamOptimizer, Tensor } from '@tensorflow/tfjs-core';
import { simdFor } from '../kernels/simd/simd_module.js';
import type { SimdExports } from '../kernels/simd/simd_module.js';
import type { WasmBackendLike } from '../kernels/wasm_backend.js';

/** What an optimizer's `applyGradients` receives: a map by variable name, or named tensors. */
export type Gradients = Parameters<AdamOptimizer['applyGradients']>[0];

/** A fused optimizer step's inputs: the SIMD module, its backend and `[variable name, gradient]` pairs in tfjs's order. */
export interface FusedUpdate {
  simd: SimdExports;
  backend: WasmBackendLike;
  entries: ReadonlyArray<readonly [string, Tensor | null]>;
}

/**
 * The gradients as `[name, gradient]` pairs (the order tfjs's optimizers index their slots by)
 * with the SIMD module to update them in one kernel each — or `null` where the fused update does
 * not apply (not on wasm, or a variable or gradient that is not float32): the caller then runs
 * tfjs's own update.
 */
export function fusedUpdate(variableGradients: Gradients): FusedUpdate | null {
  if (getBackend() !== 'wasm') return null;
  const backend = engine().backend as unknown as WasmBackendLike;
  const simd = simdFor(backend);
  if (!simd) return null;
  const entries = Array.isArray(variableGradients)
    ? variableGradients.map((v) => [v.name, v.tensor] as const)
    : Object.entries(variableGradients as Record<string, Tensor>);
  const allFloat = entries.every(
    ([name, g]) => g == null || (g.dtype === 'float32' && engine().registeredVariables[name]?.dtype === 'float32'),
  );
  return allFloat ? { simd, backend, entries } : null;
}
