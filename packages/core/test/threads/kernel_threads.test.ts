// bnlab's kernels split over two threads on a shared wasm heap: the backend is started by
// initBackend({ threads: 2 }) (a test file has its own tfjs, so this is the first start of the
// wasm backend here). Each kernel is checked against the cpu backend (an independent
// implementation) and against the same kernel on one thread: outputs and input gradients
// computed image by image must be identical, summed filter gradients equal up to rounding.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init_backend.js';
import { isBnlabError } from '../../src/errors.js';
import { asWasmBackend } from '../../src/kernels/wasm_backend.js';
import { simdFor } from '../../src/kernels/simd/simd_module.js';
import { kernelThreadCount, setKernelThreads, stopKernelThreads, threadsFor } from '../../src/threads/kernel_threads.js';
import { Rng } from '../../src/rng.js';
import { batchNormTraining } from '../../src/ops/batch_norm_training.js';
import { groupNorm } from '../../src/ops/group_norm.js';
import { on, randn, relError } from '../support/backends.js';

const wasm = () => asWasmBackend(tf.findBackend('wasm'));

beforeAll(async () => {
  const info = await initBackend({ threads: 2 });
  expect(info.backend).toBe('wasm');
  expect(info.kernelThreads).toBe(2);
});
afterAll(() => stopKernelThreads());

test('the wasm heap is shared and two threads work on it', () => {
  expect(wasm().wasm.HEAPF32.buffer).toBeInstanceOf(SharedArrayBuffer);
  expect(kernelThreadCount(wasm())).toBe(2);
});

interface Case {
  name: string;
  x: number[];
  w: number[];
  stride: number;
  pad: 'same' | 'valid';
}

// Winograd (3×3 stride 1, ≥ 8 channels), the patch-matrix path (5×5 stride 2), a 1×1
// convolution (one matrix product), and the few-channel direct kernels (RGB, 3 wide).
const cases: Case[] = [
  { name: 'Winograd 3×3, 16 → 32 channels', x: [6, 12, 12, 16], w: [3, 3, 16, 32], stride: 1, pad: 'same' },
  { name: 'patch matrix 5×5 stride 2', x: [5, 13, 13, 8], w: [5, 5, 8, 12], stride: 2, pad: 'same' },
  { name: '1×1, one matrix product', x: [8, 16, 16, 32], w: [1, 1, 32, 64], stride: 1, pad: 'valid' },
  { name: 'RGB first layer, direct', x: [7, 10, 10, 3], w: [3, 3, 3, 16], stride: 1, pad: 'same' },
];

describe.each(cases)('$name', ({ x: xs, w: ws, stride, pad }) => {
  const rng = new Rng(7);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const xv = randn(rng, size(xs));
  const wv = randn(rng, size(ws), 0.2);
  const run = () => {
    const x = tf.tensor4d(xv, xs as [number, number, number, number]);
    const w = tf.tensor4d(wv, ws as [number, number, number, number]);
    const y = tf.conv2d(x, w, stride, pad);
    const dy = tf.reshape(tf.sin(tf.range(0, size(y.shape), 1)), y.shape);
    const [dx, dw] = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), dy)))([x, w]);
    return [y, dx as tf.Tensor, dw as tf.Tensor];
  };

  it('matches the cpu backend, and one thread: outputs and input gradients exactly, filter gradients up to rounding', async () => {
    const threads = threadsFor(wasm());
    expect(threads).not.toBeNull();
    const before = threads?.callsOnWorkers ?? 0;
    const [y2, dx2, dw2] = await on('wasm', run);
    // The second thread did part of the work.
    expect(threadsFor(wasm())?.callsOnWorkers ?? 0).toBeGreaterThan(before);

    const [yc, dxc, dwc] = await on('cpu', run);
    expect(relError(y2 as Float32Array, yc as Float32Array)).toBeLessThan(2e-5);
    expect(relError(dx2 as Float32Array, dxc as Float32Array)).toBeLessThan(2e-5);
    expect(relError(dw2 as Float32Array, dwc as Float32Array)).toBeLessThan(2e-5);

    expect(await setKernelThreads(wasm(), 1)).toBe(1);
    try {
      const [y1, dx1, dw1] = await on('wasm', run);
      expect(Array.from(y2 as Float32Array)).toEqual(Array.from(y1 as Float32Array));
      expect(Array.from(dx2 as Float32Array)).toEqual(Array.from(dx1 as Float32Array));
      // Summed in another order: Winograd's transforms make that rounding ~1e-5 of the largest entry.
      expect(relError(dw2 as Float32Array, dw1 as Float32Array)).toBeLessThan(2e-5);
    } finally {
      expect(await setKernelThreads(wasm(), 2)).toBe(2);
    }
  });
});

