import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initBackend } from '@bnlab/core';
import { kernelInitializer, kerasCnn, mlp } from '../src/index.js';

beforeAll(async () => {
  await initBackend();
});

/** Mean and (population) standard deviation of a layer's kernel, plus its largest |value|. */
function kernelStats(model: LayersModel, layer: string): { mean: number; std: number; maxAbs: number } {
  const values = model.getLayer(layer).getWeights()[0]!.dataSync();
  let sum = 0;
  let maxAbs = 0;
  for (const v of values) {
    sum += v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length), maxAbs };
}

// The first dense layer of the MLP: a 784×128 kernel (100,352 values), so sample statistics
// are within a fraction of a percent of the closed forms below.
const FAN_IN = 784;
const FAN_OUT = 128;

describe('kernel initializers', () => {
  test('the default is Glorot uniform: U(±sqrt(6 / (fanIn + fanOut))), std sqrt(2 / (fanIn + fanOut))', () => {
    const s = kernelStats(mlp({ options: { seed: 1 } }), 'block1_dense');
    const limit = Math.sqrt(6 / (FAN_IN + FAN_OUT)); // 0.081111
    expect(s.std).toBeCloseTo(Math.sqrt(2 / (FAN_IN + FAN_OUT)), 3); // 0.046829
    expect(s.maxAbs).toBeLessThanOrEqual(limit);
    expect(s.maxAbs).toBeGreaterThan(0.99 * limit);
    expect(Math.abs(s.mean)).toBeLessThan(1e-3);
  });

  test('kernelInitializerScale 10 makes every kernel ten times wider (the badly scaled initialization)', () => {
    const base = mlp({ options: { seed: 1 } });
    const wide = mlp({ options: { seed: 1, kernelInitializerScale: 10 } });
    const limit = 10 * Math.sqrt(6 / (FAN_IN + FAN_OUT));
    const s = kernelStats(wide, 'block1_dense');
    expect(s.std / Math.sqrt(2 / (FAN_IN + FAN_OUT))).toBeCloseTo(10, 1);
    expect(s.maxAbs).toBeLessThanOrEqual(limit * (1 + 1e-6));
    expect(s.maxAbs).toBeGreaterThan(0.99 * limit);
    // Every kernel, the classifier's included, with the same draw scaled: 10× elementwise.
    for (const layer of ['block1_dense', 'block2_dense', 'classifier']) {
      const a = base.getLayer(layer).getWeights()[0]!;
      const b = wide.getLayer(layer).getWeights()[0]!;
      expect(tf.max(tf.abs(tf.sub(tf.mul(a, 10), b))).dataSync()[0]).toBeLessThan(1e-5);
    }
    // Conv kernels too: 3·3·1 → 32 has fanIn 9, fanOut 288, std sqrt(2 / 297) · 10 = 0.8206.
    const conv = kernelStats(kerasCnn({ options: { seed: 2, kernelInitializerScale: 10 } }), 'block1_conv');
    expect(conv.maxAbs).toBeLessThanOrEqual(10 * Math.sqrt(6 / 297) * (1 + 1e-6));
    expect(conv.std).toBeGreaterThan(0.8 * 0.8206);
    expect(conv.std).toBeLessThan(1.2 * 0.8206);
  });

  test("{ name: 'randomNormal', stddev: 10 } draws N(0, 10²) whatever the fan", () => {
    const s = kernelStats(mlp({ options: { seed: 4, kernelInitializer: { name: 'randomNormal', stddev: 10 } } }), 'block1_dense');
    expect(s.std).toBeGreaterThan(9.9);
    expect(s.std).toBeLessThan(10.1);
    expect(Math.abs(s.mean)).toBeLessThan(0.1); // standard error 10 / sqrt(100352) = 0.03
  });

  test("heNormal is tfjs's truncated normal: std 0.8796 · sqrt(2 / fanIn), nothing beyond 2σ", () => {
    const s = kernelStats(mlp({ options: { seed: 5, kernelInitializer: 'heNormal' } }), 'block1_dense');
    const sigma = Math.sqrt(2 / FAN_IN);
    // Normal truncated at ±2σ: variance factor 1 − 4φ(2) / (Φ(2) − Φ(−2)) = 0.77374, sqrt 0.87962.
    expect(s.std / sigma).toBeCloseTo(0.8796, 2);
    expect(s.maxAbs).toBeLessThanOrEqual(2 * sigma * (1 + 1e-6));
  });

  test('randomUniform bounds are scaled too', () => {
    const init = kernelInitializer({ name: 'randomUniform', minval: -0.5, maxval: 1 }, 4, 9);
    const v = init.apply([200, 100]).dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThanOrEqual(4);
    expect(Math.min(...v)).toBeLessThan(-1.9);
    expect(Math.max(...v)).toBeGreaterThan(3.9);
  });

  test('the same seed builds the same weights; another seed, or none, different ones', () => {
    const weights = (m: LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    const a = weights(kerasCnn({ norm: { type: 'batch' }, options: { seed: 42 } }));
    const b = weights(kerasCnn({ norm: { type: 'batch' }, options: { seed: 42 } }));
    const c = weights(kerasCnn({ norm: { type: 'batch' }, options: { seed: 43 } }));
    const d = weights(kerasCnn({ norm: { type: 'batch' } }));
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(c[0]);
    expect(a[0]).not.toEqual(d[0]);
    // Each layer gets its own stream: two equal-shaped kernels are not copies of each other.
    const m = kerasCnn({ options: { seed: 42, filters: [8, 8, 8] } });
    expect(m.getLayer('block2_conv').getWeights()[0]!.dataSync()).not.toEqual(m.getLayer('block3_conv').getWeights()[0]!.dataSync());
  });
});
