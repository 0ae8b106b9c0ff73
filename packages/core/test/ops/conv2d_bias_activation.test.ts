/**
 * conv2dBiasActivation against tfjs's own composition `relu(conv2d(x, W) + b)` on the cpu
 * backend: outputs and the gradients of x, W and b, on wasm and cpu; and the gradients it
 * leaves out when nothing needs them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { conv2dBiasActivation } from '../../src/ops/conv2d_bias_activation.js';
import { isBnlabError } from '../../src/errors.js';
import { Rng } from '../../src/rng.js';
import { on, randn, relError } from '../support/backends.js';

beforeAll(async () => {
  expect((await initBackend({ strict: true })).backend).toBe('wasm');
});

type Case = {
  x: [number, number, number, number];
  f: [number, number, number, number];
  s: number;
  pad: 'valid' | 'same';
  activation: 'linear' | 'relu';
  bias: boolean;
};

const cases: Case[] = [
  { x: [2, 9, 9, 3], f: [3, 3, 3, 8], s: 1, pad: 'same', activation: 'relu', bias: true },
  { x: [2, 9, 8, 4], f: [3, 3, 4, 5], s: 2, pad: 'valid', activation: 'linear', bias: false },
  { x: [2, 7, 7, 4], f: [2, 2, 4, 4], s: 2, pad: 'same', activation: 'linear', bias: true },
  { x: [3, 12, 12, 1], f: [3, 3, 1, 16], s: 1, pad: 'valid', activation: 'relu', bias: true }, // one input channel
];

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

describe.each(['wasm', 'cpu'] as const)('conv2dBiasActivation on %s', (backend) => {
  it.each(cases)('$x ⊛ $f, stride $s, $pad, $activation, bias $bias: output and gradients as tfjs composes them', async (c) => {
    const xv = randn(new Rng(91), size(c.x));
    const fv = randn(new Rng(92), size(c.f));
    const bv = randn(new Rng(93), c.f[3]);
    const reference = (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      let y: tf.Tensor = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad);
      if (c.bias) y = tf.add(y, b);
      return c.activation === 'relu' ? tf.relu(y) : y;
    };
    const ours = (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor): tf.Tensor =>
      conv2dBiasActivation(x as tf.Tensor4D, f as tf.Tensor4D, {
        bias: c.bias ? (b as tf.Tensor1D) : undefined,
        activation: c.activation,
        strides: c.s,
        pad: c.pad,
      });
    const run = (fn: typeof ours) => (): tf.Tensor[] => {
      const fresh = () => [tf.tensor4d(xv, c.x), tf.tensor4d(fv, c.f), tf.tensor1d(bv)] as const;
      const y = fn(...fresh());
      const r = tf.tensor(randn(new Rng(94), y.size), y.shape);
      const [x, f, b] = fresh();
      if (!c.bias) return [y, ...tf.grads((xi: tf.Tensor, fi: tf.Tensor) => tf.sum(tf.mul(fn(xi, fi, b), r)))([x, f])];
      return [y, ...tf.grads((xi: tf.Tensor, fi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(fn(xi, fi, bi), r)))([x, f, b])];
    };
    const got = await on(backend, run(ours));
    const want = await on('cpu', run(reference));
    got.forEach((v, i) => expect(relError(v, want[i] as Float32Array)).toBeLessThanOrEqual(1e-4));
  });

  it('computes no input gradient when only the filter and bias need one', async () => {
    tf.setBackend(backend);
    const x = tf.tensor4d(randn(new Rng(95), 2 * 6 * 6 * 3), [2, 6, 6, 3]);
    const f = tf.tensor4d(randn(new Rng(96), 3 * 3 * 3 * 4), [3, 3, 3, 4]);
    const b = tf.tensor1d(randn(new Rng(97), 4));
    const info = await tf.profile(() =>
      tf.grads((fi: tf.Tensor, bi: tf.Tensor) =>
        tf.sum(conv2dBiasActivation(x, fi as tf.Tensor4D, { bias: bi as tf.Tensor1D, activation: 'relu' })),
      )([f, b]),
    );
    expect(info.kernelNames).toContain('Conv2DBackpropFilter');
    expect(info.kernelNames).not.toContain('Conv2DBackpropInput');
    tf.dispose([x, f, b]);
  });
});

describe('conv2dBiasActivation rejects bad input', () => {
  it.each([
    [
      'an unknown activation',
      () =>
        conv2dBiasActivation(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([1, 1, 1, 2]) as tf.Tensor4D, { activation: 'elu' as never }),
      /activation/,
    ],
    [
      'mismatched channels',
      () => conv2dBiasActivation(tf.ones([1, 3, 3, 2]) as tf.Tensor4D, tf.ones([1, 1, 1, 2]) as tf.Tensor4D),
      /\[1, 3, 3, 2\]/,
    ],
    [
      'int32 input',
      () => conv2dBiasActivation(tf.ones([1, 3, 3, 1], 'int32') as tf.Tensor4D, tf.ones([1, 1, 1, 2]) as tf.Tensor4D),
      /x must be float32, got int32/,
    ],
    [
      'a bias of the wrong size',
      () =>
        conv2dBiasActivation(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([1, 1, 1, 2]) as tf.Tensor4D, {
          bias: tf.ones([3]) as tf.Tensor1D,
        }),
      /bias/,
    ],
  ])('%s', (_name, f, message) => {
    expect(f).toThrow(message);
    try {
      f();
    } catch (e) {
      expect(isBnlabError(e)).toBe(true);
    }
  });
});
