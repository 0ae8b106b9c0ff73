import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../src/rng.js';

/** A reproducible float32 array of normal samples. */
export function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** Runs `fn` on a backend and returns every output as a plain Float32Array. */
export async function on(backend: 'wasm' | 'cpu', fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  tf.setBackend(backend);
  await tf.ready();
  const outs = tf.tidy(fn);
  const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  return values.map((v) => Float32Array.from(v));
}

/**
 * Relative error of `actual` against `expected`: the largest absolute difference over the
 * largest magnitude of the reference (so a gradient tensor is judged as a whole, and
 * entries that are near zero by cancellation do not blow the ratio up).
 */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!Number.isFinite(a)) return Infinity;
    diff = Math.max(diff, Math.abs(a - e));
    scale = Math.max(scale, Math.abs(e));
  }
  return scale === 0 ? diff : diff / scale;
}
