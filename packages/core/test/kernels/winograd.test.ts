/**
 * Winograd F(4×4, 3×3) convolutions on the wasm backend (forward with bias and ReLU, filter
 * gradient, input gradient) against a float64 direct convolution written out here, on
 * shapes whose edges cut the 4×4 tiles in every way, with batches larger than one slice.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { setWinograd, winogradApplies, winogradAppliesToInputGrad, winogradEnabled } from '../../src/kernels/winograd.js';
import { Rng } from '../../src/rng.js';
import { randn, relError } from '../support/backends.js';

/** Relative error allowed against float64 (measured: 1e-6 to 1.1e-5 on these shapes). */
const TOLERANCE = 5e-5;

beforeAll(async () => {
  const info = await initBackend({ strict: true });
  expect(info.backend).toBe('wasm');
});

afterEach(() => setWinograd(true));

interface Case {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
}

/**
 * float64 direct convolution (3×3, stride 1, zero padding as tfjs pads `c.pad`) of x
 * [b, h, w, ci] with g [3, 3, ci, co]; with `r` (the output gradient), also dx and dg of
 * Σ y ⊙ r, by the same sums read the other way.
 */
function reference(c: Case, x: Float32Array, g: Float32Array, bias: Float32Array, relu: boolean, r: Float32Array) {
  // Output size and padding by tfjs's rules; the sums below are written out independently.
  const { outHeight: oh, outWidth: ow, padInfo } = info(c);
  const { top, left } = padInfo;
  const y = new Float64Array(c.b * oh * ow * c.co);
  const dx = new Float64Array(x.length);
  const dg = new Float64Array(g.length);
  for (let b = 0; b < c.b; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let o = 0; o < c.co; o++) {
          const at = ((b * oh + i) * ow + j) * c.co + o;
          let s = bias[o] as number;
          for (let u = 0; u < 3; u++)
            for (let v = 0; v < 3; v++) {
              const hh = i + u - top;
              const ww = j + v - left;
              if (hh < 0 || hh >= c.h || ww < 0 || ww >= c.w) continue;
              for (let k = 0; k < c.ci; k++) {
                const xi = ((b * c.h + hh) * c.w + ww) * c.ci + k;
                const gi = ((u * 3 + v) * c.ci + k) * c.co + o;
                s += (x[xi] as number) * (g[gi] as number);
                dx[xi] = (dx[xi] as number) + (r[at] as number) * (g[gi] as number);
                dg[gi] = (dg[gi] as number) + (r[at] as number) * (x[xi] as number);
              }
            }
          y[at] = relu ? Math.max(s, 0) : s;
        }
  return { y, dx, dg, shape: [c.b, oh, ow, c.co] };
}

function info(c: Case): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo([c.b, c.h, c.w, c.ci], [3, 3, c.ci, c.co], 1, 1, c.pad);
}

const CASES: Case[] = [
  { b: 20, h: 13, w: 13, ci: 32, co: 64, pad: 'valid' }, // the benchmark CNN's 2nd layer; 3 slices, the last partial
  { b: 3, h: 5, w: 5, ci: 64, co: 64, pad: 'valid' }, // its 3rd layer: one tile reading past the image (dx direct)
  { b: 2, h: 9, w: 10, ci: 8, co: 12, pad: 'same' }, // tiles cut at 1 and 2 outputs
  { b: 1, h: 11, w: 7, ci: 12, co: 8, pad: 2 }, // numeric padding: 13 × 9 outputs
  { b: 2, h: 8, w: 8, ci: 16, co: 8, pad: 1 }, // whole tiles
  {
    b: 2,
    h: 9,
    w: 10,
    ci: 12,
    co: 20,
    pad: [
      [0, 0],
      [0, 3],
      [2, 1],
      [0, 0],
    ],
  }, // explicit, uneven padding; co not a multiple of 8
  { b: 1, h: 12, w: 11, ci: 8, co: 8, pad: 5 }, // padding wider than the filter (dx by the adjoint transforms)
  { b: 2, h: 100, w: 98, ci: 8, co: 8, pad: 'valid' }, // filter-gradient products 600 deep (two K slices of 300), one image per slice
];

