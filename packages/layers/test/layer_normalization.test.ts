import * as tf from '@tensorflow/tfjs-core';
import { LayerNormalization, layerNormalization } from '../src/index.js';
import { BACKENDS, useBackend } from './support/backends.js';
import { expectBnlabError } from './support/errors.js';
import { checkCase, loadFixture, weightName } from './support/fixtures.js';
import { expectClose } from './support/tolerance.js';

const cases = loadFixture('layer_norm.json');

describe.each(BACKENDS)('LayerNormalization on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  // Last axis, all non-batch axes, spatial axes only, unsorted axes; 2-D, 3-D and NHWC.
  test.each(cases.map((c) => [c.name, c] as const))('matches PyTorch: %s', (_name, c) => checkCase(c));

  test('REFERENCES.md worked value: [[1,2,3],[3,6,24]] over the last axis, epsilon 1e-3', () => {
    const y = layerNormalization().apply(
      tf.tensor2d([
        [1, 2, 3],
        [3, 6, 24],
      ]),
    ) as tf.Tensor;
    expectClose(y.dataSync(), [-1.2238274, 0, 1.2238274, -0.8626572, -0.5391607, 1.401818], 'output');
  });

  test('training and inference compute the same thing', () => {
    const ln = layerNormalization({ axis: [1, 2] });
    const x = tf.randomNormal([2, 3, 3, 2], 5, 2, 'float32', 7);
    const a = (ln.apply(x, { training: true }) as tf.Tensor).dataSync();
    const b = (ln.apply(x, { training: false }) as tf.Tensor).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  test.each([
    ['the last axis (core’s fused op)', [-1]],
    ['axes 1 and 2 of four (the custom-gradient path)', [1, 2]],
  ])('has a gradient of its gradient over %s, matching tf.moments', (_name, axis) => {
    const x = tf.randomNormal([2, 3, 4, 2], 1, 2, 'float32', 5);
    const w = tf.randomNormal([2, 3, 4, 2], 0, 1, 'float32', 6);
    const ln = layerNormalization({ axis, center: false, scale: false });
    const axes = axis.map((a) => (a < 0 ? a + 4 : a));
    const plain = (t: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(t, axes, true);
      return tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-3)));
    };
    // A gradient penalty: P(x) = Σ (∂L/∂x)² with L = Σ w·y³, differentiated again.
    const penalty = (norm: (t: tf.Tensor) => tf.Tensor) =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.pow(norm(u), 3), w)))(t))))(x);
    const got = penalty((t) => ln.apply(t) as tf.Tensor);
    const want = penalty(plain);
    expectClose(got.dataSync(), want.dataSync(), 'second-order gradient');
  });
});

describe('LayerNormalization weights and checks', () => {
  beforeAll(() => useBackend('cpu'));

  test('gamma and beta are shaped like the normalized axes, in increasing axis order', () => {
    const all = new LayerNormalization({ axis: [3, 1, 2] });
    all.build([null, 5, 6, 7]);
    expect(all.weights.map(weightName)).toEqual(['gamma', 'beta']);
    expect(all.weights.map((w) => w.shape)).toEqual([
      [5, 6, 7],
      [5, 6, 7],
    ]);
    const last = new LayerNormalization();
    last.build([null, 5, 6, 7]);
    expect(last.weights.map((w) => w.shape)).toEqual([[7], [7]]);
  });

  test('build checks the axes against the input rank', () => {
    expectBnlabError(
      () => new LayerNormalization({ axis: [-1, 3] }).build([null, 2, 2, 4]),
      'INVALID_CONFIG',
      '`axis` ([-1,3]) must name distinct axes of an input of rank 4, but [3,3] repeats one',
    );
    expectBnlabError(
      () => new LayerNormalization({ axis: 4 }).build([null, 2, 2, 4]),
      'INVALID_CONFIG',
      '`axis` (4) must be in [-4, 3] for an input of rank 4',
    );
    expectBnlabError(
      () => new LayerNormalization({ axis: [1, -3] }).build([null, 2, 4]),
      'INVALID_CONFIG',
      '`axis` (-3) must not be the batch axis 0 of an input of rank 3',
    );
  });

  test('the constructor rejects bad axes', () => {
    for (const axis of [0, [], [1, 1], [1, 0], 1.5, 'last']) {
      expectBnlabError(
        () => new LayerNormalization({ axis: axis as never }),
        'INVALID_CONFIG',
        `LayerNormalization: \`axis\` (${JSON.stringify(axis).replace(/"/g, "'")}) must be an integer or a non-empty list of distinct integers`,
      );
    }
  });
});
