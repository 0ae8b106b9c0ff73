/**
 * Gradients on the wasm backend (with bnlab's training kernels) against the cpu backend's,
 * over a grid of shapes and every gradient path the bnlab models use. The cpu backend is
 * the independent reference: its kernels are separate JavaScript implementations.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { setWinograd } from '../../src/kernels/winograd.js';
import { Rng } from '../../src/rng.js';
import { on, randn, relError } from '../support/backends.js';
import { compareGrads, GRAD_TOLERANCE } from '../support/compare_grads.js';

beforeAll(async () => {
  const info = await initBackend({ strict: true });
  expect(info.backend).toBe('wasm');
});

type Pad = 'same' | 'valid' | number;

describe('conv2d gradients on wasm match cpu', () => {
  const cases: Array<{
    b: number;
    h: number;
    w: number;
    ci: number;
    co: number;
    k: [number, number];
    s: number;
    pad: Pad;
    direct?: boolean;
  }> = [];
  for (const [h, w] of [
    [5, 5],
    [8, 7],
    [9, 9],
  ] as const)
    for (const k of [
      [1, 1],
      [3, 3],
      [2, 3],
    ] as Array<[number, number]>)
      for (const s of [1, 2]) for (const pad of ['same', 'valid'] as Pad[]) cases.push({ b: 2, h, w, ci: 3, co: 4, k, s, pad });
  cases.push({ b: 1, h: 6, w: 6, ci: 1, co: 2, k: [3, 3], s: 1, pad: 1 });
  cases.push({ b: 3, h: 11, w: 10, ci: 2, co: 3, k: [5, 5], s: 2, pad: 2 });
  cases.push({ b: 4, h: 28, w: 28, ci: 1, co: 8, k: [3, 3], s: 1, pad: 'valid' });
  cases.push({ b: 1, h: 5, w: 5, ci: 2, co: 2, k: [3, 3], s: 1, pad: 3 }); // padding wider than the filter
  // Channels in multiples of four take the vector paths of the patch packing.
  cases.push({ b: 3, h: 7, w: 6, ci: 8, co: 5, k: [3, 3], s: 2, pad: 'same' });
  cases.push({ b: 1, h: 5, w: 5, ci: 4, co: 12, k: [3, 3], s: 1, pad: 'valid' });
  cases.push({ b: 2, h: 6, w: 5, ci: 12, co: 3, k: [2, 3], s: 1, pad: 1 });
  // One input channel, stride 1: the vector paths of the first layer's patches, with borders.
  cases.push({ b: 2, h: 7, w: 9, ci: 1, co: 5, k: [2, 3], s: 1, pad: 'same' });
  cases.push({ b: 3, h: 5, w: 13, ci: 1, co: 4, k: [3, 3], s: 1, pad: 2 });
  // One input channel, a 3-wide filter, stride 1 and 8k outputs: bnlab's direct kernels
  // (output widths that are not multiples of 4, padding, taller filters).
  cases.push({ b: 2, h: 28, w: 28, ci: 1, co: 32, k: [3, 3], s: 1, pad: 'valid' });
  cases.push({ b: 3, h: 7, w: 9, ci: 1, co: 8, k: [5, 3], s: 1, pad: 'same' });
  cases.push({ b: 2, h: 6, w: 5, ci: 1, co: 16, k: [1, 3], s: 1, pad: 2 });
  cases.push({ b: 2, h: 6, w: 7, ci: 1, co: 8, k: [5, 3], s: 1, pad: 1 }); // tfjs sizes the width from kh: general path
  // Patch matrices over 512 KB go a few images at a time (here 2, 2, then 1); with Winograd
  // off, as this 3×3 stride-1 shape would take it otherwise (and once more with it on).
  cases.push({ b: 5, h: 20, w: 20, ci: 16, co: 8, k: [3, 3], s: 1, pad: 'same', direct: true });
  cases.push({ b: 5, h: 20, w: 20, ci: 16, co: 8, k: [3, 3], s: 1, pad: 'same' });

  afterEach(() => setWinograd(true));

  it.each(cases)('conv2d $b×$h×$w×$ci → $co, kernel $k, stride $s, pad $pad (direct only: $direct)', async (c) => {
    setWinograd(!c.direct);
    const x = [c.b, c.h, c.w, c.ci];
    const f = [c.k[0], c.k[1], c.ci, c.co];
    await compareGrads('conv2d', [x, f], (xi, fi) => tf.conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, c.s, c.pad), 10);
    // conv with bias as separate ops (tfjs-layers' unfused path)
    await compareGrads(
      'conv2d+bias',
      [x, f, [c.co]],
      (xi, fi, bi) => tf.add(tf.conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, c.s, c.pad), bi as tf.Tensor),
      11,
    );
  });

  it.each([
    { s: 1, pad: 'same' as const, activation: 'relu' as const },
    { s: 2, pad: 'valid' as const, activation: 'relu' as const },
    { s: 1, pad: 'valid' as const, activation: 'linear' as const },
    { s: 2, pad: 'same' as const, activation: 'elu' as const },
  ])('fused conv2d with bias and $activation, stride $s, pad $pad', async ({ s, pad, activation }) => {
    await compareGrads(
      'fused conv2d',
      [[2, 9, 9, 3], [3, 3, 3, 5], [5]],
      (x, f, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: s, pad, bias: b as tf.Tensor, activation }),
      12,
    );
  });

  it('fused conv2d without bias', async () => {
    await compareGrads(
      'fused conv2d no bias',
      [
        [2, 7, 7, 2],
        [3, 3, 2, 4],
      ],
      (x, f) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', activation: 'relu' }),
      13,
    );
  });

  it('the filter-gradient kernel handles NCHW data', async () => {
    const rng = new Rng(14);
    const xv = randn(rng, 2 * 3 * 7 * 6);
    const dyv = randn(rng, 2 * 4 * 4 * 3);
    const run = (): tf.Tensor[] => [
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, [2, 3, 7, 6]), dy: tf.tensor4d(dyv, [2, 4, 4, 3]) }, {
        strides: [2, 2],
        pad: 'same',
        dataFormat: 'NCHW',
        dimRoundingMode: undefined,
        filterShape: [3, 3, 3, 4],
      } as never) as tf.Tensor,
    ];
    const [w] = await on('wasm', run);
    const [c] = await on('cpu', run);
    expect(relError(w as Float32Array, c as Float32Array)).toBeLessThanOrEqual(GRAD_TOLERANCE);
  });

  it('a dy that does not fit the convolution is refused, not read past its end', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    // conv2dTranspose to 9×9 with stride 2 and 'same' padding needs a 5×5 input, not 4×4.
    expect(() =>
      tf.tidy(() =>
        tf.conv2dTranspose(tf.ones([2, 4, 4, 5]) as tf.Tensor4D, tf.ones([3, 3, 3, 5]) as tf.Tensor4D, [2, 9, 9, 3], 2, 'same'),
      ),
    ).toThrow(/Conv2DBackpropInput: dy has shape \[2, 4, 4, 5\], but this convolution's output has shape \[2, 5, 5, 5\]/);
    for (const dataFormat of ['NHWC', 'NCHW'] as const) {
      const [x, dy] =
        dataFormat === 'NHWC'
          ? [
              [2, 9, 9, 3],
              [2, 4, 4, 5],
            ]
          : [
              [2, 3, 9, 9],
              [2, 5, 4, 4],
            ];
      expect(() =>
        tf.tidy(() =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.ones(x as number[]), dy: tf.ones(dy as number[]) }, {
            strides: [2, 2],
            pad: 'same',
            dataFormat,
            dimRoundingMode: undefined,
            filterShape: [3, 3, 3, 5],
          } as never),
        ),
      ).toThrow(/Conv2DBackpropFilter: dy has shape \[2, 4, 4, 5\], but this convolution's output has shape \[2, 5, 5, 5\]/);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('depthwise conv2d gradients on wasm match cpu', () => {
  it.each([
    { s: 1, pad: 'same' as Pad, m: 1, k: 3 },
    { s: 2, pad: 'same' as Pad, m: 2, k: 3 },
    { s: 1, pad: 'valid' as Pad, m: 2, k: 2 },
    { s: 2, pad: 'valid' as Pad, m: 1, k: 3 },
    { s: 1, pad: 1 as Pad, m: 3, k: 3 },
  ])('depthwise stride $s pad $pad multiplier $m kernel $k', async ({ s, pad, m, k }) => {
    await compareGrads(
      'depthwise',
      [
        [2, 8, 7, 3],
        [k, k, 3, m],
      ],
      (x, f) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad as 'same'),
      20,
    );
    await compareGrads(
      'fused depthwise',
      [[2, 8, 7, 3], [k, k, 3, m], [3 * m]],
      (x, f, b) =>
        tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: s,
          pad: pad as 'same',
          bias: b as tf.Tensor,
          activation: 'relu',
        }),
      21,
    );
  });
});

describe('depthwise backprop kernels honour dilation', () => {
  // tfjs-core refuses dilated gradients in autodiff and the cpu backend's backprop kernels
  // ignore dilation, so the reference here is exact linearity of the forward convolution
  // (computed by the cpu backend's forward kernel, which does support dilation):
  // dL/dW[k] = Σ dy ⊙ conv(x, e_k) and dL/dx[j] = Σ dy ⊙ conv(e_j, W).
  const xShape: [number, number, number, number] = [2, 7, 6, 2];
  const fShape: [number, number, number, number] = [3, 2, 2, 2];
  const dilations: [number, number] = [2, 2];
  const rng = new Rng(30);
  const xv = randn(rng, 2 * 7 * 6 * 2);
  const fv = randn(rng, 3 * 2 * 2 * 2);

  async function reference(): Promise<{ dy: Float32Array; dW: Float64Array; dx: Float64Array }> {
    tf.setBackend('cpu');
    const fwd = (x: Float32Array, f: Float32Array): Float32Array =>
      tf.tidy(
        () => tf.depthwiseConv2d(tf.tensor4d(x, xShape), tf.tensor4d(f, fShape), 1, 'same', 'NHWC', dilations).dataSync() as Float32Array,
      );
    const outSize = fwd(xv, fv).length;
    const dy = randn(new Rng(31), outSize);
    const dot = (a: Float32Array): number => a.reduce((s, v, i) => s + v * (dy[i] as number), 0);
    const dW = new Float64Array(fv.length);
    for (let k = 0; k < fv.length; k++) {
      const e = new Float32Array(fv.length);
      e[k] = 1;
      dW[k] = dot(fwd(xv, e));
    }
    const dx = new Float64Array(xv.length);
    for (let j = 0; j < xv.length; j++) {
      const e = new Float32Array(xv.length);
      e[j] = 1;
      dx[j] = dot(fwd(e, fv));
    }
    return { dy, dW, dx };
  }

  it('filter and input gradients equal the linearity reference', async () => {
    const ref = await reference();
    const outShape = [2, 7, 6, 4];
    const [dW, dx] = await on('wasm', () => [
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(xv, xShape), dy: tf.tensor(ref.dy, outShape) }, {
        strides: [1, 1],
        dilations,
        pad: 'same',
        dimRoundingMode: undefined,
        filterShape: fShape,
      } as never) as tf.Tensor,
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tf.tensor(ref.dy, outShape), filter: tf.tensor4d(fv, fShape) }, {
        strides: [1, 1],
        dilations,
        pad: 'same',
        dimRoundingMode: undefined,
        inputShape: xShape,
      } as never) as tf.Tensor,
    ]);
    expect(relError(dW as Float32Array, ref.dW)).toBeLessThanOrEqual(GRAD_TOLERANCE);
    expect(relError(dx as Float32Array, ref.dx)).toBeLessThanOrEqual(GRAD_TOLERANCE);
  });
});

describe('dense, pooling and batch-norm gradients on wasm match cpu', () => {
  it.each([
    { ta: false, tb: false },
    { ta: true, tb: false },
    { ta: false, tb: true },
    { ta: true, tb: true },
  ])('matMul transposeA=$ta transposeB=$tb', async ({ ta, tb }) => {
    const a = ta ? [6, 5] : [5, 6];
    const b = tb ? [7, 6] : [6, 7];
    await compareGrads('matMul', [a, b], (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), 40);
  });

  it.each(['relu', 'linear', 'sigmoid'] as const)('fused dense with bias and %s', async (activation) => {
    await compareGrads(
      'fused matMul',
      [[8, 12], [12, 5], [5]],
      (x, w, b) => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b as tf.Tensor, activation }),
      41,
    );
  });

  it.each([
    { op: 'max', size: 2, s: 2, pad: 'valid' as const, c: 3 },
    { op: 'max', size: 3, s: 2, pad: 'same' as const, c: 3 },
    { op: 'max', size: 2, s: 1, pad: 'same' as const, c: 3 },
    { op: 'avg', size: 2, s: 2, pad: 'valid' as const, c: 3 },
    { op: 'avg', size: 3, s: 1, pad: 'same' as const, c: 3 },
    // Channels in fours: the non-overlapping 2×2 path (9 rows: the last one uncovered).
    { op: 'max', size: 2, s: 2, pad: 'valid' as const, c: 8 },
    { op: 'max', size: 2, s: 2, pad: 'same' as const, c: 4 },
  ])('$op pool $size stride $s pad $pad, $c channels', async ({ op, size, s, pad, c }) => {
    const pool = op === 'max' ? tf.maxPool : tf.avgPool;
    await compareGrads(`${op}Pool`, [[2, 9, 8, c]], (x) => pool(x as tf.Tensor4D, size, s, pad), 42);
  });

  it('max pool 2×2 gradient with an uncovered last row and column (odd sizes) is zero there', async () => {
    await compareGrads('maxPool odd', [[3, 11, 11, 8]], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), 43);
  });

  it('max pool gradient goes to the window maximum when it is negative (tfjs-wasm 4.22 bug)', async () => {
    // Hand-worked: 4×4 input, 2×2 windows, all-negative windows included.
    const x = [-1.6, -1.5, -0.8, 0.1, -0.6, -0.5, -0.9, 0.3, 1.4, 1.8, -0.5, -0.3, 0.0, 0.5, -1.3, -1.0];
    const [g] = await on('wasm', () => [
      tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))(tf.tensor4d(x, [1, 4, 4, 1])),
    ]);
    expect(Array.from(g as Float32Array)).toEqual([0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0]);
  });

  it('the same in four channels at once (the 2×2 vector path), each channel its own pattern', async () => {
    const x = [-1.6, -1.5, -0.8, 0.1, -0.6, -0.5, -0.9, 0.3, 1.4, 1.8, -0.5, -0.3, 0.0, 0.5, -1.3, -1.0];
    // Channel k holds the pattern times (k + 1), channel 3 negated: its maxima move.
    const scale = [1, 2, 3, -1];
    const x4 = x.flatMap((v) => scale.map((k) => v * k));
    const [g] = await on('wasm', () => [
      tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))(tf.tensor4d(x4, [1, 4, 4, 4])),
    ]);
    const first = [0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0];
    const negated = [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0]; // maxima of −x, worked by hand
    const want = first.flatMap((v, i) => [v, v, v, negated[i]!]);
    expect(Array.from(g as Float32Array)).toEqual(want);
  });

  it('max pool gradient of a tied window goes to its first maximum', async () => {
    const [g] = await on('wasm', () => [
      tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')))(tf.zeros([1, 2, 2, 1])),
    ]);
    expect(Array.from(g as Float32Array)).toEqual([1, 0, 0, 0]);
  });

  it('fused batch norm (inference form) for x, mean, variance, offset and scale', async () => {
    await compareGrads(
      'batchNorm',
      [[4, 5, 5, 3], [3], [3], [3], [3]],
      (x, m, v, o, sc) =>
        tf.batchNorm(
          x as tf.Tensor4D,
          m as tf.Tensor1D,
          tf.add(tf.square(v as tf.Tensor), 0.5) as tf.Tensor1D,
          o as tf.Tensor1D,
          sc as tf.Tensor1D,
          1e-3,
        ),
      43,
    );
  });

  it('training-mode batch norm through moments', async () => {
    await compareGrads(
      'moments batch norm',
      [[6, 4, 4, 3], [3], [3]],
      (x, g, b) => {
        const { mean, variance } = tf.moments(x as tf.Tensor4D, [0, 1, 2]);
        return tf.batchNorm(x as tf.Tensor4D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3);
      },
      44,
    );
  });

  it('softmax cross-entropy head', async () => {
    await compareGrads(
      'softmax xent',
      [[8, 10]],
      (logits) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10), logits as tf.Tensor2D),
      45,
    );
  });
});
