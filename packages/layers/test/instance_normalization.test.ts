import * as tf from '@tensorflow/tfjs-core';
import { InstanceNormalization, instanceNormalization } from '../src/index.js';
import { BACKENDS, useBackend } from './support/backends.js';
import { expectBnlabError } from './support/errors.js';
import { checkCase, loadFixture, weightName } from './support/fixtures.js';

const cases = loadFixture('instance_norm.json');

describe.each(BACKENDS)('InstanceNormalization on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  // NHWC and NLC inputs, against PyTorch's instance_norm.
  test.each(cases.map((c) => [c.name, c] as const))('matches PyTorch: %s', (_name, c) => checkCase(c));

  test('training and inference compute the same thing', () => {
    const inorm = instanceNormalization();
    const x = tf.randomNormal([2, 3, 3, 4], 1, 3, 'float32', 11);
    const a = (inorm.apply(x, { training: true }) as tf.Tensor).dataSync();
    const b = (inorm.apply(x) as tf.Tensor).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('InstanceNormalization weights and checks', () => {
  beforeAll(() => useBackend('cpu'));

  test('gamma and beta are per channel, and on by default (unlike PyTorch)', () => {
    const inorm = new InstanceNormalization();
    inorm.build([null, 4, 4, 3]);
    expect(inorm.weights.map(weightName)).toEqual(['gamma', 'beta']);
    expect(inorm.weights.map((w) => w.shape)).toEqual([[3], [3]]);
  });

  test('a 2-D input has no spatial axes and is refused', () => {
    expectBnlabError(
      () => new InstanceNormalization().build([null, 8]),
      'INVALID_SHAPE',
      'InstanceNormalization: the input must have rank >= 3 (batch, spatial axes, channels), got shape [null,8]',
    );
  });
});
