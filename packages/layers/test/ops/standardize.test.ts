import * as tf from '@tensorflow/tfjs-core';
import { groupStandardize, standardize, stopGradient } from '../../src/ops/standardize.js';
import { BACKENDS, useBackend } from '../support/backends.js';
import { expectClose } from '../support/tolerance.js';

describe.each(BACKENDS)('the shared moments-and-normalize routine on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  test('closed form: [1, 2, 3] → ±sqrt(3/2) / sqrt(1 + 3/2 · eps) with mean 2 and biased variance 2/3', () => {
    const eps = 1e-3;
    const { normalized, mean, variance } = standardize(tf.tensor2d([[1, 2, 3]]), [1], eps);
    const s = 1 / Math.sqrt(2 / 3 + eps);
    expectClose(normalized.dataSync(), [-s, 0, s], 'normalized');
    expect(mean.shape).toEqual([1, 1]);
    expect(mean.dataSync()[0]).toBeCloseTo(2, 6);
    expect(variance.dataSync()[0]).toBeCloseTo(2 / 3, 6);
  });

  test('a large common offset costs no accuracy (shifted data): 1e4 + [1, 2, 3]', () => {
    const { normalized, mean } = standardize(tf.tensor2d([[10001, 10002, 10003]]), [1], 1e-3);
    const s = 1 / Math.sqrt(2 / 3 + 1e-3);
    expectClose(normalized.dataSync(), [-s, 0, s], 'normalized');
    expect(mean.dataSync()[0]).toBe(10002);
  });

  test('group standardization splits consecutive channels into groups', () => {
    // One sample, one pixel, channels [1, 3 | 10, 30]: groups of two, each → [-1, 1] · 1/sqrt(1 + eps/var).
    const y = groupStandardize(tf.tensor4d([1, 3, 10, 30], [1, 1, 1, 4]), 3, 2, 1e-3);
    expectClose(y.dataSync(), [-1 / Math.sqrt(1 + 1e-3), 1 / Math.sqrt(1 + 1e-3), -1 / Math.sqrt(1 + 1e-3 / 100), 1 / Math.sqrt(1 + 1e-3 / 100)], 'grouped');
  });

  test('stopGradient passes values and blocks gradients', () => {
    const x = tf.tensor1d([1, 2, 3]);
    expect(Array.from(stopGradient(x).dataSync())).toEqual([1, 2, 3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, stopGradient(v))))(x);
    expect(Array.from(g.dataSync())).toEqual([1, 2, 3]); // d/dv of v·c is c, nothing through c
  });
});
