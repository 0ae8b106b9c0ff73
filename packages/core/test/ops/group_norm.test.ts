/**
 * groupNorm (fused group standardization) against independent references: the float64
 * closed form written here from the definition, tfjs's own composition of `tf.moments` on
 * the grouped view for gradients (cpu backend), and central finite differences.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { isBnlabError } from '../../src/errors.js';
import { groupNorm, standardizeTrailing } from '../../src/ops/group_norm.js';
import { Rng } from '../../src/rng.js';
import { on, randn, relError } from '../support/backends.js';

const EPS = 1e-3;

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

/** Definition, in float64: per sample and group of consecutive channels, over positions × group channels. */
function reference(x: Float32Array, [n, p, c]: number[], groups: number): Float64Array {
  const k = c / groups;
  const y = new Float64Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let row = 0; row < p; row++) for (let j = 0; j < k; j++) idx.push((i * p + row) * c + g * k + j);
      const mean = idx.reduce((s, t) => s + x[t]!, 0) / idx.length;
      const variance = idx.reduce((s, t) => s + (x[t]! - mean) ** 2, 0) / idx.length;
      for (const t of idx) y[t] = (x[t]! - mean) / Math.sqrt(variance + EPS);
    }
  }
  return y;
}

/** tfjs's composition on the [n, p, groups, k] view: moments over positions and group channels. */
function composed(x: tf.Tensor3D, groups: number): tf.Tensor {
  const [n, p, c] = x.shape;
  const v = tf.reshape(x, [n, p, groups, c / groups]);
  const { mean, variance } = tf.moments(v, [1, 3], true);
  return tf.reshape(tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, EPS))), [n, p, c]);
}

const shapes = [
  { shape: [3, 10, 8], groups: 2 }, // group norm, vector path
  { shape: [2, 7, 12], groups: 12 }, // instance norm
  { shape: [5, 1, 16], groups: 1 }, // layer norm over the last axis (one position): the row path
  { shape: [3, 1, 10], groups: 1 }, // the row path with a scalar tail
  { shape: [4, 6, 6], groups: 3 }, // channels not a multiple of 4: scalar paths
  { shape: [2, 300, 4], groups: 1 }, // more than one 256-row block
  { shape: [2, 1, 3000], groups: 1 }, // a long row: more than one 1024-value block
];

describe.each(['wasm', 'cpu'] as const)('groupNorm on %s', (backend) => {
  it.each(shapes)('forward equals the float64 definition, shape $shape, $groups groups', async ({ shape, groups }) => {
    const x = randn(
      new Rng(3),
      shape.reduce((a, b) => a * b, 1),
    );
    const [y] = await on(backend, () => [groupNorm(tf.tensor3d(x, shape as [number, number, number]), groups, EPS)]);
    expect(relError(y!, Float32Array.from(reference(x, shape, groups)))).toBeLessThan(1e-5);
  });

  it.each([
    { shape: [2, 9, 8], groups: 2 },
    { shape: [6, 1, 12], groups: 1 },
  ])('a large common offset costs no precision (mean 1e4, unit spread), shape $shape', async ({ shape, groups }) => {
    const x = Float32Array.from(
      randn(
        new Rng(4),
        shape.reduce((a, b) => a * b, 1),
      ),
      (v) => 1e4 + v,
    );
    const [y] = await on(backend, () => [groupNorm(tf.tensor3d(x, shape as [number, number, number]), groups, EPS)]);
    expect(relError(y!, Float32Array.from(reference(x, shape, groups)))).toBeLessThan(1e-5);
  });

  it('a constant group normalizes to exactly zero', async () => {
    const [y] = await on(backend, () => [groupNorm(tf.fill([1, 4, 4], 7.25) as tf.Tensor3D, 2, EPS)]);
    expect(Array.from(y!)).toEqual(new Array(16).fill(0));
  });

  it.each(shapes)('gradient equals autodiff of tfjs moments (cpu), shape $shape, $groups groups', async ({ shape, groups }) => {
    const x = randn(
      new Rng(5),
      shape.reduce((a, b) => a * b, 1),
    );
    const w = randn(new Rng(6), x.length);
    const loss = (f: (t: tf.Tensor3D) => tf.Tensor) => (t: tf.Tensor) => tf.sum(tf.mul(f(t as tf.Tensor3D), tf.tensor(w, shape)));
    const [ours] = await on(backend, () => [
      tf.grad(loss((t) => groupNorm(t, groups, EPS)))(tf.tensor3d(x, shape as [number, number, number])),
    ]);
    const [theirs] = await on('cpu', () => [tf.grad(loss((t) => composed(t, groups)))(tf.tensor3d(x, shape as [number, number, number]))]);
    expect(relError(ours!, theirs!)).toBeLessThan(1e-4);
  });
});

