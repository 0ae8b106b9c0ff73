import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@bnlab/core';

/**
 * Starts a backend for tests (cpu by default: exact reference runs; wasm, with bnlab's
 * training kernels, for the faster end-to-end runs), without tfjs's "install tfjs-node"
 * banner.
 */
export async function initTestBackend(backend: 'cpu' | 'wasm' = 'cpu'): Promise<void> {
  tf.env().set('PROD', true);
  const info = await initBackend({ backend, strict: true });
  if (info.backend !== backend) throw new Error(`wanted the ${backend} backend, got ${info.backend}`);
}
