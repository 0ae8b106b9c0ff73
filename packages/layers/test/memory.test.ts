import * as tf from '@tensorflow/tfjs-core';
import type { NormalizationSpec } from '@bnlab/core';
import { normalization } from '../src/index.js';
import { BACKENDS, useBackend } from './support/backends.js';

// A call leaves behind only its output (and, in training, the new moving statistics, which
// replace the old ones): repeated calls must not grow the number of live tensors.
describe.each(BACKENDS)('no tensor leaks on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  test.each([
    { type: 'batch' },
    { type: 'batch', virtualBatchSize: 3 },
    { type: 'batch', renorm: true, renormClipping: { rmax: 2, dmax: 1 } },
    { type: 'layer', axis: [1, 2, 3] },
    { type: 'group', groups: 2 },
    { type: 'instance' },
  ] as NormalizationSpec[])('%j', (spec) => {
    const layer = normalization(spec)!;
    const x = tf.randomNormal([8, 3, 3, 4], 0, 1, 'float32', 1);
    tf.dispose(layer.apply(x, { training: true }) as tf.Tensor); // builds the weights
    const live = tf.memory().numTensors;
    for (const training of [true, false, true]) {
      tf.dispose(layer.apply(x, { training }) as tf.Tensor);
      tf.dispose(tf.grad((input: tf.Tensor) => tf.sum(layer.apply(input, { training }) as tf.Tensor))(x));
      expect(tf.memory().numTensors).toBe(live);
    }
  });
});
