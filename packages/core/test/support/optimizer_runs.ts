// What the fused-optimizer tests share: gradients applied by name, a fixed run of seeded
// gradients on fresh variables, and the per-step tensor count.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/rng.js';
import { randn } from './backends.js';

/** Variable shapes on and off the SIMD width. */
export const SIZES = [[1], [3], [8], [5, 7], [4, 4, 2, 3]];

/** Gradients by variable name, as `minimize` passes them (typed as variables by tfjs). */
export const apply = (opt: tf.Optimizer, grads: Record<string, tf.Tensor>): void =>
  opt.applyGradients(grads as unknown as Parameters<tf.Optimizer['applyGradients']>[0]);

/**
 * Runs `steps` updates of seeded gradients on fresh variables of {@link SIZES} (the same for
 * the same seed) and returns the final values; `beforeStep` runs before update `k`.
 */
export function trainOnSeededGradients<O extends tf.Optimizer>(
  make: () => O,
  steps: number,
  seed = 1,
  beforeStep?: (opt: O, k: number) => void,
): Float32Array[] {
  const rng = new Rng(seed);
  const vars = SIZES.map((shape, i) =>
    tf.variable(
      tf.tensor(
        randn(
          rng,
          shape.reduce((a, b) => a * b, 1),
        ),
        shape,
      ),
      true,
      `opt${seed}_${i}_${Math.random()}`,
    ),
  );
  const grads = Array.from({ length: steps }, () =>
    SIZES.map((shape) =>
      randn(
        rng,
        shape.reduce((a, b) => a * b, 1),
      ),
    ),
  );
  const opt = make();
  grads.forEach((step, k) => {
    beforeStep?.(opt, k);
    const map: Record<string, tf.Tensor> = {};
    vars.forEach((v, i) => (map[v.name] = tf.tensor(step[i]!, SIZES[i])));
    apply(opt, map);
    tf.dispose(Object.values(map));
  });
  const out = vars.map((v) => v.dataSync() as Float32Array);
  opt.dispose();
  tf.dispose(vars);
  return out;
}

/** How many tensors five more steps of `opt` on a 10-element variable leave behind (after a first step). */
export function tensorsLeftPerStep(opt: tf.Optimizer): number {
  const w = tf.variable(tf.zeros([10]), true, `leak_${Math.random()}`);
  const step = () => {
    const grads = { [w.name]: tf.ones([10]) };
    apply(opt, grads);
    tf.dispose(Object.values(grads));
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  return tf.memory().numTensors - before;
}
