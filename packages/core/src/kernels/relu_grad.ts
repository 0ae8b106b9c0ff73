import {
  engine,
  getBackend,
  getGradient,
  getKernel,
  mul,
  registerGradient,
  Relu,
  step,
  unregisterGradient,
  util,
} from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, simdFor } from './simd/simd_module.js';
import { asWasmBackend } from './wasm_backend.js';
import { forRows } from '../threads/kernel_threads.js';

/** Kernel name of the fused ReLU gradient, `dy · step(x)`. */
export const RELU_GRAD_KERNEL = 'BnlabReluGrad';

/**
 * `dy · step(x)` in one SIMD pass on wasm. tfjs-core's gradient of `Relu` is
 * `mul(dy, cast(step(x), 'float32'))`: three kernels and two temporaries the size of the
 * activation (about 2% of a training step of the benchmark CNN at its first layer).
 */
const reluGrad: KernelFunc = ({ inputs, backend: anyBackend }) => {
  const backend = asWasmBackend(anyBackend);
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const simd = simdFor(backend);
  if (!simd) throw new Error('bnlab: BnlabReluGrad needs the SIMD module');
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  // In blocks of 1024 floats split over the kernel threads.
  const n = util.sizeFromShape(x.shape);
  const [dyAt, xAt, outAt] = [ptr(backend, dy), ptr(backend, x), ptr(backend, out)];
  forRows(backend, simd, Math.ceil(n / 1024), 1024, (lane, b0, b1) => {
    const e0 = b0 * 1024;
    lane.reluGrad(dyAt + e0 * 4, xAt + e0 * 4, Math.min(n, b1 * 1024) - e0, outAt + e0 * 4);
  });
  return out;
};

export const reluGradConfig: KernelConfig = { kernelName: RELU_GRAD_KERNEL, backendName: 'wasm', kernelFunc: reluGrad };

let stockGradient: GradConfig | null = null;

/** bnlab's gradient of `Relu`: the fused kernel where it runs, tfjs's own formula elsewhere. */
const ours: GradConfig = {
  kernelName: Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as Tensor[];
    const d = dy as Tensor;
    if (fusedReluGradientHere(d, x!)) return { x: () => engine().runKernel(RELU_GRAD_KERNEL, { dy: d, x: x! }) as Tensor };
    return stockGradient!.gradFunc(dy, saved, attrs as NamedAttrMap);
  },
};

/**
 * Whether the fused kernel computes ReLU's gradient here: float32, a backend with the
 * kernel (and, on wasm, the SIMD module), and no tape recording the gradient itself (a
 * gradient of a gradient needs tfjs's differentiable formula; the kernel has no gradient).
 */
function fusedReluGradientHere(dy: Tensor, x: Tensor): boolean {
  return (
    engine().state.gradientDepth === 0 &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    getKernel(RELU_GRAD_KERNEL, getBackend()) !== undefined &&
    (getBackend() !== 'wasm' || simdFor(asWasmBackend(engine().backend)) !== null)
  );
}

/**
 * ReLU's gradient `dy · step(x)` (tfjs's step: 0 for x ≤ 0, NaN for NaN), in one fused
 * kernel where it runs, else as tfjs's own formula. `x` may be ReLU's input or its output:
 * both are positive at the same places.
 */
export function reluGradient(dy: Tensor, x: Tensor): Tensor {
  if (fusedReluGradientHere(dy, x)) return engine().runKernel(RELU_GRAD_KERNEL, { dy, x }) as Tensor;
  return mul(dy, step(x));
}

/** Makes {@link ours} the gradient of `Relu` (idempotent), keeping tfjs's own for the rest. */
export function useFusedReluGradient(): void {
  const current = getGradient(Relu);
  if (current === ours) return;
  stockGradient = current ?? null;
  if (!stockGradient) return; // no gradient to fall back on: leave tfjs alone
  registerGradient(ours);
}

/** Puts tfjs's own gradient of `Relu` back (the benchmark's stock side). */
export function useStockReluGradient(): void {
  if (getGradient(Relu) !== ours || !stockGradient) return;
  unregisterGradient(Relu);
  registerGradient(stockGradient);
}