/**
 * The memory-bound passes of a training step, each on an activation big enough to be split
 * (≥ 64 K floats): batch norm's statistics and gradient (row ranges, merged moments and
 * summed reductions), group norm (samples), max pooling and its gradients (images), the
 * ReLU gradient and a bias add (element ranges).
 */
describe('the passes between convolutions', () => {
  const rng = new Rng(11);
  const shape: [number, number, number, number] = [16, 24, 24, 16];
  const n = shape.reduce((a, b) => a * b, 1);
  // A mean far from 0 per channel, as activations after a bias have.
  const xv = randn(rng, n).map((v, i) => v * 2 + (i % 16) * 3);
  const dyv = randn(rng, n);
  const gamma = randn(rng, 16);
  const steps = () => {
    const x = tf.tensor4d(xv, shape);
    const dy = tf.tensor4d(dyv, shape);
    const bn = batchNormTraining(x, { scale: tf.tensor1d(gamma), offset: tf.ones([16]), epsilon: 1e-3 });
    const [dxBn, dScale] = tf.grads((a, g) => tf.sum(tf.mul(batchNormTraining(a, { scale: g as tf.Tensor1D, epsilon: 1e-3 }).y, dy)))([
      x,
      tf.tensor1d(gamma),
    ]);
    const gn = groupNorm(tf.reshape(x, [16, 576, 16]) as tf.Tensor3D, 4, 1e-3);
    const [dxGn] = tf.grads((a) => tf.sum(tf.mul(groupNorm(a as tf.Tensor3D, 4, 1e-3), tf.reshape(dy, [16, 576, 16]))))([
      tf.reshape(x, [16, 576, 16]),
    ]);
    const pool = tf.maxPool(x, 2, 2, 'valid');
    const [dxPool] = tf.grads((a) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), tf.ones(pool.shape))))([x]);
    const [dxPool3] = tf.grads((a) => tf.sum(tf.maxPool(a as tf.Tensor4D, 3, 2, 'same')))([x]);
    const [dxRelu] = tf.grads((a) => tf.sum(tf.mul(tf.relu(a), dy)))([tf.sub(x, 20)]);
    const biased = tf.add(x, tf.tensor1d(gamma));
    return [bn.y, bn.mean, bn.variance, dxBn, dScale, gn, dxGn, pool, dxPool, dxPool3, dxRelu, biased] as tf.Tensor[];
  };

  it('match the cpu backend, and one thread: element-wise results exactly, statistics up to rounding', async () => {
    const before = threadsFor(wasm())?.callsOnWorkers ?? 0;
    const two = await on('wasm', steps);
    expect(threadsFor(wasm())?.callsOnWorkers ?? 0).toBeGreaterThan(before + 10);
    const cpu = await on('cpu', steps);
    for (let i = 0; i < two.length; i++) expect([i, relError(two[i] as Float32Array, cpu[i] as Float32Array) < 1e-5]).toEqual([i, true]);
    expect(await setKernelThreads(wasm(), 1)).toBe(1);
    try {
      const one = await on('wasm', steps);
      // Pooling, its gradients, ReLU's gradient, the bias add and group norm (whole samples
      // per thread) are computed element by element as on one thread.
      for (const i of [5, 6, 7, 8, 9, 10, 11])
        expect([i, Array.from(two[i] as Float32Array)]).toEqual([i, Array.from(one[i] as Float32Array)]);
      // Batch norm's statistics are merged from the threads' rows: equal up to rounding.
      for (const i of [0, 1, 2, 3, 4]) expect([i, relError(two[i] as Float32Array, one[i] as Float32Array) < 1e-6]).toEqual([i, true]);
    } finally {
      expect(await setKernelThreads(wasm(), 2)).toBe(2);
    }
  });
});

