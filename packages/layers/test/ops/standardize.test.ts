import * as tf from '@tensorflow/tfjs-core';
import { firstAlong, groupStandardize, normalizeOver, standardize, stopGradient } from '../../src/ops/standardize.js';
import { BACKENDS, useBackend } from '../support/backends.js';
import { expectClose } from '../support/tolerance.js';

describe.each(BACKENDS)('the shared moments-and-normalize routine on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  test('closed form: [1, 2, 3] → ±sqrt(3/2) / sqrt(1 + 3/2 · eps) with mean 2 and biased variance 2/3', () => {
    const eps = 1e-3;
    const { normalized, mean, variance } = standardize(tf.tensor2d([[1, 2, 3]]), [1], eps);
    const s = 1 / Math.sqrt(2 / 3 + eps);
    expectClose(normalized.dataSync(), [-s, 0, s], 'normalized');
    expect(mean.shape).toEqual([1, 1]);
    expect(mean.dataSync()[0]).toBeCloseTo(2, 6);
    expect(variance.dataSync()[0]).toBeCloseTo(2 / 3, 6);
  });

  test('a large common offset costs no accuracy (shifted data): 1e4 + [1, 2, 3]', () => {
    const { normalized, mean } = standardize(tf.tensor2d([[10001, 10002, 10003]]), [1], 1e-3);
    const s = 1 / Math.sqrt(2 / 3 + 1e-3);
    expectClose(normalized.dataSync(), [-s, 0, s], 'normalized');
    expect(mean.dataSync()[0]).toBe(10002);
  });

  test('group standardization splits consecutive channels into groups', () => {
    // One sample, one pixel, channels [1, 3 | 10, 30]: groups of two, each → [-1, 1] · 1/sqrt(1 + eps/var).
    const y = groupStandardize(tf.tensor4d([1, 3, 10, 30], [1, 1, 1, 4]), 3, 2, 1e-3);
    expectClose(
      y.dataSync(),
      [-1 / Math.sqrt(1 + 1e-3), 1 / Math.sqrt(1 + 1e-3), -1 / Math.sqrt(1 + 1e-3 / 100), 1 / Math.sqrt(1 + 1e-3 / 100)],
      'grouped',
    );
  });

  test('stopGradient passes values and blocks gradients', () => {
    const x = tf.tensor1d([1, 2, 3]);
    expect(Array.from(stopGradient(x).dataSync())).toEqual([1, 2, 3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, stopGradient(v))))(x);
    expect(Array.from(g.dataSync())).toEqual([1, 2, 3]); // d/dv of v·c is c, nothing through c
  });

  test('firstAlong takes index 0 of the named axes and keeps them with size 1', () => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
    const y = firstAlong(x, [0, 1]);
    expect(y.shape).toEqual([1, 1, 2]);
    expect(Array.from(y.dataSync())).toEqual([1, 2]);
    expect(Array.from(firstAlong(x, [1]).dataSync())).toEqual([1, 2, 7, 8]);
  });

  // The closed-form gradients (normalizeOver, and the channels-last group layout) against
  // central finite differences of a float64 implementation written out here, on shapes with
  // several samples, positions and groups. The loss is Σ w ⊙ y with fixed random w.
  test.each([
    ['group standardize, channels last, 3 groups of 2', [3, 2, 4, 6], 3],
    ['group standardize, channels last, one per channel', [2, 5, 3], 3],
    ['group standardize, channels last, 1 group', [2, 3, 2, 4], 1],
    ['layer normalization over the last axis', [4, 6], 0],
  ] as Array<[string, number[], number]>)('gradient of %s matches finite differences', (_name, shape, groups) => {
    const eps = 1e-3;
    const size = shape.reduce((a, b) => a * b, 1);
    const c = shape[shape.length - 1]!;
    const n = shape[0]!;
    const rand = (seed: number) => Array.from({ length: size }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 2);
    const xv = rand(1).map((v, i) => v + (i % c));
    const w = rand(2);
    // Members of each normalized set: per sample and group over positions and the group's
    // channels, or (groups 0) per row over the last axis.
    const setOf = (i: number): number => {
      if (groups === 0) return Math.floor(i / c);
      const sample = Math.floor(i / (size / n));
      return sample * groups + Math.floor((i % c) / (c / groups));
    };
    const loss = (x: Float64Array): number => {
      const sums = new Map<number, { s: number; q: number; k: number }>();
      x.forEach((v, i) => {
        const e = sums.get(setOf(i)) ?? { s: 0, q: 0, k: 0 };
        e.s += v;
        e.k += 1;
        sums.set(setOf(i), e);
      });
      x.forEach((v, i) => {
        const e = sums.get(setOf(i))!;
        e.q += (v - e.s / e.k) ** 2;
      });
      let total = 0;
      x.forEach((v, i) => {
        const e = sums.get(setOf(i))!;
        total += (w[i]! * (v - e.s / e.k)) / Math.sqrt(e.q / e.k + eps);
      });
      return total;
    };
    const h = 1e-4;
    const fd = xv.map((_, i) => {
      const up = Float64Array.from(xv);
      const down = Float64Array.from(xv);
      up[i]! += h;
      down[i]! -= h;
      return (loss(up) - loss(down)) / (2 * h);
    });
    const grad = tf.grad((x: tf.Tensor) => {
      const y = groups === 0 ? normalizeOver(x, [x.rank - 1], eps) : groupStandardize(x, x.rank - 1, groups, eps);
      return tf.sum(tf.mul(y, tf.tensor(w, shape)));
    })(tf.tensor(xv, shape));
    expectClose(grad.dataSync(), fd, 'input gradient', 1e-3, 1e-4);
  });
});

describe("without core's fused groupNorm kernel (backends other than wasm and cpu)", () => {
  // The fused kernel is hidden for the cpu backend, so the composed tfjs path runs; its values
  // and gradients must equal the fused kernel's on the same data.
  const shape = [2, 5, 4, 6];
  const x = () => tf.randomNormal(shape, 3, 2, 'float32', 11);
  const w = () => tf.randomNormal(shape, 0, 1, 'float32', 12);
  const run = (f: (t: tf.Tensor) => tf.Tensor) => {
    const y = f(x());
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), w())))(x());
    return [y.dataSync(), g.dataSync()];
  };
  const cases: Array<[string, (t: tf.Tensor) => tf.Tensor]> = [
    ['group norm (3 groups)', (t) => groupStandardize(t, 3, 3, 1e-3)],
    ['instance norm', (t) => groupStandardize(t, 3, 6, 1e-3)],
    ['layer norm over the last axis', (t) => normalizeOver(t, [3], 1e-3)],
    ['layer norm over H, W, C', (t) => normalizeOver(t, [1, 2, 3], 1e-3)],
  ];
  beforeAll(() => useBackend('cpu'));

  test.each(cases)('%s gives the same values and gradients', (_name, f) => {
    const fused = run(f);
    const kernel = tf.getKernel('BnlabGroupNorm', 'cpu')!;
    tf.unregisterKernel('BnlabGroupNorm', 'cpu');
    let composed: Float32Array[] | undefined;
    try {
      composed = run(f) as Float32Array[];
    } finally {
      tf.registerKernel(kernel);
    }
    expectClose(composed[0]!, fused[0]!, 'values');
    expectClose(composed[1]!, fused[1]!, 'gradients');
  });
});
