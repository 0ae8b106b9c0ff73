/**
 * tfjs-layers' own BatchNormalization and LayerNormalization on bnlab's fused ops (wasm),
 * against the same layers on tfjs's cpu backend, where they run tfjs's own code: outputs,
 * gradients for the input, scale and offset, and the moving statistics after a training call.
 * The profile says which path ran; cases the fused ops do not cover must keep tfjs's code.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/init_backend.js';
import { useFusedTfjsNormalization, useStockTfjsNormalization } from '../../src/layers/tfjs_normalization.js';
import { Rng } from '../../src/rng.js';
import { on, randn, relError } from '../support/backends.js';

const TOLERANCE = 2e-5;

beforeAll(async () => {
  const info = await initBackend({ strict: true });
  expect(info.backend).toBe('wasm');
  expect(info.tfjsLayersAccelerated).toBe(true);
});

afterEach(() => useFusedTfjsNormalization());

type LayerFactory = () => tfl.layers.Layer;

interface Outcome {
  /** y, then d(Σ y·w)/dx, then the same for each trainable weight, then every weight after the call. */
  values: Float32Array[];
  kernels: string[];
}

/**
 * Builds the layer on `backend`, gives every weight seeded values (positive where it is a
 * variance), calls it on x (mean 3, spread 2) and differentiates Σ y·w for x and the
 * trainable weights. The same seed gives the same x and dy whatever the layer's weights.
 */
async function run(
  backend: 'wasm' | 'cpu',
  make: LayerFactory,
  shape: number[],
  training = true,
  weights?: (w: tf.Tensor[]) => tf.Tensor[],
): Promise<Outcome> {
  let kernels: string[] = [];
  const values = await on(backend, () => {
    const rng = new Rng(11);
    const size = shape.reduce((a, b) => a * b, 1);
    const x = tf.variable(tf.add(tf.tensor(randn(rng, size, 2), shape), 3));
    const dy = tf.tensor(randn(rng, size), shape);
    const layer = make();
    layer.apply(tf.zeros(shape), { training: false }); // builds it without touching the moving statistics
    const initial = layer.weights.map((w) => {
      const n = w.shape.reduce((a, b) => a! * b!, 1)!;
      const raw = randn(rng, n, 0.3);
      if (w.name.includes('variance'))
        return tf.tensor(
          raw.map((v) => 0.5 + Math.abs(v)),
          w.shape as number[],
        );
      if (w.name.includes('gamma'))
        return tf.tensor(
          raw.map((v) => 1 + v),
          w.shape as number[],
        );
      return tf.tensor(raw, w.shape as number[]);
    });
    layer.setWeights(weights ? weights(initial) : initial);
    const trainable = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    let y: tf.Tensor | undefined;
    const { grads } = tf.variableGrads(() => {
      y = tf.keep(layer.apply(x, { training }) as tf.Tensor);
      return tf.sum(tf.mul(y, dy)) as tf.Scalar;
    }, [x, ...trainable]);
    const out = [y!, grads[x.name]!, ...trainable.map((v) => grads[v.name]!), ...layer.weights.map((w) => tf.clone(w.read()))];
    x.dispose();
    layer.dispose();
    return out;
  });
  // Which kernels the same call runs (a second, profiled run of the forward and backward).
  tf.setBackend(backend);
  const layer = make();
  const x = tf.variable(tf.randomNormal(shape));
  const profile = await tf.profile(() => {
    tf.dispose(tf.variableGrads(() => tf.sum(layer.apply(x, { training }) as tf.Tensor) as tf.Scalar, [x]).grads);
  });
  kernels = profile.kernels.map((k) => k.name);
  x.dispose();
  layer.dispose();
  tf.setBackend('wasm');
  return { values, kernels };
}

function expectClose(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect({ index: i, error: relError(a, e) < TOLERANCE ? 'ok' : relError(a, e) }).toEqual({ index: i, error: 'ok' });
  });
}

