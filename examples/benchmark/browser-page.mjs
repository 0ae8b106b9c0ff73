// The page script of browser.mjs (bundled with esbuild, as an application bundles bnlab):
// trains and runs inference on one benchmark model with bnlab on the wasm backend, with the
// threads the page asks for, and reports images/s and the backend it got.
import * as tf from '@tensorflow/tfjs-core';
import { adam, initBackend } from '@bnlab/core';
import { kerasCnn } from '@bnlab/models';

globalThis.bnlabBench = async ({ threads, model, steps, warmup, testImages }) => {
  const info = await initBackend({ wasmPaths: '/wasm/', threads, strict: true });
  const net = kerasCnn({ norm: { type: model === 'cnn-bn' ? 'batch' : 'none' } });
  const optimizer = adam(1e-3);
  // MNIST-shaped batches of fixed random pixels and labels: the speed does not depend on them.
  const xs = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 1);
  const ys = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32', 2), 10);
  const step = () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, net.apply(xs, { training: true })), true);
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  for (let i = 0; i < warmup; i++) step();
  let t0 = performance.now();
  let loss = NaN;
  for (let i = 0; i < steps; i++) loss = step();
  const trainSeconds = (performance.now() - t0) / 1000;
  const test = tf.randomUniform([1000, 28, 28, 1], 0, 1, 'float32', 3);
  tf.tidy(() => net.predict(test).dataSync());
  t0 = performance.now();
  for (let i = 0; i < testImages; i += 1000) tf.tidy(() => net.predict(test).dataSync());
  const inferSeconds = (performance.now() - t0) / 1000;
  return {
    info: { simd: info.simd, simdKernels: info.simdKernels, threads: info.threads },
    crossOriginIsolated: globalThis.crossOriginIsolated,
    trainImgPerS: (steps * 64) / trainSeconds,
    inferImgPerS: testImages / inferSeconds,
    loss,
  };
};
