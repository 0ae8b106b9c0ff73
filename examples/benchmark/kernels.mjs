// Convolution kernel micro-benchmark: time per call and GFLOP/s of bnlab's wasm Conv2D
// (with a fresh filter each call, as in training), Conv2DBackpropFilter and
// Conv2DBackpropInput on the benchmark CNN's three layer shapes, batch 64, in two variants
// alternating round by round in one process, so that a drifting machine speed hits both
// alike; the speedup is the median of the round-by-round ratios.
//   --compare builds    the two builds of bnlab's SIMD kernels: plain SIMD and relaxed SIMD
//                       (fused multiply-add), each with its default convolution algorithms
//   --compare winograd  3×3 stride-1 convolutions as one GEMM over the patch matrix ('direct')
//                       and as Winograd F(4×4, 3×3) (bnlab's default), on the relaxed build
//                       where the engine has it
//
// --peak also measures this CPU's WebAssembly SIMD multiply-add peak on one thread (peak.mjs:
// plain and relaxed SIMD) and gives each kernel's rate as a share of its build's peak. The
// FLOPs are the direct convolution's (2 per multiply-add) for every variant, so a Winograd
// kernel, which does up to 4× fewer multiply-adds, can pass 100%.
//
//   node kernels.mjs [--compare builds|winograd] [--peak] [--reps N] [--rounds N] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, relaxedSimdSupported, setRelaxedSimd, setWinograd, simdKernels } from '@bnlab/core';
import { measurePeak } from './peak.mjs';

const { values: opts } = parseArgs({
  options: {
    compare: { type: 'string', default: 'builds' },
    reps: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
    peak: { type: 'boolean', default: false },
  },
});
if (opts.compare !== 'builds' && opts.compare !== 'winograd') {
  console.error(`--compare: '${opts.compare}' is not one of builds, winograd`);
  process.exit(2);
}
const REPS = Number(opts.reps);
const ROUNDS = Number(opts.rounds);
const LAYERS = [
  { name: 'conv1 28x28x1 -> 32', x: [64, 28, 28, 1], f: [3, 3, 1, 32] },
  { name: 'conv2 13x13x32 -> 64', x: [64, 13, 13, 32], f: [3, 3, 32, 64] },
  { name: 'conv3 5x5x64 -> 64', x: [64, 5, 5, 64], f: [3, 3, 64, 64] },
];

// Node 20 has relaxed SIMD behind a V8 flag (as the bnlab command, turn it on).
if (!relaxedSimdSupported()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
await initBackend({ backend: 'wasm', strict: true });
const relaxed = relaxedSimdSupported();
/** The variants compared: name → what switches to it (and checks it took). */
const variants =
  opts.compare === 'builds'
    ? Object.fromEntries(
        (relaxed ? ['simd', 'relaxed'] : ['simd']).map((build) => [
          build,
          () => {
            setRelaxedSimd(build === 'relaxed');
            if (simdKernels() !== build) throw new Error(`expected the ${build} build, got ${simdKernels()}`);
          },
        ]),
      )
    : {
        direct: () => setWinograd(false),
        winograd: () => setWinograd(true),
      };
const names = Object.keys(variants);
const peak = opts.peak ? await measurePeak() : null;
/** The peak GFLOP/s of the build a variant runs on. */
const peakOf = (name) => (opts.compare === 'builds' ? peak[name] : peak[simdKernels()]).gflops;

/** Milliseconds per call of fn (results disposed), after three untimed calls. */
function msPerCall(fn) {
  for (let i = 0; i < 3; i++) tf.dispose(fn());
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < REPS; i++) tf.dispose(fn());
  return Number(process.hrtime.bigint() - t0) / 1e6 / REPS;
}

const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

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
  const kernels = {
    Conv2D: () => {
      // A new filter tensor each call: the training case (weights change every step). Not
      // tf.clone: bnlab's Identity shares the data, and a filter seen before goes to XNNPACK.
      const f = tf.mul(filter, 1);
      const y = tf.engine().runKernel('Conv2D', { x, filter: f }, conv);
      f.dispose();
      return y;
    },
    Conv2DBackpropFilter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: layer.f }),
    Conv2DBackpropInput: () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...conv, inputShape: layer.x }),
  };
  const times = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      variants[name]();
      for (const [kernel, fn] of Object.entries(kernels)) ((times[kernel] ??= {})[name] ??= []).push(msPerCall(fn));
    }
  }
  tf.dispose([x, dy, filter]);
  for (const kernel of Object.keys(kernels)) {
    const row = { layer: layer.name, kernel };
    for (const name of names) {
      const ms = median(times[kernel][name]);
      row[`${name} ms`] = +ms.toFixed(3);
      row[`${name} GFLOP/s`] = +(flop / ms / 1e6).toFixed(2);
      if (peak) row[`${name} % of peak`] = +((100 * flop) / ms / 1e6 / peakOf(name)).toFixed(1);
    }
    if (names.length === 2) {
      const [a, b] = names;
      row[`${b} speedup`] = +median(times[kernel][a].map((t, i) => t / times[kernel][b][i])).toFixed(2);
    }
    rows.push(row);
  }
}
const what = opts.compare === 'builds' ? `bnlab SIMD kernel builds: ${names.join(', ')}` : `direct vs Winograd, ${simdKernels()} build`;
console.log(`${what}; median of ${ROUNDS} rounds of ${REPS} calls (GFLOP/s of the direct convolution's multiply-adds)`);
if (peak) {
  console.log(
    `WebAssembly SIMD peak, one thread: ${peak.simd.gflops} GFLOP/s plain (${peak.simd.loop})` +
      (peak.relaxed ? `, ${peak.relaxed.gflops} relaxed (${peak.relaxed.loop})` : ''),
  );
}
console.table(rows);
if (opts.json) writeFileSync(opts.json, JSON.stringify(peak ? { peak, rows } : rows, null, 2) + '\n');
