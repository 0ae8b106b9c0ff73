import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormalization, batchNormalizationLayers, withBatchStatistics } from '../src/index.js';
import { BACKENDS, useBackend } from './support/backends.js';
import { expectClose } from './support/tolerance.js';

describe.each(BACKENDS)('withBatchStatistics on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  test.each(['bnlab', 'tfjs'] as const)(
    '%s batch norm normalizes with the batch’s statistics, dropout stays off, nothing is updated',
    async (kind) => {
      const bn =
        kind === 'bnlab'
          ? batchNormalization({ inputShape: [2], scale: false })
          : tfl.layers.batchNormalization({ inputShape: [2], scale: false });
      const model = tfl.sequential({ layers: [bn, tfl.layers.dropout({ rate: 0.9 })] });
      // One column 1..4 (mean 2.5, biased variance 1.25), one column 10, 20, 30, 40.
      const x = tf.tensor2d([1, 10, 2, 20, 3, 30, 4, 40], [4, 2]);
      const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
      const y = await withBatchStatistics(model, () => model.predict(x) as tf.Tensor);
      const expected = [1, 2, 3, 4].flatMap((i) => [(i - 2.5) / Math.sqrt(1.25 + 1e-3), (10 * i - 25) / Math.sqrt(125 + 1e-3)]);
      // Dropout at rate 0.9 in training mode would zero most values: it is off.
      expectClose(y.dataSync(), expected, 'batch-statistics output');
      expect(bn.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
      // And afterwards the layer is itself again: inference mode uses the moving statistics (0, 1).
      expectClose(
        (model.predict(x) as tf.Tensor).dataSync(),
        [1, 10, 2, 20, 3, 30, 4, 40].map((v) => v / Math.sqrt(1 + 1e-3)),
        'inference output',
      );
      model.dispose();
    },
  );
});

test('batchNormalizationLayers finds ours and tfjs’s, nested too, and says which are frozen', () => {
  const inner = tfl.sequential({
    layers: [tfl.layers.dense({ inputShape: [3], units: 2 }), tfl.layers.batchNormalization({ name: 'tfjs_bn' })],
  });
  const frozen = batchNormalization({ name: 'frozen_bn' });
  const model = tfl.sequential({ layers: [inner, frozen, tfl.layers.dense({ units: 2 }), batchNormalization({ name: 'ours' })] });
  frozen.trainable = false;
  expect(batchNormalizationLayers(model).map((f) => [f.layer.name, f.kind, f.frozen])).toEqual([
    ['tfjs_bn', 'tfjs', false],
    ['frozen_bn', 'bnlab', true],
    ['ours', 'bnlab', false],
  ]);
  model.dispose();
});
