import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/rng.js';
import { on, randn, relError } from './backends.js';

/** Gradients must agree within this relative error (the bound). */
export const GRAD_TOLERANCE = 1e-4;

/**
 * Computes f(params) and the gradients of sum(f(params) ⊙ r) for a random projection r on
 * the wasm and the cpu backend (the independent reference: separate JavaScript kernels) and
 * throws unless each output agrees within `tolerance` (relative to its largest entry).
 */
export async function compareGrads(
  label: string,
  shapes: number[][],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  seed: number,
  tolerance = GRAD_TOLERANCE,
): Promise<void> {
  const rng = new Rng(seed);
  const values = shapes.map((s) =>
    randn(
      rng,
      s.reduce((a, b) => a * b, 1),
    ),
  );
  const fresh = (): tf.Tensor[] => shapes.map((s, i) => tf.tensor(values[i] as Float32Array, s));
  const run = (): tf.Tensor[] => {
    const xs = fresh();
    // The forward output from tensors no kernel has seen (a convolution's filter seen
    // before goes to XNNPACK's cached operator on wasm, not to bnlab's kernels).
    const y = f(...fresh());
    const r = tf.tensor(randn(new Rng(seed + 1), y.size), y.shape);
    const g = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), r)));
    return [y, ...g(xs)];
  };
  const wasm = await on('wasm', run);
  const cpu = await on('cpu', run);
  wasm.forEach((w, i) => {
    const err = relError(w, cpu[i] as Float32Array);
    if (!(err <= tolerance)) {
      throw new Error(`${label}: output ${i} (0 = forward, then gradients) differs, relative error ${err}`);
    }
  });
}
