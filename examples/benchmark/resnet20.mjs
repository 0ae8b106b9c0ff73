// ResNet-20 (He et al. 2016, CIFAR) training for bench.mjs's `--models resnet20`: the model as a
// bnlab user builds it (`resnet` from @bnlab/models, batch norm, shortcut A or B), SGD with
// momentum 0.9 (bnlab's fused `momentum`), batch 128, CIFAR-shaped random images with random labels (the step's cost does
// not depend on the pixels). Its PyTorch twin is torch_resnet.py.
import * as tf from '@tensorflow/tfjs-core';
import { momentum } from '@bnlab/core';
import { resnet } from '@bnlab/models';

export const RESNET_BATCH = 128;
const BATCHES = 4;

/** ResNet-20 with batch norm and the given shortcut, logits out. */
export function buildResnet20(shortcut) {
  return resnet({ norm: { type: 'batch' }, options: { depth: 20, shortcut, outputActivation: 'linear', seed: 1 } });
}

/** A few fixed CIFAR-shaped batches (seeded), cycled through by the steps. */
export function resnetBatches() {
  return Array.from({ length: BATCHES }, (_, i) => ({
    xs: tf.randomNormal([RESNET_BATCH, 32, 32, 3], 0, 1, 'float32', 100 + i),
    ys: tf.tidy(() => tf.oneHot(tf.cast(tf.floor(tf.randomUniform([RESNET_BATCH], 0, 10, 'float32', 200 + i)), 'int32'), 10)),
  }));
}

/**
 * SGD with momentum 0.9, learning rate 0.1 (He et al.'s CIFAR schedule starts there):
 * bnlab's `momentum` (tf.train.momentum's update, fused per variable), as bench.mjs's MNIST
 * models use bnlab's `adam`.
 */
export function resnetOptimizer() {
  return momentum(0.1, 0.9);
}

/** One training step on batch i (softmax cross-entropy); returns the loss tensor. */
export function resnetStep(model, optimizer, batches) {
  return (i) =>
    tf.tidy(() => {
      const { xs, ys } = batches[i % batches.length];
      return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true })), true);
    });
}