describe("tfjs-layers' batchNormalization", () => {
  test.each([
    ['a conv activation [6, 5, 5, 7]', [6, 5, 5, 7]],
    ['a dense activation [16, 9]', [16, 9]],
    ['rank 3 [4, 10, 6]', [4, 10, 6]],
  ])('in training, %s: one fused kernel, the same outputs, gradients and moving statistics as tfjs on cpu', async (_name, shape) => {
    const make = () => tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
    const ours = await run('wasm', make, shape);
    const theirs = await run('cpu', make, shape);
    expect(ours.kernels).toContain('BnlabBatchNormTraining');
    expect(ours.kernels).toContain('BnlabBatchNormTrainingGrad');
    expect(theirs.kernels).not.toContain('BnlabBatchNormTraining');
    // y, dx, dgamma, dbeta, gamma, beta, moving mean, moving variance
    expect(ours.values).toHaveLength(8);
    expectClose(ours.values, theirs.values);
    // The moving statistics moved (momentum 0.9 towards the batch's mean of about 3).
    expect(relError(ours.values[6]!, (await run('wasm', make, shape, false)).values[6]!)).toBeGreaterThan(0.1);
  });

  test('inference keeps tfjs code (one FusedBatchNorm kernel already) and its results', async () => {
    const make = () => tfl.layers.batchNormalization({ momentum: 0.8 });
    const ours = await run('wasm', make, [6, 5, 5, 7], false);
    expect(ours.kernels).not.toContain('BnlabBatchNormTraining');
    expectClose(ours.values, (await run('cpu', make, [6, 5, 5, 7], false)).values);
  });

  test('channels-first (axis 1) keeps tfjs code and its forward results', async () => {
    // (Forward only: tfjs's own gradient of it fails on every backend, FusedBatchNorm's
    // gradient reshaping dγ to the broadcast shape.)
    const forward = (backend: 'wasm' | 'cpu') =>
      on(backend, () => {
        const layer = tfl.layers.batchNormalization({ axis: 1, momentum: 0.8 });
        const x = tf.add(tf.tensor4d(randn(new Rng(3), 4 * 3 * 5 * 5, 2), [4, 3, 5, 5]), 3);
        const y = layer.apply(x, { training: true }) as tf.Tensor;
        const out = [y, ...layer.weights.map((w) => tf.clone(w.read()))];
        layer.dispose();
        return out;
      });
    const ours = await forward('wasm');
    expect(ours).toHaveLength(5);
    expectClose(ours, await forward('cpu'));
    const layer = tfl.layers.batchNormalization({ axis: 1 });
    const profile = await tf.profile(() => tf.tidy(() => layer.apply(tf.ones([2, 3, 4, 4]), { training: true }) as tf.Tensor));
    expect(profile.kernels.map((k) => k.name)).not.toContain('BnlabBatchNormTraining');
    tf.dispose(profile.result);
    layer.dispose();
  });

  test('scale: false and center: false train (tfjs issue 2868: tfjs itself crashes) as γ = 1, β = 0 would', async () => {
    const shape = [8, 4, 4, 3];
    const ours = await run('wasm', () => tfl.layers.batchNormalization({ scale: false, center: false, momentum: 0.9 }), shape);
    const theirs = await run(
      'cpu',
      () => tfl.layers.batchNormalization({ momentum: 0.9 }),
      shape,
      true,
      ([, , m, v]) => [tf.ones([3]), tf.zeros([3]), m!, v!],
    );
    expect(ours.kernels).toContain('BnlabBatchNormTraining');
    // ours: y, dx, moving mean, moving variance; theirs: y, dx, dγ, dβ, γ, β, moving mean, moving variance
    expectClose(ours.values.slice(0, 2), theirs.values.slice(0, 2));
  });

  test('with the acceleration off, tfjs code runs on wasm', async () => {
    useStockTfjsNormalization();
    const shape = [6, 5, 5, 7];
    const make = () => tfl.layers.batchNormalization();
    const ours = await run('wasm', make, shape);
    expect(ours.kernels).not.toContain('BnlabBatchNormTraining');
    expectClose(ours.values, (await run('cpu', make, shape)).values);
  });
});

