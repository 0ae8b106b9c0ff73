/**
 * batchNormTraining (the fused training-mode batch norm) against independent references:
 * float64 closed-form statistics, tfjs's own composition `tf.moments` + `tf.batchNorm` on
 * the cpu backend for outputs and gradients, and central finite differences.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { isBnlabError } from '../../src/errors.js';
import { batchNormTraining } from '../../src/ops/batch_norm_training.js';
import { Rng } from '../../src/rng.js';
import { on, randn, relError } from '../support/backends.js';

const TOLERANCE = 1e-4;
const EPS = 1e-3;

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

/** Float64 mean and biased variance per channel of a [rows, C] view. */
function momentsF64(x: Float32Array, channels: number): { mean: Float64Array; variance: Float64Array } {
  const rows = x.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) mean[i % channels] += x[i] as number;
  for (let c = 0; c < channels; c++) mean[c] = (mean[c] as number) / rows;
  for (let i = 0; i < x.length; i++) variance[i % channels] += ((x[i] as number) - (mean[i % channels] as number)) ** 2;
  for (let c = 0; c < channels; c++) variance[c] = (variance[c] as number) / rows;
  return { mean, variance };
}

describe.each(['wasm', 'cpu'] as const)('batchNormTraining on %s', (backend) => {
  it.each([
    { shape: [4, 5, 5, 8] },
    { shape: [6, 3, 3, 3] }, // channels not a multiple of 4: the scalar paths
    { shape: [64, 10] },
    { shape: [2, 7] },
  ])('forward matches float64 closed form, shape $shape', async ({ shape }) => {
    const rng = new Rng(1);
    const n = shape.reduce((a, b) => a * b, 1);
    const c = shape[shape.length - 1] as number;
    const xv = randn(rng, n, 2);
    for (let i = 0; i < n; i++) xv[i] = (xv[i] as number) + (i % c); // per-channel offsets
    const g = randn(rng, c);
    const b = randn(rng, c);
    const [y, mean, variance] = await on(backend, () => {
      const r = batchNormTraining(tf.tensor(xv, shape), { scale: tf.tensor1d(g), offset: tf.tensor1d(b), epsilon: EPS });
      return [r.y, r.mean, r.variance];
    });
    const ref = momentsF64(xv, c);
    const yRef = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = i % c;
      yRef[i] =
        ((g[k] as number) * ((xv[i] as number) - (ref.mean[k] as number))) / Math.sqrt((ref.variance[k] as number) + EPS) +
        (b[k] as number);
    }
    expect(relError(mean as Float32Array, ref.mean)).toBeLessThanOrEqual(TOLERANCE);
    expect(relError(variance as Float32Array, ref.variance)).toBeLessThanOrEqual(TOLERANCE);
    expect(relError(y as Float32Array, yRef)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('keeps precision when |mean| is far above the std (two-pass variance)', async () => {
    const rows = 4096;
    const xv = new Float32Array(rows * 4);
    for (let i = 0; i < xv.length; i++) xv[i] = 1e4 + ((i >> 2) % 2 === 0 ? -1 : 1); // std exactly 1
    const [variance] = await on(backend, () => [batchNormTraining(tf.tensor2d(xv, [rows, 4])).variance]);
    for (const v of variance as Float32Array) expect(Math.abs(v - 1)).toBeLessThan(1e-3);
  });

  it('keeps precision when the first row lies far out in its channel (second variance pass)', async () => {
    // Mean square of x − x[0] about 7,000 times the variance: a one-pass variance (mean
    // square − squared mean) in float32 sums loses about three digits here.
    const rows = 8192;
    const c = 4;
    const rng = new Rng(3);
    const xv = randn(rng, rows * c, 1);
    for (let i = 0; i < xv.length; i++) xv[i] = (xv[i] as number) + 1e3 + (i < c ? 200 * (1 + (i % 2)) : 0);
    const [mean, variance, y] = await on(backend, () => {
      const r = batchNormTraining(tf.tensor2d(xv, [rows, c]), { epsilon: EPS });
      return [r.mean, r.variance, r.y];
    });
    const ref = momentsF64(xv, c);
    const yRef = Float64Array.from(xv, (v, i) => (v - (ref.mean[i % c] as number)) / Math.sqrt((ref.variance[i % c] as number) + EPS));
    expect(relError(mean as Float32Array, ref.mean)).toBeLessThanOrEqual(TOLERANCE);
    expect(relError(variance as Float32Array, ref.variance)).toBeLessThanOrEqual(1e-5);
    expect(relError(y as Float32Array, yRef)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('takes the second variance pass when the one-pass sum of squares overflows float32', async () => {
    // First row 0, the others 2e18 ± 1e10: (x − x[0])² = 4e36 per row overflows a float32
    // block sum after ~85 rows, while the variance (≈ 3.9e33) is finite in float32.
    const rows = 1024;
    const c = 4;
    const xv = new Float32Array(rows * c);
    for (let i = c; i < xv.length; i++) xv[i] = 2e18 + ((i >> 2) % 2 === 0 ? -1e10 : 1e10);
    const [variance] = await on(backend, () => [batchNormTraining(tf.tensor2d(xv, [rows, c])).variance]);
    const ref = momentsF64(xv, c);
    for (const v of variance as Float32Array) expect(Number.isFinite(v)).toBe(true);
    expect(relError(variance as Float32Array, ref.variance)).toBeLessThanOrEqual(1e-5);
  });

  it('has a gradient of its gradient (double backprop, e.g. a gradient penalty) matching tf.moments + tf.batchNorm on cpu', async () => {
    const shape = [6, 2, 3];
    const rng = new Rng(11);
    const xv = randn(rng, 36, 1.3);
    const gv = randn(rng, 3);
    const w = randn(rng, 36);
    const a = randn(rng, 3);
    const b = randn(rng, 3);
    // L(x, γ) = Σ w·y³ + Σ a·mean + Σ b·variance²; the penalty P = Σ (∂L/∂x)² + Σ (∂L/∂γ)²,
    // differentiated again with respect to x and γ.
    const penaltyGrads = (stats: (x: tf.Tensor, g: tf.Tensor) => { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor }) =>
      tf.grads((x: tf.Tensor, g: tf.Tensor) => {
        const [dx, dg] = tf.grads((x: tf.Tensor, g: tf.Tensor) => {
          const r = stats(x, g);
          return tf.addN([
            tf.sum(tf.mul(tf.pow(r.y, 3), tf.tensor(w, shape))),
            tf.sum(tf.mul(r.mean, tf.tensor1d(a))),
            tf.sum(tf.mul(tf.square(r.variance), tf.tensor1d(b))),
          ]) as tf.Scalar;
        })([x, g]);
        return tf.add(tf.sum(tf.square(dx as tf.Tensor)), tf.sum(tf.square(dg as tf.Tensor))) as tf.Scalar;
      })([tf.tensor(xv, shape), tf.tensor1d(gv)]);
    const fused = await on(backend, () => penaltyGrads((x, g) => batchNormTraining(x, { scale: g as tf.Tensor1D, epsilon: EPS })));
    const reference = await on('cpu', () =>
      penaltyGrads((x, g) => {
        const { mean, variance } = tf.moments(x, [0, 1]);
        return { y: tf.batchNorm(x as tf.Tensor3D, mean, variance, tf.zeros([3]), g as tf.Tensor1D, EPS), mean, variance };
      }),
    );
    expect(relError(fused[0] as Float32Array, reference[0] as Float32Array)).toBeLessThanOrEqual(1e-4);
    expect(relError(fused[1] as Float32Array, reference[1] as Float32Array)).toBeLessThanOrEqual(1e-4);
  });

  it('gradients for x, scale and offset (through y, mean and variance) match tf.moments + tf.batchNorm on cpu', async () => {
    const shape = [5, 4, 3, 8];
    const rng = new Rng(2);
    const n = 5 * 4 * 3 * 8;
    const xv = randn(rng, n, 1.5);
    const gv = randn(rng, 8);
    const bv = randn(rng, 8);
    const ry = randn(new Rng(3), n);
    const rm = randn(new Rng(4), 8);
    const rv = randn(new Rng(5), 8);
    const loss = (y: tf.Tensor, m: tf.Tensor, v: tf.Tensor): tf.Scalar =>
      tf.add(
        tf.add(tf.sum(tf.mul(y, tf.tensor(ry, shape))), tf.sum(tf.mul(m, tf.tensor1d(rm)))),
        tf.sum(tf.mul(v, tf.tensor1d(rv))),
      ) as tf.Scalar;
    const fused = await on(backend, () => {
      const grads = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const r = batchNormTraining(x, { scale: g as tf.Tensor1D, offset: b as tf.Tensor1D, epsilon: EPS });
        return loss(r.y, r.mean, r.variance);
      });
      return grads([tf.tensor(xv, shape), tf.tensor1d(gv), tf.tensor1d(bv)]);
    });
    const reference = await on('cpu', () => {
      const grads = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const y = tf.batchNorm(x as tf.Tensor4D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, EPS);
        return loss(y, mean, variance);
      });
      return grads([tf.tensor(xv, shape), tf.tensor1d(gv), tf.tensor1d(bv)]);
    });
    fused.forEach((f, i) => expect(relError(f, reference[i] as Float32Array)).toBeLessThanOrEqual(TOLERANCE));
  });

  it.each([8, 3])('normalizes 1e5 ± 1 as accurately as data near zero (y and the x gradient, %i channels)', async (c) => {
    // Centred with a float32 mean, each value would be off by up to ulp(1e5)/2 ≈ 0.004 (in
    // units of the spread); shifted by the first row first, the error is float32 rounding.
    const rows = 512;
    const rng = new Rng(9);
    const xv = randn(rng, rows * c);
    for (let i = 0; i < xv.length; i++) xv[i] = 1e5 + (xv[i] as number);
    const r = randn(new Rng(10), rows * c);
    const [y, dx] = await on(backend, () => {
      const x = tf.tensor2d(xv, [rows, c]);
      const proj = tf.tensor2d(r, [rows, c]);
      return [batchNormTraining(x).y, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(t).y, proj)))(x)];
    });
    // Float64 closed forms: xhat = (x − μ)/σ, dx = (dy − mean(dy) − xhat · mean(dy · xhat)) / σ.
    const { mean, variance } = momentsF64(xv, c);
    const yRef = new Float64Array(rows * c);
    const dxRef = new Float64Array(rows * c);
    for (let k = 0; k < c; k++) {
      const sd = Math.sqrt((variance[k] as number) + EPS);
      let mdy = 0;
      let mdyx = 0;
      for (let i = k; i < rows * c; i += c) {
        yRef[i] = ((xv[i] as number) - (mean[k] as number)) / sd;
        mdy += (r[i] as number) / rows;
        mdyx += ((r[i] as number) * (yRef[i] as number)) / rows;
      }
      for (let i = k; i < rows * c; i += c) dxRef[i] = ((r[i] as number) - mdy - (yRef[i] as number) * mdyx) / sd;
    }
    expect(relError(y as Float32Array, yRef)).toBeLessThanOrEqual(1e-5);
    expect(relError(dx as Float32Array, dxRef)).toBeLessThanOrEqual(1e-5);
  });

  it('the x gradient matches central finite differences (float64 forward)', async () => {
    const shape: [number, number] = [6, 3];
    const rng = new Rng(6);
    const xv = randn(rng, 18);
    const gv = randn(rng, 3);
    const r = randn(new Rng(7), 18);
    const [dx] = await on(backend, () => [
      tf.grad((x: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(x, { scale: tf.tensor1d(gv), epsilon: EPS }).y, tf.tensor2d(r, shape))))(
        tf.tensor2d(xv, shape),
      ),
    ]);
    const f = (x: Float64Array): number => {
      const xf = Float32Array.from(x);
      const { mean, variance } = momentsF64(xf, 3);
      let s = 0;
      for (let i = 0; i < 18; i++)
        s +=
          ((r[i] as number) * (gv[i % 3] as number) * ((x[i] as number) - (mean[i % 3] as number))) /
          Math.sqrt((variance[i % 3] as number) + EPS);
      return s;
    };
    const h = 1e-3;
    const fd = new Float64Array(18);
    for (let i = 0; i < 18; i++) {
      const up = Float64Array.from(xv);
      const down = Float64Array.from(xv);
      up[i] = (up[i] as number) + h;
      down[i] = (down[i] as number) - h;
      fd[i] = (f(up) - f(down)) / (2 * h);
    }
    expect(relError(dx as Float32Array, fd)).toBeLessThanOrEqual(1e-3); // finite-difference truncation
  });

  it('works without scale and offset and leaves no tensors behind', async () => {
    tf.setBackend(backend);
    const x = tf.tensor2d(randn(new Rng(8), 40), [10, 4]);
    const before = tf.memory().numTensors;
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.square(batchNormTraining(t).y)))(x));
    expect(tf.memory().numTensors).toBe(before + 1);
    g.dispose();
    x.dispose();
  });
});

describe('batchNormTraining rejects bad input', () => {
  it.each([
    ['rank 1 x', () => batchNormTraining(tf.ones([4]))],
    ['int32 x', () => batchNormTraining(tf.ones([2, 4], 'int32'))],
    ['scale of the wrong length', () => batchNormTraining(tf.ones([2, 4]), { scale: tf.ones([3]) as tf.Tensor1D })],
    ['offset of the wrong rank', () => batchNormTraining(tf.ones([2, 4]), { offset: tf.ones([1, 4]) as unknown as tf.Tensor1D })],
    ['epsilon 0', () => batchNormTraining(tf.ones([2, 4]), { epsilon: 0 })],
  ])('%s', (_label, call) => {
    let caught: unknown;
    try {
      tf.tidy(() => {
        call();
      });
    } catch (e) {
      caught = e;
    }
    expect(isBnlabError(caught)).toBe(true);
  });
});
