/**
 * No leaks on wasm: across several short epochs of training the benchmark CNN with batch
 * norm (tfjs-layers' BN on tfjs's own code and on bnlab's fused op, and bnlab's fused op in
 * a layer of its own), the number of live tensors returns to the
 * same value after every epoch and the process's memory (RSS and the wasm heap) stops
 * growing once the first epochs have warmed the allocators up.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/backend/init_backend.js';
import { batchNormTraining } from '../../src/ops/batch_norm_training.js';
import { useFusedTfjsNormalization, useStockTfjsNormalization } from '../../src/layers/tfjs_normalization.js';
import { mnistTrainHead } from '../support/mnist.js';

const BATCH = 32;
const STEPS_PER_EPOCH = 4;
const EPOCHS = 6;

/** Batch norm on bnlab's fused op, as a normalization layer would use it. */
class FusedBn extends tfl.layers.Layer {
  static className = 'BnlabTestFusedBn';
  private gamma!: tfl.LayerVariable;
  private beta!: tfl.LayerVariable;
  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as number[];
    const c = shape[shape.length - 1] as number;
    this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros());
    this.built = true;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    return batchNormTraining(x, { scale: this.gamma.read() as tf.Tensor1D, offset: this.beta.read() as tf.Tensor1D }).y;
  }
}

function cnn(fused: boolean): tfl.Sequential {
  const m = tfl.sequential();
  const norm = (): tfl.layers.Layer => (fused ? new FusedBn({}) : tfl.layers.batchNormalization({}));
  m.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, useBias: false }));
  m.add(norm());
  m.add(tfl.layers.activation({ activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: 16, kernelSize: 3, useBias: false }));
  m.add(norm());
  m.add(tfl.layers.activation({ activation: 'relu' }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 10 }));
  return m;
}

describe('training on wasm leaks nothing', () => {
  const { images, labels } = mnistTrainHead(BATCH * STEPS_PER_EPOCH);

  beforeAll(async () => {
    expect((await initBackend({ strict: true })).backend).toBe('wasm');
  });

  afterEach(() => useFusedTfjsNormalization());

  it.each([
    ["tfjs-layers' BN on tfjs's code", false, false],
    ["tfjs-layers' BN on bnlab's op", false, true],
    ["bnlab's op in a layer", true, true],
  ])('tensors and memory stay flat across epochs (%s)', async (_name, fused, accelerated) => {
    if (!accelerated) useStockTfjsNormalization();
    const model = cnn(fused);
    const optimizer = tf.train.adam(1e-3);
    const xs = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(images), [BATCH * STEPS_PER_EPOCH, 28, 28, 1]), 255));
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10));
    const tensors: number[] = [];
    const rss: number[] = [];
    const heap: number[] = [];
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      for (let s = 0; s < STEPS_PER_EPOCH; s++) {
        const loss = tf.tidy(() => {
          const x = tf.slice(xs, s * BATCH, BATCH);
          const y = tf.slice(ys, s * BATCH, BATCH);
          return optimizer.minimize(
            () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
            true,
          ) as tf.Scalar;
        });
        await loss.data();
        loss.dispose();
      }
      tensors.push(tf.memory().numTensors);
      rss.push(process.memoryUsage().rss);
      heap.push((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length);
    }
    // Adam creates its moment variables in the first step; from then on the count is constant.
    expect(new Set(tensors).size).toBe(1);
    // After two warm-up epochs memory may move by allocator noise only, not grow per epoch.
    const late = rss.slice(2);
    expect(Math.max(...late) - Math.min(...late)).toBeLessThan(64 * 2 ** 20);
    expect(heap[EPOCHS - 1]).toBe(heap[2]);
    tf.dispose([xs, ys]);
    model.dispose();
    optimizer.dispose();
  });
});
