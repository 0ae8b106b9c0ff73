import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@bnlab/core';
import { batchNormalization, groupNormalization, layerNormalization } from '@bnlab/layers';
import { weightDecayExclusions } from '../../src/run/weight_decay_exclusions.js';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await initBackend({ backend: 'cpu', strict: true });
});

/** A model with every kind of weight: dense and conv kernels and biases, bnlab's and tfjs's normalizations, a nested model. */
function model(): tfl.LayersModel {
  const inner = tfl.sequential({ name: 'inner', layers: [tfl.layers.dense({ units: 3, inputShape: [4], name: 'inner_dense' })] });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [6, 6, 2], name: 'conv' }),
      batchNormalization({ name: 'bn' }),
      groupNormalization({ groups: 2, name: 'gn', center: false }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 4, name: 'dense', useBias: false }),
      tfl.layers.batchNormalization({ name: 'tfjs_bn' }),
      layerNormalization({ name: 'ln' }),
      tfl.layers.layerNormalization({ name: 'tfjs_ln' }),
      inner,
    ],
  });
}

/** The layer/weight part of variable names (tfjs may add a suffix to keep them unique). */
const short = (names: Set<string>): string[] => [...names].map((n) => n.replace(/_\d+$/, '')).sort();

describe('weightDecayExclusions', () => {
  it('finds every normalization weight by the layer it belongs to, whatever the weight is called', () => {
    const m = model();
    expect(short(weightDecayExclusions(m, ['norm']))).toEqual([
      'bn/beta',
      'bn/gamma',
      'gn/gamma',
      'ln/beta',
      'ln/gamma',
      'tfjs_bn/beta',
      'tfjs_bn/gamma',
      'tfjs_ln/beta',
      'tfjs_ln/gamma',
    ]);
    m.dispose();
  });

  it('finds the biases of dense and convolution layers, nested models included', () => {
    const m = model();
    expect(short(weightDecayExclusions(m, ['bias']))).toEqual(['conv/bias', 'inner_dense/bias']);
    m.dispose();
  });

  it('names the variables as the optimizer sees them, and nothing without exclusions', () => {
    const m = model();
    const both = weightDecayExclusions(m, ['norm', 'bias']);
    const trainable = new Set(m.trainableWeights.map((w) => (w.read() as tf.Variable).name));
    expect([...both].every((n) => trainable.has(n))).toBe(true);
    expect(both.size).toBe(11);
    expect(weightDecayExclusions(m, []).size).toBe(0);
    m.dispose();
  });
});
