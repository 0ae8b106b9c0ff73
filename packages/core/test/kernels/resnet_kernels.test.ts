/**
 * The kernels of a ResNet-20 training step on wasm (issue 15) against the cpu backend, the
 * independent reference, forward and gradients: the 3×3 convolutions of its three stages
 * (Winograd), the stride-2 3×3 and 1×1 convolutions of its downsampling blocks, the RGB first
 * layer, the residual add (with the broadcasting tfjs-layers' `add` can ask for), global
 * average pooling (`Mean` over H and W), and the subsampling and zero padding along channels
 * of the parameter-free shortcut 'A' (tfjs-core 4.22 has no gradient for `stridedSlice`, so
 * it subsamples by a reshape into 2×2 blocks and a slice). Batches ≥ 2, odd sizes, both paddings. The
 * last block checks that these shapes take bnlab's fast paths, not tfjs-wasm's own kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { setStockConv2DBackpropInput } from '../../src/kernels/conv2d_backprop_input.js';
import { setStockKernel } from '../../src/kernels/stock.js';
import { conv2dBiasActivation } from '../../src/ops/conv2d_bias_activation.js';
import { Rng } from '../../src/rng.js';
import { on, randn, relError } from '../support/backends.js';
import { compareGrads } from '../support/compare_grads.js';

beforeAll(async () => {
  const info = await initBackend({ strict: true });
  expect(info.backend).toBe('wasm');
});

interface ConvCase {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  pad: 'same' | 'valid';
}

/** ResNet-20's convolutions, at small sizes (whole and cut Winograd tiles, odd sizes). */
const CONVS: ConvCase[] = [
  // The first layer: RGB in, 16 out (bnlab's few-channel direct kernels).
  { b: 2, h: 11, w: 9, ci: 3, co: 16, k: 3, s: 1, pad: 'same' },
  { b: 3, h: 8, w: 8, ci: 3, co: 16, k: 3, s: 1, pad: 'valid' },
  // The three stages' 3×3 stride-1 layers (Winograd F(4×4, 3×3)).
  { b: 2, h: 9, w: 9, ci: 16, co: 16, k: 3, s: 1, pad: 'same' },
  { b: 3, h: 8, w: 8, ci: 32, co: 32, k: 3, s: 1, pad: 'same' },
  { b: 2, h: 5, w: 7, ci: 64, co: 64, k: 3, s: 1, pad: 'same' },
  { b: 2, h: 11, w: 10, ci: 16, co: 16, k: 3, s: 1, pad: 'valid' },
  // The downsampling blocks: 3×3 stride 2, and the 1×1 stride-2 projection shortcut 'B'.
  { b: 2, h: 9, w: 9, ci: 16, co: 32, k: 3, s: 2, pad: 'same' },
  { b: 3, h: 8, w: 8, ci: 32, co: 64, k: 3, s: 2, pad: 'same' },
  { b: 2, h: 9, w: 8, ci: 16, co: 32, k: 3, s: 2, pad: 'valid' },
  { b: 2, h: 9, w: 9, ci: 16, co: 32, k: 1, s: 2, pad: 'valid' },
  { b: 3, h: 8, w: 8, ci: 32, co: 64, k: 1, s: 2, pad: 'same' },
  { b: 2, h: 7, w: 5, ci: 16, co: 16, k: 1, s: 1, pad: 'valid' },
];

describe('ResNet-20 convolutions on wasm match cpu (forward, input and filter gradients)', () => {
  it.each(CONVS)('$b×$h×$w×$ci → $co, $k×$k stride $s, pad $pad', async (c) => {
    const x = [c.b, c.h, c.w, c.ci];
    const f = [c.k, c.k, c.ci, c.co];
    await compareGrads('conv2d', [x, f], (xi, fi) => tf.conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, c.s, c.pad), 150);
    // As bnlab's models train it (conv2dBiasActivation: one kernel, gradients per input).
    await compareGrads(
      'conv2dBiasActivation',
      [x, f, [c.co]],
      (xi, fi, bi) =>
        conv2dBiasActivation(xi as tf.Tensor4D, fi as tf.Tensor4D, {
          bias: bi as tf.Tensor1D,
          activation: 'relu',
          strides: c.s,
          pad: c.pad,
        }),
      151,
    );
  });
});

