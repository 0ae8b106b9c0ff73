import { Identity } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmBackend } from './wasm_backend.js';
import { runStock } from './stock.js';

/**
 * `Identity` on the wasm backend without a copy: the output shares the input's data (with
 * its reference count raised), as the cpu backend's `Identity` and the wasm `Reshape` do.
 * Tensors are immutable and no kernel writes into its inputs, so sharing is safe.
 *
 * tfjs clones every tensor it saves for the backward pass and every value it keeps, through
 * this kernel: tfjs-backend-wasm 4.22 copies each one (about 5% of a CNN's training step).
 */
const identity: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return runStock('Identity', args);
  (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
};

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identity,
};
