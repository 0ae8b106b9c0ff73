import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initializers } from '@tensorflow/tfjs-layers';
import { BatchNormalization, batchNormalization } from '../src/index.js';
import { BACKENDS, useBackend } from './support/backends.js';
import { expectBnlabError } from './support/errors.js';
import { checkCase, loadFixture, weightName } from './support/fixtures.js';
import { expectClose } from './support/tolerance.js';

const cases = loadFixture('batch_norm.json');

describe.each(BACKENDS)('BatchNormalization on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  // Outputs, input and gamma/beta gradients, moving (and renorm) statistics after training
  // steps, and inference outputs, against PyTorch float64 (scripts/make_fixtures.py).
  test.each(cases.map((c) => [c.name, c] as const))('matches PyTorch: %s', (_name, c) => checkCase(c));

  // REFERENCES.md worked values: one channel holding 1..7, N = 16, mean 4, biased variance 2.5
  // (unbiased 2.6667); one step from moving variance 1 with Keras momentum 0.9 gives 1.15
  // (PyTorch's unbiased running variance would give 1.16667).
  test('moving statistics use the biased batch variance and the Keras momentum', () => {
    const values = [1, 7, 2, 6, 2, 6, 3, 5, 3, 5, 3, 5, 4, 4, 4, 4];
    const bn = batchNormalization({ momentum: 0.9 });
    const y = bn.apply(tf.tensor2d(values, [16, 1]), { training: true }) as tf.Tensor;
    const [, , movingMean, movingVariance] = bn.getWeights();
    expect(movingMean!.dataSync()[0]).toBeCloseTo(0.4, 6);
    expect(movingVariance!.dataSync()[0]).toBeCloseTo(1.15, 6);
    expectClose(
      y.dataSync(),
      values.map((v) => (v - 4) / Math.sqrt(2.5 + 1e-3)),
      'output',
    );
  });

  test('a last ghost batch of one sample joins the one before (batch 9, ghost batches of 4: 4 + 5)', () => {
    const values = [3, 1, 4, 1, 5, 9, 2, 6, 5];
    const bn = batchNormalization({ virtualBatchSize: 4, momentum: 0 });
    const y = bn.apply(tf.tensor2d(values, [9, 1]), { training: true }) as tf.Tensor;
    const standardized = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
      return { out: xs.map((x) => (x - m) / Math.sqrt(v + 1e-3)), v };
    };
    const first = standardized(values.slice(0, 4));
    const rest = standardized(values.slice(4));
    expectClose(y.dataSync(), [...first.out, ...rest.out], 'ghost-batch output');
    // momentum 0: the moving variance is the sample-weighted mean of the ghost variances.
    expect(bn.getWeights()[3]!.dataSync()[0]).toBeCloseTo((4 * first.v + 5 * rest.v) / 9, 5);
  });

  test('a ghost batch at least as large as the batch is the plain batch', () => {
    const values = [1, 7, 2, 6, 2, 6, 3, 5, 3, 5, 3, 5, 4, 4, 4, 4];
    const bn = batchNormalization({ momentum: 0.9, virtualBatchSize: 32 });
    bn.apply(tf.tensor2d(values, [16, 1]), { training: true });
    expect(bn.getWeights()[3]!.dataSync()[0]).toBeCloseTo(1.15, 6);
  });

  test('without training: true it normalizes with the moving statistics and updates nothing', () => {
    const bn = batchNormalization({ movingMeanInitializer: initializers.constant({ value: 2 }) });
    const x = tf.tensor2d([
      [1, 5],
      [3, 9],
    ]);
    for (const kwargs of [{}, { training: false }]) {
      const y = bn.apply(x, kwargs) as tf.Tensor;
      expectClose(
        y.dataSync(),
        [1, 5, 3, 9].map((v) => (v - 2) / Math.sqrt(1 + 1e-3)),
        'inference output',
      );
    }
    expect(Array.from(bn.getWeights()[2]!.dataSync())).toEqual([2, 2]);
  });

  test('a frozen layer (trainable: false) uses and keeps its moving statistics even in training', () => {
    const bn = batchNormalization({ trainable: false });
    const x = tf.tensor2d([
      [1, 5],
      [3, 9],
    ]);
    const y = bn.apply(x, { training: true }) as tf.Tensor;
    expectClose(
      y.dataSync(),
      [1, 5, 3, 9].map((v) => v / Math.sqrt(1 + 1e-3)),
      'frozen output',
    );
    expect(Array.from(bn.getWeights()[2]!.dataSync())).toEqual([0, 0]);
    expect(Array.from(bn.getWeights()[3]!.dataSync())).toEqual([1, 1]);
  });

  test('in a frozen base model (base.trainable = false, as in transfer learning) it runs in inference mode', async () => {
    const base = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [4], units: 3, kernelInitializer: 'ones' }), batchNormalization()],
    });
    // A functional outer model: a Sequential one marks every weight trainable again on each
    // compile (tfjs rebuilds it), which unfreezes the base altogether.
    const input = tfl.input({ shape: [4] });
    const outer = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(base.apply(input)) as tfl.SymbolicTensor });
    base.trainable = false;
    outer.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = tf.tensor2d([
      [1, 2, 3, 4],
      [0, 1, 0, 1],
      [2, 2, 2, 2],
    ]);
    await outer.fit(x, tf.zeros([3, 2]), { epochs: 1, batchSize: 3, verbose: 0 });
    const [, , movingMean, movingVariance] = (base.layers[1] as tfl.layers.Layer).getWeights();
    expect(Array.from(movingMean!.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(movingVariance!.dataSync())).toEqual([1, 1, 1]);
    // Training-mode output of the frozen base = inference output (moving statistics 0 and 1).
    const y = base.apply(x, { training: true }) as tf.Tensor;
    const sums = [10, 2, 8];
    expectClose(
      y.dataSync(),
      sums.flatMap((v) => [v, v, v].map((u) => u / Math.sqrt(1 + 1e-3))),
      'frozen base output',
    );
  });
});