describe('the residual add, global average pooling and shortcut A on wasm match cpu', () => {
  it.each([
    { a: [2, 9, 9, 16], b: [2, 9, 9, 16] }, // the residual add
    { a: [3, 8, 8, 32], b: [1, 8, 8, 32] }, // broadcast over the batch
    { a: [2, 5, 7, 64], b: [2, 1, 1, 64] }, // per image and channel
    { a: [2, 1, 1, 16], b: [2, 5, 5, 16] },
    { a: [2, 5, 5, 16], b: [16] }, // a bias
  ])('add $a + $b', async ({ a, b }) => {
    await compareGrads('add', [a, b], (x, y) => tf.add(x, y), 160);
    await compareGrads('add + relu', [a, b], (x, y) => tf.relu(tf.add(x, y)), 161);
  });

  it.each([
    [2, 8, 8, 64],
    [3, 7, 5, 16],
    [2, 1, 1, 8],
  ])('global average pooling of %j (Mean over H, W) and its gradient', async (...shape) => {
    await compareGrads('mean over H, W', [shape], (x) => tf.mean(x, [1, 2]), 170);
    await compareGrads('mean over H, W, keepDims', [shape], (x) => tf.mean(x, [1, 2], true), 171);
    await compareGrads('sum over H, W', [shape], (x) => tf.sum(x, [1, 2]), 172);
  });

  it('tfjs-core 4.22 has no gradient for StridedSlice (shortcut A must subsample another way)', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([2, 4, 4, 2]);
    expect(() => tf.grad((t: tf.Tensor) => tf.sum(tf.stridedSlice(t, [0, 0, 0, 0], [2, 4, 4, 2], [1, 2, 2, 1])))(x)).toThrow(
      /gradient function not found for StridedSlice/,
    );
    x.dispose();
  });

  /** x[:, ::2, ::2, :] with a gradient: pad H, W to even, view as 2×2 blocks, slice each block's first entry. */
  function subsample(t: tf.Tensor): tf.Tensor {
    const [b, h, w, c] = t.shape as [number, number, number, number];
    const [h2, w2] = [Math.ceil(h / 2), Math.ceil(w / 2)];
    const even =
      h % 2 || w % 2
        ? tf.pad(t, [
            [0, 0],
            [0, h % 2],
            [0, w % 2],
            [0, 0],
          ])
        : t;
    const blocks = tf.reshape(even, [b, h2, 2, w2, 2, c]);
    return tf.reshape(tf.slice(blocks, [0, 0, 0, 0, 0, 0], [b, h2, 1, w2, 1, c]), [b, h2, w2, c]);
  }

  it.each([
    { shape: [6, 5, 8], axis: [0] }, // leading axes
    { shape: [3, 4, 5, 6], axis: [1, 2, 3] }, // to the end: tfjs's own gradient
    { shape: [2, 3, 4, 5, 6], axis: [2, 3] },
    { shape: [4, 7, 3], axis: [1] }, // 3 columns: the scalar tail
  ])('the gradient of a mean over $axis of $shape', async ({ shape, axis }) => {
    await compareGrads('mean', [shape], (x) => tf.mean(x, axis), 173);
  });

  it("a gradient of the pooling gradient (recorded) falls back to tfjs's formula and agrees", async () => {
    // d/dx Σ (∂/∂x Σ mean(x)²)·r: the inner gradient is recorded, so it must be differentiable.
    await compareGrads(
      'mean double gradient',
      [[2, 4, 4, 8]],
      (x) => tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.mean(t, [1, 2]))))(x),
      174,
    );
  });

  it.each([
    { x: [2, 9, 9, 16], co: 32 },
    { x: [3, 8, 8, 32], co: 64 },
  ])('shortcut A: x[:, ::2, ::2, :] zero-padded along channels, $x → $co channels', async ({ x, co }) => {
    const [b, h, w, ci] = x as [number, number, number, number];
    const extra = co - ci;
    const padChannels = (t: tf.Tensor): tf.Tensor =>
      tf.pad(t, [
        [0, 0],
        [0, 0],
        [0, 0],
        [extra >> 1, extra - (extra >> 1)],
      ]);
    // The subsampling is x[:, ::2, ::2, :] (the cpu backend's strided slice, forward only).
    const [ours] = await on('wasm', () => [subsample(tf.tensor(randn(new Rng(183), b * h * w * ci), x))]);
    const [sliced] = await on('cpu', () => [
      tf.stridedSlice(tf.tensor(randn(new Rng(183), b * h * w * ci), x), [0, 0, 0, 0], x, [1, 2, 2, 1]),
    ]);
    expect(relError(ours as Float32Array, sliced as Float32Array)).toBe(0);
    await compareGrads('subsample', [x], (t) => subsample(t), 180);
    await compareGrads('pad channels', [x], (t) => padChannels(t), 181);
    await compareGrads(
      'shortcut A + residual',
      [x, [b, Math.ceil(h / 2), Math.ceil(w / 2), co]],
      (t, r) => tf.relu(tf.add(r, padChannels(subsample(t)))),
      182,
    );
  });
});