describe('Winograd F(4×4, 3×3) convolutions on wasm', () => {
  it.each(CASES)('forward (bias, ReLU), input and filter gradients match float64: %o', (c) => {
    expect(winogradApplies(info(c))).toBe(true);
    const rng = new Rng(c.b * 1000 + c.h * 10 + c.ci);
    const x = randn(rng, c.b * c.h * c.w * c.ci);
    const g = randn(rng, 9 * c.ci * c.co, 0.2);
    const bias = randn(rng, c.co);
    const ref = reference(c, x, g, bias, true, new Float32Array(0));
    const r = randn(rng, ref.y.length);
    const grads = reference(c, x, g, new Float32Array(c.co), false, r);

    const run = () =>
      tf.tidy(() => {
        const xs = tf.tensor4d(x, [c.b, c.h, c.w, c.ci]);
        const fresh = () => tf.tensor4d(g, [3, 3, c.ci, c.co]);
        const y = tf.fused.conv2d({ x: xs, filter: fresh(), strides: 1, pad: c.pad, bias: tf.tensor1d(bias), activation: 'relu' });
        const rt = tf.tensor(r, ref.shape);
        const [dx, dg] = tf.grads((a: tf.Tensor, f: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, c.pad), rt)),
        )([xs, fresh()]);
        return [y, dx, dg].map((t) => (t as tf.Tensor).dataSync() as Float32Array);
      });
    const [y, dx, dg] = run() as [Float32Array, Float32Array, Float32Array];
    expect(relError(y, ref.y)).toBeLessThan(TOLERANCE);
    expect(relError(dx, grads.dx)).toBeLessThan(TOLERANCE);
    expect(relError(dg, grads.dg)).toBeLessThan(TOLERANCE);

    // The same through the patch-matrix GEMM: equal within rounding but not bit for bit,
    // which shows the Winograd path ran above (for dx only where it applies to dx).
    const dxWinograd = winogradAppliesToInputGrad(info(c));
    setWinograd(false);
    const direct = run();
    direct.forEach((d, i) => {
      const w = [y, dx, dg][i] as Float32Array;
      expect(relError(d, w)).toBeLessThan(TOLERANCE);
      expect(d.some((v, j) => v !== w[j])).toBe(i === 1 ? dxWinograd : true);
    });
  });

  it('applies only to 3×3 stride-1 channels-last convolutions with ≥ 8 channels (multiples of 4) and enough outputs', () => {
    const conv = (
      x: [number, number, number, number],
      f: [number, number, number, number],
      strides = 1,
      pad: 'valid' | 'same' = 'valid',
      dil = 1,
    ) => winogradApplies(tf.backend_util.computeConv2DInfo(x, f, strides, dil, pad));
    expect(conv([64, 13, 13, 32], [3, 3, 32, 64])).toBe(true);
    expect(conv([1, 4, 4, 8], [3, 3, 8, 8])).toBe(false); // a 2×2 output: one tile costs as much as direct
    expect(conv([1, 13, 13, 32], [3, 3, 32, 64], 2)).toBe(false);
    expect(conv([1, 13, 13, 32], [3, 3, 32, 64], 1, 'same', 2)).toBe(false);
    expect(conv([1, 13, 13, 32], [5, 5, 32, 64])).toBe(false);
    expect(conv([1, 13, 13, 3], [3, 3, 3, 64])).toBe(false);
    expect(conv([1, 13, 13, 4], [3, 3, 4, 64])).toBe(false);
    expect(conv([1, 13, 13, 30], [3, 3, 30, 64])).toBe(false);
    expect(conv([1, 13, 13, 32], [3, 3, 32, 10])).toBe(false);
    const channelsFirst = tf.backend_util.computeConv2DInfo(
      [1, 32, 13, 13],
      [3, 3, 32, 64],
      1,
      1,
      'valid',
      undefined,
      false,
      'channelsFirst',
    );
    expect(winogradApplies(channelsFirst)).toBe(false);
    setWinograd(false);
    expect(winogradEnabled()).toBe(false);
    expect(conv([64, 13, 13, 32], [3, 3, 32, 64])).toBe(false);
  });

  it('computes the input gradient only where its blocks over dx cost at most 40% of the direct sums', () => {
    const dx = (s: number, pad: 'valid' | 'same' = 'valid') =>
      winogradAppliesToInputGrad(tf.backend_util.computeConv2DInfo([64, s, s, 64], [3, 3, 64, 64], 1, 1, pad));
    expect(dx(13)).toBe(true); // the benchmark CNN's 2nd layer: 16 blocks, 38%
    expect(dx(5)).toBe(false); // its 3rd layer: 4 blocks over 5×5, 64% (measured 0.5× the direct)
    expect(dx(6)).toBe(false); // 44%
    expect(dx(9)).toBe(false); // 44%
    expect(dx(10)).toBe(true); // 36%
    expect(dx(32, 'same')).toBe(true); // ResNet-20's first stage: 25%
    expect(dx(4)).toBe(false); // the forward pass stays direct (a 2×2 output), so does dx
    setWinograd(false);
    expect(dx(13)).toBe(false);
  });

  it('a filter used again (inference) runs as Winograd too, not on XNNPACK', () => {
    const c: Case = { b: 3, h: 13, w: 13, ci: 32, co: 64, pad: 'valid' };
    const x = randn(new Rng(7), c.b * c.h * c.w * c.ci);
    const g = randn(new Rng(8), 9 * c.ci * c.co, 0.2);
    const [first, second] = tf.tidy(() => {
      const xs = tf.tensor4d(x, [c.b, c.h, c.w, c.ci]);
      const f = tf.tensor4d(g, [3, 3, c.ci, c.co]);
      return [tf.conv2d(xs, f, 1, 'valid'), tf.conv2d(xs, f, 1, 'valid')].map((t) => t.dataSync() as Float32Array);
    }) as [Float32Array, Float32Array];
    // Bit for bit: the same algorithm both times (XNNPACK's rounding differs).
    expect(Array.from(second)).toEqual(Array.from(first));
    const ref = reference(c, x, g, new Float32Array(c.co), false, new Float32Array(0));
    expect(relError(second, ref.y)).toBeLessThan(TOLERANCE);
  });

  it('initBackend({ winograd: false }) keeps the direct convolution and reports the choice', async () => {
    const off = await initBackend({ strict: true, winograd: false });
    expect(off.winograd).toBe(false);
    expect(winogradEnabled()).toBe(false);
    const on = await initBackend({ strict: true });
    expect(on.winograd).toBe(true);
    expect(winogradEnabled()).toBe(true);
    const cpu = await initBackend({ backend: 'cpu' });
    expect(cpu.winograd).toBe(false);
    await initBackend({ strict: true });
  });

  it('a non-finite input makes its tiles non-finite, never finite garbage', () => {
    const c: Case = { b: 1, h: 10, w: 10, ci: 8, co: 8, pad: 'valid' };
    const x = randn(new Rng(5), c.b * c.h * c.w * c.ci);
    x[((0 * c.h + 1) * c.w + 1) * c.ci] = NaN; // read by outputs (0..1, 0..1), all in the first tile
    const g = randn(new Rng(6), 9 * c.ci * c.co);
    const y = tf.tidy(() => tf.conv2d(tf.tensor4d(x, [1, 10, 10, 8]), tf.tensor4d(g, [3, 3, 8, 8]), 1, 'valid').dataSync() as Float32Array);
    const ref = reference(c, x, g, new Float32Array(8), false, new Float32Array(0));
    for (let i = 0; i < y.length; i++) {
      if (Number.isNaN(ref.y[i])) expect(y[i]).toBeNaN();
      else if (Number.isFinite(y[i])) expect(Math.abs((y[i] as number) - (ref.y[i] as number))).toBeLessThan(1e-3);
    }
    // Outputs of the other tiles do not read the NaN.
    const pixel = (i: number, j: number) => y[(i * 8 + j) * 8] as number;
    expect(Number.isFinite(pixel(4, 4))).toBe(true);
    expect(Number.isFinite(pixel(7, 0))).toBe(true);
  });
});
