import { setFlagsFromString } from 'node:v8';
import { relaxedSimdSupported } from '@bnlab/core';

/**
 * Whether bnlab may use its relaxed-SIMD kernels (fused multiply-add: faster, results may
 * differ by rounding between machines). `BNLAB_RELAXED_SIMD=0` turns them off.
 */
export function relaxedSimdAllowed(): boolean {
  return process.env.BNLAB_RELAXED_SIMD !== '0';
}

/**
 * Node 20's V8 has relaxed SIMD behind `--experimental-wasm-relaxed-simd` (on by default
 * from Node 22): the `bnlab` command turns it on for its own process and its workers,
 * before any WebAssembly is compiled, unless {@link relaxedSimdAllowed} says no.
 */
export function enableRelaxedSimd(): void {
  if (relaxedSimdAllowed() && !relaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');
}
