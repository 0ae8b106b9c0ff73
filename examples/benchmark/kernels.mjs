// Convolution kernel micro-benchmark: time per call and GFLOP/s of bnlab's wasm Conv2D
// (with a fresh filter each call, as in training), Conv2DBackpropFilter and
// Conv2DBackpropInput on the benchmark CNN's three layer shapes, batch 64.
//
//   node kernels.mjs [--reps N] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@bnlab/core';

const { values: opts } = parseArgs({
  options: { reps: { type: 'string', default: '30' }, json: { type: 'string' } },
});
const REPS = Number(opts.reps);
const LAYERS = [
  { name: 'conv1 28x28x1 -> 32', x: [64, 28, 28, 1], f: [3, 3, 1, 32] },
  { name: 'conv2 13x13x32 -> 64', x: [64, 13, 13, 32], f: [3, 3, 32, 64] },
  { name: 'conv3 5x5x64 -> 64', x: [64, 5, 5, 64], f: [3, 3, 64, 64] },
];

await initBackend({ backend: 'wasm', strict: true });

/** Milliseconds per call of fn (results disposed), after three untimed calls. */
function msPerCall(fn) {
  for (let i = 0; i < 3; i++) tf.dispose(fn());
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < REPS; i++) tf.dispose(fn());
  return Number(process.hrtime.bigint() - t0) / 1e6 / REPS;
}

const rows = [];
for (const layer of LAYERS) {
  const [n, h, w] = layer.x;
  const [kh, kw, ci, co] = layer.f;
  const oh = h - kh + 1;
  const ow = w - kw + 1;
  const flop = 2 * n * oh * ow * kh * kw * ci * co;
  const conv = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
  const x = tf.randomNormal(layer.x);
  const dy = tf.randomNormal([n, oh, ow, co]);
  const filter = tf.randomNormal(layer.f);
  const forward = msPerCall(() => {
    // A new filter tensor each call: the training case (weights change every step).
    const f = tf.clone(filter);
    const y = tf.engine().runKernel('Conv2D', { x, filter: f }, conv);
    f.dispose();
    return y;
  });
  const backpropFilter = msPerCall(() =>
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: layer.f }),
  );
  const backpropInput = msPerCall(() =>
    tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...conv, inputShape: layer.x }),
  );
  tf.dispose([x, dy, filter]);
  for (const [kernel, ms] of [['Conv2D', forward], ['Conv2DBackpropFilter', backpropFilter], ['Conv2DBackpropInput', backpropInput]]) {
    rows.push({ layer: layer.name, kernel, ms: +ms.toFixed(3), gflops: +(flop / ms / 1e6).toFixed(2) });
  }
}
console.table(rows);
if (opts.json) writeFileSync(opts.json, JSON.stringify(rows, null, 2) + '\n');
