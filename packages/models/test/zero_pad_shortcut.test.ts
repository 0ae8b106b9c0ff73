import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, Rng } from '@bnlab/core';
import type { BackendName } from '@bnlab/core';
import { ZeroPadShortcut, zeroPadShortcut } from '../src/index.js';
import { errorOf } from './support/error_of';

// The option-A shortcut is pure data movement (copy, subsample, append zeros), so every
// expected value below is exact: the references are written out by hand or from the
// definition y[n, i, j, c] = x[n, i·s, j·s, c] (c < C_in), 0 (C_in ≤ c < channels).

/** Starts a backend, refusing a silent fallback (a wasm test must run on wasm). */
async function useBackend(backend: BackendName): Promise<void> {
  const info = await initBackend({ backend, strict: true });
  if (info.backend !== backend) throw new Error(`wanted the ${backend} backend, got ${info.backend}`);
}

beforeAll(async () => {
  await useBackend('wasm');
});
afterAll(async () => {
  await useBackend('wasm');
});

/** The layer in a one-layer model on inputs of `shape` (batch axis left out). */
function modelOf(shape: number[], args: ConstructorParameters<typeof ZeroPadShortcut>[0]): tfl.LayersModel {
  return tfl.sequential({ layers: [zeroPadShortcut({ ...args, inputShape: shape })] });
}

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal(0, 1));
}

/** The definition, in plain loops: x[n, i·s, j·s, c] for c < C_in, zeros after. */
function reference(x: Float32Array, [n, h, w, c]: number[], s: number, channels: number): Float32Array {
  const rows = Math.ceil(h / s);
  const cols = Math.ceil(w / s);
  const out = new Float32Array(n * rows * cols * channels);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++)
        for (let k = 0; k < c; k++) out[((b * rows + i) * cols + j) * channels + k] = x[((b * h + i * s) * w + j * s) * c + k]!;
  return out;
}

describe('ZeroPadShortcut forward', () => {
  test('a 3×3×2 input, stride 2, 4 channels: hand-computed', () => {
    // x[i][j][c] = 100·c + 10·i + j. Stride 2 keeps rows and columns 0 and 2; channels 2 and 3 are zeros.
    const x = tf.tensor4d([0, 100, 1, 101, 2, 102, 10, 110, 11, 111, 12, 112, 20, 120, 21, 121, 22, 122], [1, 3, 3, 2]);
    const y = modelOf([3, 3, 2], { strides: 2, channels: 4 }).predict(x) as tf.Tensor;
    expect(y.shape).toEqual([1, 2, 2, 4]);
    expect(Array.from(y.dataSync())).toEqual([
      0, 100, 0, 0, /* (0, 2) */ 2, 102, 0, 0, /* (2, 0) */ 20, 120, 0, 0, /* (2, 2) */ 22, 122, 0, 0,
    ]);
  });

  test('stride 1 only appends zero channels; no change at all by default', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(Array.from((modelOf([2, 2, 1], { channels: 3 }).predict(x) as tf.Tensor).dataSync())).toEqual([
      1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0,
    ]);
    expect(Array.from((modelOf([2, 2, 1], {}).predict(x) as tf.Tensor).dataSync())).toEqual([1, 2, 3, 4]);
  });

  test.each([
    ['even sides, stride 2', [2, 8, 6, 3], 2, 5],
    ['odd sides, stride 2', [3, 7, 5, 2], 2, 4],
    ['stride 3, no extra channels', [1, 7, 8, 4], 3, 4],
  ] as const)('%s equals the definition', (_, shape, strides, channels) => {
    const values = randomValues(
      shape.reduce((a: number, b) => a * b, 1),
      11,
    );
    const m = modelOf(shape.slice(1), { strides, channels });
    const y = m.predict(tf.tensor4d(values, [...shape] as [number, number, number, number])) as tf.Tensor;
    expect(y.shape).toEqual([shape[0], Math.ceil(shape[1] / strides), Math.ceil(shape[2] / strides), channels]);
    expect(m.outputs[0]!.shape).toEqual([null, ...y.shape.slice(1)]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(reference(values, [...shape], strides, channels)));
  });
});

// loss = Σ w ⊙ y for fixed w; its input gradient, by hand: w at the sampled positions of the
// input's channels, 0 everywhere else.
const SHAPE = [2, 5, 4, 3] as const;
const STRIDES = 2;
const CHANNELS = 5;
const OUT = [2, 3, 2, CHANNELS] as const; // ceil(5 / 2) = 3, ceil(4 / 2) = 2

function gradientByHand(w: Float32Array): Float32Array {
  const [n, h, wd, c] = SHAPE;
  const g = new Float32Array(n * h * wd * c);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i += STRIDES)
      for (let j = 0; j < wd; j += STRIDES)
        for (let k = 0; k < c; k++) {
          g[((b * h + i) * wd + j) * c + k] = w[((b * OUT[1] + i / STRIDES) * OUT[2] + j / STRIDES) * CHANNELS + k]!;
        }
  return g;
}