test('gradient matches central finite differences (float64 forward)', async () => {
  const shape = [2, 3, 4];
  const groups = 2;
  const x = randn(new Rng(7), 24);
  const w = randn(new Rng(8), 24);
  const [g] = await on('wasm', () => [
    tf.grad((t: tf.Tensor) => tf.sum(tf.mul(groupNorm(t as tf.Tensor3D, groups, EPS), tf.tensor(w, shape))))(
      tf.tensor3d(x, shape as [number, number, number]),
    ),
  ]);
  const f = (v: Float32Array) => reference(v, shape, groups).reduce((s, y, i) => s + y * w[i]!, 0);
  const h = 1e-3;
  for (let i = 0; i < 24; i++) {
    const up = Float64Array.from(x);
    const down = Float64Array.from(x);
    up[i] = up[i]! + h;
    down[i] = down[i]! - h;
    const fd = (f(up as unknown as Float32Array) - f(down as unknown as Float32Array)) / (2 * h);
    expect(Math.abs(g![i]! - fd)).toBeLessThan(2e-3);
  }
});

test('bad arguments name the argument', () => {
  const x = tf.zeros([2, 3, 6]) as tf.Tensor3D;
  for (const [fn, where] of [
    [() => groupNorm(x, 4), 'groups'],
    [() => groupNorm(tf.zeros([2, 6]) as unknown as tf.Tensor3D, 1), 'x'],
    [() => groupNorm(x, 2, 0), 'epsilon'],
  ] as const) {
    let caught: unknown;
    try {
      fn();
    } catch (e) {
      caught = e;
    }
    expect(isBnlabError(caught)).toBe(true);
    expect((caught as Error).message).toContain(where);
  }
});

describe.each(['wasm', 'cpu'] as const)('second-order gradients of groupNorm on %s', (backend) => {
  it.each([
    { shape: [2, 5, 6], groups: 3 },
    { shape: [3, 1, 8], groups: 1 },
  ])('∂/∂x Σ(∂f/∂x)² equals the composed tfjs ops (cpu), shape $shape', async ({ shape, groups }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const x = randn(new Rng(13), size);
    const w = randn(new Rng(14), size);
    const outer = (norm: (t: tf.Tensor3D) => tf.Tensor) => (t: tf.Tensor) => {
      const inner = tf.grad((u: tf.Tensor) => tf.sum(tf.mul(norm(u as tf.Tensor3D), tf.tensor(w, shape))))(t);
      return tf.sum(tf.square(inner));
    };
    const [ours] = await on(backend, () => [
      tf.grad(outer((t) => groupNorm(t, groups, EPS)))(tf.tensor3d(x, shape as [number, number, number])),
    ]);
    const [theirs] = await on('cpu', () => [tf.grad(outer((t) => composed(t, groups)))(tf.tensor3d(x, shape as [number, number, number]))]);
    expect(relError(ours!, theirs!)).toBeLessThan(1e-3);
  });
});

describe('standardizeTrailing', () => {
  test('standardizes each leading index over the trailing axes (float64 reference), on wasm', async () => {
    const shape = [3, 2, 4, 5];
    const x = randn(new Rng(21), 120, 3).map((v) => v + 7);
    const [y] = await on('wasm', () => [standardizeTrailing(tf.tensor(x, shape), 2, 1e-3)]);
    // Slices of 4 · 5 = 20 values: each standardized with its biased variance.
    const expected = new Float64Array(120);
    for (let s0 = 0; s0 < 120; s0 += 20) {
      const part = Array.from(x.subarray(s0, s0 + 20));
      const mean = part.reduce((a, b) => a + b, 0) / 20;
      const variance = part.reduce((a, b) => a + (b - mean) ** 2, 0) / 20;
      part.forEach((v, i) => (expected[s0 + i] = (v - mean) / Math.sqrt(variance + 1e-3)));
    }
    expect(relError(y!, expected)).toBeLessThan(1e-5);
  });

  test('names a first axis that is not one of the trailing axes', () => {
    for (const first of [0, 4, 1.5]) {
      let error: unknown;
      try {
        standardizeTrailing(tf.zeros([2, 3, 4, 5]), first);
      } catch (e) {
        error = e;
      }
      expect(isBnlabError(error) && error.code === 'INVALID_ARGUMENT' && error.message.includes(`got ${first}`)).toBe(true);
    }
  });
});