describe("tfjs-layers' layerNormalization", () => {
  test.each([
    ['the last axis of a conv activation', {}, [3, 4, 5, 8]],
    ['all of a sample, axes [1, 2, 3]', { axis: [1, 2, 3] }, [3, 4, 5, 2]],
    ['the features of a dense activation', { axis: -1 }, [12, 10]],
    ['the last two axes of a sequence', { axis: [-2, -1] }, [3, 6, 5]],
  ])('%s: one fused kernel, the same outputs and gradients as tfjs on cpu', async (_name, args, shape) => {
    for (const training of [true, false]) {
      const make = () => tfl.layers.layerNormalization({ epsilon: 1e-3, ...args });
      const ours = await run('wasm', make, shape, training);
      const theirs = await run('cpu', make, shape, training);
      expect(ours.kernels).toContain('BnlabGroupNorm');
      expect(theirs.kernels).not.toContain('BnlabGroupNorm');
      expect(ours.values).toHaveLength(6); // y, dx, dgamma, dbeta, gamma, beta
      expectClose(ours.values, theirs.values);
    }
  });

  test('a middle axis keeps tfjs code and its results', async () => {
    const make = () => tfl.layers.layerNormalization({ axis: 1 });
    const ours = await run('wasm', make, [4, 6, 3]);
    expect(ours.kernels).not.toContain('BnlabGroupNorm');
    expectClose(ours.values, (await run('cpu', make, [4, 6, 3])).values);
  });

  test('scale: false, center: false is the standardized input', async () => {
    const shape = [5, 9];
    const ours = await run('wasm', () => tfl.layers.layerNormalization({ scale: false, center: false }), shape);
    const theirs = await run(
      'cpu',
      () => tfl.layers.layerNormalization(),
      shape,
      true,
      () => [tf.ones([9]), tf.zeros([9])],
    );
    expectClose(ours.values.slice(0, 2), theirs.values.slice(0, 2));
  });
});

test('a tfjs-layers CNN with both layers trains on wasm as on cpu (three SGD steps)', async () => {
  const build = () => {
    const model = tfl.sequential();
    model.add(
      tfl.layers.conv2d({
        inputShape: [8, 8, 2],
        filters: 4,
        kernelSize: 3,
        useBias: false,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
    );
    model.add(tfl.layers.batchNormalization({ momentum: 0.5 }));
    model.add(tfl.layers.activation({ activation: 'relu' }));
    model.add(tfl.layers.layerNormalization());
    model.add(tfl.layers.flatten());
    model.add(tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
    return model;
  };
  const train = (backend: 'wasm' | 'cpu') =>
    on(backend, () => {
      const rng = new Rng(5);
      const model = build();
      const xs = tf.tensor4d(randn(rng, 16 * 8 * 8 * 2), [16, 8, 8, 2]);
      const ys = tf.oneHot(
        tf.tensor1d(
          Array.from({ length: 16 }, () => rng.int(3)),
          'int32',
        ),
        3,
      );
      const optimizer = tf.train.sgd(0.1);
      for (let i = 0; i < 3; i++) {
        tf.dispose(
          optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar) ?? [],
        );
      }
      const weights = model.weights.map((w) => tf.clone(w.read()));
      optimizer.dispose();
      model.dispose();
      return weights;
    });
  const ours = await train('wasm');
  expect(ours).toHaveLength(9); // conv kernel; γ, β, moving mean, variance; LN γ, β; dense kernel, bias
  expectClose(ours, await train('cpu'));
});

test('initBackend({ accelerateTfjsLayers: false }) leaves tfjs code in place, and says so', async () => {
  const info = await initBackend({ strict: true, accelerateTfjsLayers: false });
  expect(info.tfjsLayersAccelerated).toBe(false);
  const { kernels } = await run('wasm', () => tfl.layers.layerNormalization(), [4, 6]);
  expect(kernels).not.toContain('BnlabGroupNorm');
  expect((await initBackend({ strict: true })).tfjsLayersAccelerated).toBe(true);
});