/** The input gradient of Σ w ⊙ layer(x), in training mode, on the active backend. */
function gradientOf(xValues: Float32Array, wValues: Float32Array): { y: Float32Array; dx: Float32Array } {
  const layer = zeroPadShortcut({ strides: STRIDES, channels: CHANNELS });
  const x = tf.tensor4d(xValues, [...SHAPE]);
  const w = tf.tensor4d(wValues, [...OUT]);
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t, { training: true }) as tf.Tensor, w)))(x);
  return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
}

describe('ZeroPadShortcut gradient', () => {
  const xValues = randomValues(
    SHAPE.reduce((a: number, b) => a * b, 1),
    21,
  );
  const wValues = randomValues(
    OUT.reduce((a: number, b) => a * b, 1),
    22,
  );

  test('equals the hand-derived gradient', () => {
    expect(Array.from(gradientOf(xValues, wValues).dx)).toEqual(Array.from(gradientByHand(wValues)));
  });

  test('matches central finite differences of the loss', () => {
    // The loss is linear in x, so a central difference is exact up to float32 rounding of
    // x ± h (|x| ≲ 4, h = 1/16: about 2e-7 absolute per step) and of the float64 sum below.
    const h = 1 / 16;
    const TOL = 1e-4;
    const layer = zeroPadShortcut({ strides: STRIDES, channels: CHANNELS });
    const loss = (values: Float32Array): number => {
      const y = (layer.apply(tf.tensor4d(values, [...SHAPE])) as tf.Tensor).dataSync();
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i]! * wValues[i]!;
      return s;
    };
    const { dx } = gradientOf(xValues, wValues);
    const probe = xValues.slice();
    for (let i = 0; i < probe.length; i++) {
      probe[i] = xValues[i]! + h;
      const up = loss(probe);
      probe[i] = xValues[i]! - h;
      const down = loss(probe);
      probe[i] = xValues[i]!;
      expect(Math.abs((up - down) / (2 * h) - dx[i]!)).toBeLessThan(TOL);
    }
  });

  test("bnlab's wasm backend gives exactly the cpu backend's output and gradient", async () => {
    await useBackend('wasm');
    const onWasm = gradientOf(xValues, wValues);
    await useBackend('cpu');
    const onCpu = gradientOf(xValues, wValues);
    await useBackend('wasm');
    expect(Array.from(onWasm.y)).toEqual(Array.from(onCpu.y));
    expect(Array.from(onWasm.dx)).toEqual(Array.from(onCpu.dx));
    expect(Array.from(onWasm.y)).toEqual(Array.from(reference(xValues, [...SHAPE], STRIDES, CHANNELS)));
  });
});

describe('ZeroPadShortcut options and saving', () => {
  test.each([
    ['a zero stride', () => zeroPadShortcut({ strides: 0 }), 'ZeroPadShortcut: `strides` (0) must be a positive integer', 'strides'],
    [
      'a fractional channel count',
      () => zeroPadShortcut({ channels: 2.5 }),
      'ZeroPadShortcut: `channels` (2.5) must be a positive integer',
      'channels',
    ],
    [
      'fewer channels than the input',
      () => modelOf([4, 4, 8], { channels: 4 }),
      "ZeroPadShortcut: `channels` (4) must be at least the input's channels (8)",
      'channels',
    ],
    ['a flat input', () => modelOf([16], {}), 'ZeroPadShortcut: the input must have rank 4', undefined],
  ])('%s is an error naming the field', (_, fn, message, where) => {
    const e = errorOf(fn);
    expect(e.message).toContain(message);
    expect(e.where).toBe(where);
  });

  test('getConfig returns what was passed; a saved model loads as the same layer with the same outputs', async () => {
    const given = modelOf([5, 5, 2], { strides: 2, channels: 3 });
    const byDefault = modelOf([5, 5, 2], {});
    expect(given.layers[0]!.getConfig()).toMatchObject({ strides: 2, channels: 3 });
    expect(byDefault.layers[0]!.getConfig()).toMatchObject({ strides: 1, channels: null });
    for (const m of [given, byDefault]) {
      const saved: { artifacts?: tf.io.ModelArtifacts } = {};
      await m.save(
        tf.io.withSaveHandler(async (artifacts) => {
          saved.artifacts = artifacts;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      expect(JSON.stringify(saved.artifacts!.modelTopology)).toContain('"class_name":"bnlab>ZeroPadShortcut"');
      const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved.artifacts!));
      expect(loaded.layers[0]).toBeInstanceOf(ZeroPadShortcut);
      const x = tf.tensor4d(randomValues(50, 5), [1, 5, 5, 2]);
      expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()));
    }
  });
});