test('a large matrix product is split over the threads and matches the cpu backend', async () => {
  const rng = new Rng(3);
  const a = randn(rng, 300 * 200);
  const b = randn(rng, 200 * 100);
  const before = threadsFor(wasm())?.callsOnWorkers ?? 0;
  const [c2] = await on('wasm', () => [tf.matMul(tf.tensor2d(a, [300, 200]), tf.tensor2d(b, [200, 100]))]);
  expect(threadsFor(wasm())?.callsOnWorkers ?? 0).toBeGreaterThan(before);
  const [cc] = await on('cpu', () => [tf.matMul(tf.tensor2d(a, [300, 200]), tf.tensor2d(b, [200, 100]))]);
  expect(relError(c2 as Float32Array, cc as Float32Array)).toBeLessThan(1e-5);
});

test('a call that traps on a worker is an error on the calling thread, and the threads keep working', async () => {
  const threads = threadsFor(wasm());
  if (!threads) throw new Error('no threads');
  const heapBytes = wasm().wasm.HEAPF32.buffer.byteLength;
  // reluGrad of 64 floats read from past the end of the heap: an out-of-bounds trap.
  threads.lane(1).reluGrad(heapBytes + 4096, heapBytes + 4096, 64, heapBytes + 8192);
  expect(() => threads.run()).toThrow(/failed on kernel thread 1/);
  expect(threads.failure).toBeNull();
  const rng = new Rng(5);
  const a = randn(rng, 256 * 256);
  const [c] = await on('wasm', () => [tf.matMul(tf.tensor2d(a, [256, 256]), tf.eye(256))]);
  expect(Array.from(c as Float32Array)).toEqual(Array.from(a));
});

test('an error while a kernel records its shares leaves nothing behind for the next run', () => {
  const threads = threadsFor(wasm());
  if (!threads) throw new Error('no threads');
  const heapBytes = wasm().wasm.HEAPF32.buffer.byteLength;
  threads.lane(1).reluGrad(heapBytes + 4096, heapBytes + 4096, 64, heapBytes + 8192);
  threads.discard();
  expect(() => threads.run()).not.toThrow();
});

test('threads must be a whole number from 1 to 256', async () => {
  for (const threads of [0, 1.5, -2, 1000, Number.NaN]) {
    const err = await initBackend({ threads }).catch((e: unknown) => e);
    expect(isBnlabError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toMatch(/threads must be an integer from 1 to 256/);
  }
  // Still on two threads.
  expect(kernelThreadCount(wasm())).toBe(2);
});

test('initBackend changes the count on the shared heap, and stopping the threads leaves one', async () => {
  expect((await initBackend({ threads: 3 })).kernelThreads).toBe(3);
  expect((await initBackend({ threads: 1 })).kernelThreads).toBe(1);
  expect(threadsFor(wasm())).toBeNull();
  expect((await initBackend({ threads: 2 })).kernelThreads).toBe(2);
  stopKernelThreads();
  expect(kernelThreadCount(wasm())).toBe(1);
  expect(simdFor(wasm())).not.toBeNull();
  const [c] = await on('wasm', () => [tf.matMul(tf.ones([300, 200]), tf.ones([200, 100]))]);
  expect(Array.from(new Set(c))).toEqual([200]);
  expect((await initBackend({ threads: 2 })).kernelThreads).toBe(2);
});