describe('BatchNormalization weights and checks', () => {
  beforeAll(() => useBackend('cpu'));

  test('weights are gamma, beta, moving_mean, moving_variance (Keras order); only gamma and beta train', () => {
    const bn = new BatchNormalization();
    bn.build([null, 3, 3, 5]);
    expect(bn.weights.map(weightName)).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
    expect(bn.trainableWeights.map(weightName)).toEqual(['gamma', 'beta']);
    expect(bn.weights.every((w) => w.shape.length === 1 && w.shape[0] === 5)).toBe(true);
  });

  test('scale: false and center: false leave out gamma and beta; renorm adds its two statistics', () => {
    const noScale = new BatchNormalization({ scale: false });
    noScale.build([null, 4]);
    expect(noScale.weights.map(weightName)).toEqual(['beta', 'moving_mean', 'moving_variance']);
    const none = new BatchNormalization({ scale: false, center: false });
    none.build([null, 4]);
    expect(none.trainableWeights).toEqual([]);
    const renorm = new BatchNormalization({ renorm: true });
    renorm.build([null, 4]);
    expect(renorm.weights.map(weightName)).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance', 'renorm_mean', 'renorm_stddev']);
  });

  test.each([
    [{ axis: 2 }, [null, 4], 'INVALID_CONFIG', '`axis` (2) must be in [-2, 1] for an input of rank 2'],
    [{ axis: -2 }, [null, 4], 'INVALID_CONFIG', '`axis` (-2) must not be the batch axis 0 of an input of rank 2'],
    [{}, [null, null], 'INVALID_SHAPE', 'axis 1 of the input must have a known size, got shape [null,null]'],
  ] as const)('build(%j) on %j fails: %s %s', (args, shape, code, message) => {
    expectBnlabError(() => new BatchNormalization(args).build([...shape]), code, message);
  });

  test.each([
    [{ momentum: 1.5 }, 'BatchNormalization: `momentum` (1.5) must be a number in [0, 1]'],
    [{ epsilon: 0 }, 'BatchNormalization: `epsilon` (0) must be a finite number > 0'],
    [{ axis: 1.5 }, 'BatchNormalization: `axis` (1.5) must be an integer other than 0'],
    [{ virtualBatchSize: 0 }, 'BatchNormalization: `virtualBatchSize` (0) must be a positive integer'],
    [{ renormClipping: { rmax: 2 } }, 'BatchNormalization: `renormClipping` is only used with `renorm: true`'],
    [{ renorm: true, renormClipping: { rmax: 0.5 } }, '`renormClipping.rmax` (0.5) must be a finite number >= 1'],
    [{ renorm: true, virtualBatchSize: 4 }, '`virtualBatchSize` (4) cannot be combined with `renorm: true`'],
    [{ gammaInitializer: 'noSuchThing' }, "`gammaInitializer` ('noSuchThing') must name a registered tfjs initializer"],
  ])('the constructor rejects %j', (args, message) => {
    expectBnlabError(() => new BatchNormalization(args as never), 'INVALID_CONFIG', message);
  });
});
