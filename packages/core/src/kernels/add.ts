import { Add, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, simdFor } from './simd/simd_module.js';
import { runStock } from './stock.js';
import { asWasmBackend } from './wasm_backend.js';
import { forRows } from '../threads/kernel_threads.js';

/** The per-channel vector of a bias add: shape `[C]` or `[1, …, 1, C]`, C = x's last dimension. */
function isChannelVector(v: TensorInfo, x: TensorInfo): boolean {
  const c = x.shape[x.shape.length - 1];
  return (
    x.shape.length >= 2 &&
    v.shape.length >= 1 &&
    v.shape.length <= x.shape.length &&
    v.shape[v.shape.length - 1] === c &&
    v.shape.slice(0, -1).every((d) => d === 1)
  );
}

/**
 * `Add` on the wasm backend when one operand is a per-channel vector broadcast over the
 * other (a layer's bias, `[N, H, W, C] + [C]`): one SIMD pass. tfjs-backend-wasm's
 * broadcasting add took 1.2 ms for the benchmark CNN's first layer (64×26×26×32), about
 * twice as long. Every other add goes to tfjs-backend-wasm's own kernel.
 */
const add: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const simd = simdFor(backend);
  if (!simd || a.dtype !== 'float32' || b.dtype !== 'float32') return runStock(Add, args);
  const [x, v] = isChannelVector(b, a) ? [a, b] : isChannelVector(a, b) ? [b, a] : [null, null];
  if (!x || !v) return runStock(Add, args);
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const cols = x.shape[x.shape.length - 1] as number;
  const size = util.sizeFromShape(x.shape);
  if (size > 0) {
    const [xAt, vAt, outAt] = [ptr(backend, x), ptr(backend, v), ptr(backend, out)];
    forRows(backend, simd, size / cols, cols, (lane, r0, r1) =>
      lane.biasRelu(xAt + r0 * cols * 4, r1 - r0, cols, vAt, false, outAt + r0 * cols * 4),
    );
  }
  return out;
};

export const addConfig: KernelConfig = { kernelName: Add, backendName: 'wasm', kernelFunc: add };