describe('slices on wasm match cpu (zero padding and its gradient)', () => {
  it.each([
    { x: [2, 11, 11, 16], begin: [0, 1, 1, 0], size: [2, 9, 9, 16] }, // a ZeroPadding2D gradient
    { x: [3, 10, 9, 32], begin: [1, 2, 0, 0], size: [2, 5, -1, -1] },
    { x: [2, 6, 7, 20], begin: [0, 0, 0, 4], size: [-1, -1, -1, 16] }, // channels cut: runs of 16
    { x: [4, 5, 6], begin: [1, 0, 2], size: [2, 5, 3] }, // runs of 3: tfjs-wasm's own kernel
    { x: [5, 40], begin: [2, 0], size: [3, 40] }, // one run
    { x: [3, 4, 5], begin: [0, 0, 0], size: [0, 4, 5] }, // empty
  ])('slice $x from $begin, size $size', async ({ x, begin, size }) => {
    await compareGrads('slice', [x], (t) => tf.slice(t, begin, size), 190);
  });

  it('int32 slices copy exactly', async () => {
    await tf.setBackend('wasm');
    const t = tf.reshape(tf.range(0, 2 * 6 * 5 * 16, 1, 'int32'), [2, 6, 5, 16]);
    const s = tf.slice(t, [1, 2, 1, 0], [1, 3, 3, 16]);
    const expected: number[] = [];
    for (let h = 2; h < 5; h++) for (let w = 1; w < 4; w++) for (let c = 0; c < 16; c++) expected.push(((1 * 6 + h) * 5 + w) * 16 + c);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual(expected);
    tf.dispose([t, s]);
  });

  it.each([
    [2, 9, 9, 16],
    [3, 8, 8, 32],
  ])('zeroPadding2d-style pad of %j by 1 and its gradient', async (...shape) => {
    await compareGrads(
      'pad H, W',
      [shape],
      (t) =>
        tf.pad(t, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]),
      191,
    );
  });
});

describe("ResNet-20's shapes take bnlab's fast paths on wasm", () => {
  // From here on, tfjs-wasm's own kernels behind bnlab's refuse to run: a fallback fails.
  beforeAll(() => {
    for (const name of ['Conv2D', 'FusedConv2D', 'Mean', 'Slice']) {
      setStockKernel(name, () => {
        throw new Error(`fell back to tfjs-wasm's ${name}`);
      });
    }
    setStockConv2DBackpropInput(() => {
      throw new Error("fell back to tfjs-wasm's Conv2DBackpropInput");
    });
  });

  it.each(CONVS.filter((c) => c.s === 2 || c.k === 1 || c.ci >= 16))('$b×$h×$w×$ci → $co, $k×$k stride $s, pad $pad', async (c) => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      const x = tf.randomNormal([c.b, c.h, c.w, c.ci]) as tf.Tensor4D;
      const f = tf.randomNormal([c.k, c.k, c.ci, c.co]) as tf.Tensor4D;
      const g = tf.grads((xi: tf.Tensor, fi: tf.Tensor) =>
        tf.sum(conv2dBiasActivation(xi as tf.Tensor4D, fi as tf.Tensor4D, { activation: 'relu', strides: c.s, pad: c.pad })),
      );
      const [dx, df] = g([x, f]);
      expect(dx!.shape).toEqual(x.shape);
      expect(df!.shape).toEqual(f.shape);
    });
  });

  it('the gradient of a zero padding (a slice of 16-channel rows)', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      const x = tf.randomNormal([2, 9, 9, 16]);
      const dx = tf.grad((t: tf.Tensor) =>
        tf.sum(
          tf.pad(t, [
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ]),
        ),
      )(x);
      expect(dx.shape).toEqual(x.shape);
    });
  });

  it('global average pooling and its gradient', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      const x = tf.randomNormal([4, 8, 8, 64]);
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, [1, 2]), tf.range(0, 64))))(x);
      // d/dx of Σ_c c · mean(x[:, :, :, c]) is c / 64 everywhere.
      const expected = tf.tile(tf.reshape(tf.div(tf.range(0, 64), 64), [1, 1, 1, 64]), [4, 8, 8, 1]);
      expect(tf.max(tf.abs(tf.sub(dx, expected))).dataSync()[0]).toBeLessThan(1e-6);
    });
    // One fused kernel, not tfjs's ones + broadcasting multiply + division.
    const x = tf.randomNormal([4, 8, 8, 64]);
    const profile = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mean(t, [1, 2])))(x));
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain('BnlabMeanGrad');
    expect(names).not.toContain('RealDiv');
    tf.dispose([x, profile.result as tf.Tensor]);
  });
});
