/**
 * Which training path BatchNormalization takes: core's fused `batchNormTraining` kernel when
 * it applies (channels-last, no ghost batches, no renorm), the general composition otherwise.
 * The numbers of both paths are checked against PyTorch in batch_normalization.test.ts,
 * center_scale_training.test.ts and stability.test.ts; this file makes sure those fixtures
 * really exercise the fused path (and the general one where the fused op does not apply).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchNormalizationArgs } from '../src/index.js';
import { batchNormalization } from '../src/index.js';
import { BACKENDS, useBackend } from './support/backends.js';

const FUSED = 'BnlabBatchNormTraining';
const FUSED_GRAD = 'BnlabBatchNormTrainingGrad';

/** The kernels one training step (forward and gradients) of a fresh layer runs. */
async function kernelsOfTrainingStep(args: BatchNormalizationArgs, shape: number[]): Promise<string[]> {
  const layer = batchNormalization(args);
  const x = tf.variable(tf.randomNormal(shape, 3, 2, 'float32', 1), true);
  layer.build(shape);
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
      [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)],
    );
    tf.dispose([value, ...Object.values(grads)]);
  });
  x.dispose();
  for (const w of layer.weights) w.dispose();
  return profile.kernelNames;
}

describe.each(BACKENDS)('BatchNormalization training path on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  test.each([
    [{}, [4, 3, 3, 8]],
    [{ center: false }, [4, 3, 3, 8]],
    [{ scale: false }, [4, 3, 3, 8]],
    [{ center: false, scale: false }, [6, 5]],
    [{ virtualBatchSize: 8 }, [6, 5]], // a ghost batch covering the whole batch is the plain batch
  ] as Array<[BatchNormalizationArgs, number[]]>)('%j on %j runs the fused kernel and its gradient', async (args, shape) => {
    const kernels = await kernelsOfTrainingStep(args, shape);
    expect(kernels).toContain(FUSED);
    expect(kernels).toContain(FUSED_GRAD);
  });

  test.each([
    [{ axis: 1 }, [4, 3, 2, 2]],
    [{ virtualBatchSize: 2 }, [6, 5]],
    [{ renorm: true }, [6, 5]],
  ] as Array<[BatchNormalizationArgs, number[]]>)('%j on %j keeps the general path', async (args, shape) => {
    const kernels = await kernelsOfTrainingStep(args, shape);
    expect(kernels).not.toContain(FUSED);
    expect(kernels).toContain('Mean');
  });

  test('inference never runs the fused training kernel; channels-last runs FusedBatchNorm', async () => {
    const layer = batchNormalization();
    const x = tf.ones([2, 3]);
    const profile = await tf.profile(() => tf.dispose(layer.apply(x, { training: false }) as tf.Tensor));
    expect(profile.kernelNames).not.toContain(FUSED);
    expect(profile.kernelNames).toContain('FusedBatchNorm');
  });

  // Inference on both paths (FusedBatchNorm for channels-last, the element-wise composition for
  // another axis) against the closed form with non-trivial moving statistics and weights.
  test.each([
    [-1, [2, 2, 3]],
    [1, [2, 3, 2]],
  ])('inference with axis %d on %j is gamma · (x − moving mean) / sqrt(moving var + eps) + beta', (axis, shape) => {
    const [mean, variance, gamma, beta] = [
      [1, -2, 3],
      [0.5, 2, 4],
      [2, -1, 0.5],
      [0.1, 0.2, -0.3],
    ];
    const layer = batchNormalization({ axis, epsilon: 1e-2 });
    layer.build(shape);
    const values: Record<string, number[]> = { gamma, beta, moving_mean: mean, moving_variance: variance };
    for (const w of layer.weights) w.write(tf.tensor1d(values[w.originalName.split('/').pop()!]!));
    const xv = Array.from({ length: 12 }, (_, i) => ((i * 7) % 5) - 1.5);
    const y = (layer.apply(tf.tensor(xv, shape), { training: false }) as tf.Tensor).dataSync();
    const channelOf = (i: number) => (axis === -1 ? i % 3 : Math.floor(i / 2) % 3);
    xv.forEach((v, i) => {
      const c = channelOf(i);
      expect(y[i]).toBeCloseTo((gamma[c]! * (v - mean[c]!)) / Math.sqrt(variance[c]! + 1e-2) + beta[c]!, 5);
    });
    for (const w of layer.weights) w.dispose();
  });
});
