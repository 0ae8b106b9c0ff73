/**
 * bnlab's wasm Sum / Mean (SIMD column sums over leading axes) and BatchMatMul
 * (packed SIMD GEMM) against the cpu backend, on shapes that exercise the edges: channel
 * counts that are not multiples of 4, more than 256 rows (blocked float64 accumulation),
 * K deeper than one 512-deep slice, M and N not multiples of the 4×8 tile, keepDims, and
 * the cases handed back to tfjs's own kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { Rng } from '../../src/rng.js';
import { on, randn, relError } from '../support/backends.js';

const TOLERANCE = 1e-5;

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

async function same(run: () => tf.Tensor[], tolerance = TOLERANCE): Promise<void> {
  const w = await on('wasm', run);
  const c = await on('cpu', run);
  w.forEach((v, i) => expect(relError(v, c[i] as Float32Array)).toBeLessThanOrEqual(tolerance));
}

describe('Sum and Mean over leading axes', () => {
  it.each([
    { shape: [64, 13, 13, 32], axis: [0, 1, 2] },
    { shape: [600, 7], axis: [0] },
    { shape: [3, 5, 6], axis: [0, 1] },
    { shape: [4, 9, 2], axis: [1, 0] }, // unsorted axes
    { shape: [4, 9, 2], axis: [1, 2] }, // trailing axes: tfjs's own kernel
    { shape: [4, 9, 2], axis: [0, 1, 2] }, // everything: tfjs's own kernel
  ])('shape $shape axis $axis', async ({ shape, axis }) => {
    const v = randn(
      new Rng(50),
      shape.reduce((a, b) => a * b, 1),
      3,
    );
    for (const keepDims of [false, true]) {
      await same(() => [tf.sum(tf.tensor(v, shape), axis, keepDims), tf.mean(tf.tensor(v, shape), axis, keepDims)]);
    }
  });

  it('keeps the shape with keepDims', async () => {
    const [s] = await on('wasm', () => [tf.tensor1d(Array.from(tf.sum(tf.ones([2, 3, 4]), [0, 1], true).shape))]);
    expect(Array.from(s as Float32Array)).toEqual([1, 1, 4]);
  });

  it('int32 sums stay exact (tfjs kernel)', async () => {
    const [s] = await on('wasm', () => [
      tf.sum(
        tf.tensor2d(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [3, 2],
          'int32',
        ),
        0,
      ),
    ]);
    expect(Array.from(s as Float32Array)).toEqual([9, 12]);
  });
});

describe('matrix products', () => {
  it.each([
    { m: 300, k: 70, n: 130 },
    { m: 9, k: 1000, n: 17 },
    { m: 13, k: 2100, n: 9 }, // K in five equal slices of 420 (at most 512 deep)
    { m: 1, k: 3, n: 1 },
  ])('$m×$k · $k×$n in every transposition, and batched', async ({ m, k, n }) => {
    const a = randn(new Rng(51), m * k);
    const b = randn(new Rng(52), k * n);
    // [false, false]: a plain product with a right operand not seen before (bnlab's GEMM).
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      await same(() => [tf.matMul(tf.tensor2d(a, ta ? [k, m] : [m, k]), tf.tensor2d(b, tb ? [n, k] : [k, n]), ta, tb)], 1e-4);
    }
    const a3 = randn(new Rng(53), 3 * m * k);
    await same(() => [tf.matMul(tf.tensor3d(a3, [3, k, m]), tf.tensor2d(b, [k, n]), true, false)], 1e-4);
    await same(() => [tf.matMul(tf.tensor3d(a3, [3, m, k]), tf.tensor3d(randn(new Rng(54), 3 * k * n), [3, k, n]))], 1e-4);
  });

  it.each([
    { a: [2, 3], b: [1, 1, 3, 4] },
    { a: [1, 2, 3], b: [1, 1, 3, 4] },
    { a: [1, 1, 2, 3], b: [3, 4] },
  ])('operands of different ranks broadcast their leading dimensions: $a · $b', async ({ a, b }) => {
    const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
    const av = randn(new Rng(57), size(a));
    const bv = randn(new Rng(58), size(b));
    const run = (): tf.Tensor[] => [
      tf.matMul(tf.tensor(av, a), tf.tensor(bv, b)),
      tf.matMul(tf.tensor(av, a), tf.transpose(tf.tensor(bv, b), b.length === 2 ? [1, 0] : [0, 1, 3, 2]), false, true),
    ];
    const shapes = (backend: 'wasm' | 'cpu') => {
      tf.setBackend(backend);
      return tf.tidy(() => run().map((t) => t.shape));
    };
    expect(shapes('wasm')).toEqual(shapes('cpu'));
    await same(run, 1e-5);
  });

  it('an empty batch broadcast against a batch of one gives an empty product and writes nothing', async () => {
    // The module's own exports object (an `import * as` namespace is a copy a spy cannot patch).
    const gemmModule = jest.requireActual<typeof import('../../src/kernels/gemm.js')>('../../src/kernels/gemm.js');
    const gemmCalls = jest.spyOn(gemmModule, 'gemm');
    try {
      const shapes: number[][][] = [];
      for (const backend of ['wasm', 'cpu'] as const) {
        await tf.setBackend(backend);
        shapes.push(
          tf.tidy(() => [
            tf.matMul(tf.zeros([0, 3, 4]), tf.ones([1, 4, 2])).shape,
            tf.matMul(tf.ones([1, 3, 4]), tf.zeros([0, 4, 2])).shape,
          ]),
        );
      }
      expect(shapes[0]).toEqual(shapes[1]);
      expect(shapes[0]).toEqual([
        [0, 3, 2],
        [0, 3, 2],
      ]);
      // No GEMM runs into the zero-size output (it wrote m·n floats past it, into the heap).
      expect(gemmCalls).not.toHaveBeenCalled();
    } finally {
      gemmCalls.mockRestore();
    }
  });

  it('a plain product with the same right operand twice (fixed weights: XNNPACK) gives the same result', async () => {
    const a = randn(new Rng(55), 7 * 20);
    const b = randn(new Rng(56), 20 * 5);
    await same(() => {
      const bt = tf.tensor2d(b, [20, 5]);
      return [tf.matMul(tf.tensor2d(a, [7, 20]), bt), tf.matMul(tf.tensor2d(a, [7, 20]), bt)];
    }, 1e-4);
  });
});

describe('forward convolution through im2col + GEMM', () => {
  it('a 1×1 filter with padding only at the bottom and right', async () => {
    const x = randn(new Rng(61), 4 * 4 * 3);
    const f = randn(new Rng(62), 3 * 2);
    const pad = [
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0],
    ] as [[number, number], [number, number], [number, number], [number, number]];
    await same(() => [tf.conv2d(tf.tensor4d(x, [1, 4, 4, 3]), tf.tensor4d(f, [1, 1, 3, 2]), 1, pad)], 1e-4);
  });

  it('explicit padding handed to tfjs-wasm (an activation bnlab does not fuse) is padded first', async () => {
    const x = randn(new Rng(63), 2 * 6 * 5 * 3);
    const f = randn(new Rng(64), 2 * 3 * 3 * 4);
    const b = randn(new Rng(65), 4);
    await same(() => {
      const ft = tf.tensor4d(f, [2, 3, 3, 4]);
      const run = () =>
        tf.fused.conv2d({ x: tf.tensor4d(x, [2, 6, 5, 3]), filter: ft, strides: 1, pad: 1, bias: tf.tensor1d(b), activation: 'elu' });
      return [run(), run()];
    }, 1e-4);
  });

  it.each([1, 4])('dilation 2 with padding, %i input channel(s) (the packed-patch paths)', async (ci) => {
    const x = randn(new Rng(59), 2 * 9 * 11 * ci);
    const f = randn(new Rng(60), 3 * 3 * ci * 3);
    await same(() => [tf.conv2d(tf.tensor4d(x, [2, 9, 11, ci]), tf.tensor4d(f, [3, 3, ci, 3]), 1, 'same', 'NHWC', 2)], 1e-4);
  });

  it('a repeated filter with a numeric pad and a 2×3 kernel matches cpu (tfjs-wasm XNNPACK writes another shape)', async () => {
    const x = randn(new Rng(57), 2 * 6 * 5 * 3);
    const f = randn(new Rng(58), 2 * 3 * 3 * 3);
    await same(() => {
      const xt = tf.tensor4d(x, [2, 6, 5, 3]);
      const ft = tf.tensor4d(f, [2, 3, 3, 3]);
      // The second call sees the same filter: the inference case.
      return [tf.conv2d(xt, ft, 1, 1), tf.conv2d(xt, ft, 1, 1)];
    }, 1e-4);
  });

  it('no input channels (K = 0): the output is the bias, after ReLU, as on cpu', async () => {
    const b = [-1, 2, 0.5];
    await same(
      () => [
        tf.conv2d(tf.zeros([2, 4, 4, 0]) as tf.Tensor4D, tf.zeros([3, 3, 0, 3]) as tf.Tensor4D, 1, 'same'),
        tf.fused.conv2d({
          x: tf.zeros([2, 4, 4, 0]) as tf.Tensor4D,
          filter: tf.zeros([1, 1, 0, 3]) as tf.Tensor4D,
          strides: 1,
          pad: 'valid',
          bias: tf.tensor1d(b),
          activation: 'relu',
        }),
      ],
      0,
    );
  });

  it('bias and ReLU applied once, after the last of two K slices (K = 3·3·64 = 576), edge tiles included', async () => {
    const x = randn(new Rng(66), 3 * 5 * 5 * 64);
    const f = randn(new Rng(67), 3 * 3 * 64 * 13);
    const b = randn(new Rng(68), 13, 10); // large enough that adding it twice, or before the last slice only, shows
    await same(
      () => [
        tf.fused.conv2d({
          x: tf.tensor4d(x, [3, 5, 5, 64]),
          filter: tf.tensor4d(f, [3, 3, 64, 13]),
          strides: 1,
          pad: 'valid',
          bias: tf.tensor1d(b),
          activation: 'relu',
        }),
      ],
      1e-4,
    );
  });

  it('a batch whose patch matrix exceeds one slice (16 MB) is done in slices, with bias and ReLU', async () => {
    const x = randn(new Rng(54), 9 * 48 * 48 * 24);
    const f = randn(new Rng(55), 3 * 3 * 24 * 8);
    const b = randn(new Rng(56), 8);
    await same(
      () => [
        tf.fused.conv2d({
          x: tf.tensor4d(x, [9, 48, 48, 24]),
          filter: tf.tensor4d(f, [3, 3, 24, 8]),
          strides: 1,
          pad: 'same',
          bias: tf.tensor1d(b),
          activation: 'relu',
        }),
      ],
      1e-4,
    );
  });
});
