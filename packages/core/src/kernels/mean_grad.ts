import { engine, getBackend, getGradient, getKernel, Mean, registerGradient, unregisterGradient, util } from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, MeanAttrs, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { reducedBlock } from './reduce.js';
import { ptr, simdFor } from './simd/simd_module.js';
import { asWasmBackend } from './wasm_backend.js';

/** Kernel name of the fused gradient of a mean over a run of axes, `dx = dy / n` spread over them. */
export const MEAN_GRAD_KERNEL = 'BnlabMeanGrad';

interface MeanGradAttrs {
  /** The shape of the mean's input (and of dx). */
  shape: number[];
  start: number;
  end: number;
}

/**
 * dx = dy / n repeated over the reduced axes start…end−1 (n their size), in one SIMD pass on
 * wasm. tfjs-core's gradient of `Mean` is `div(mul(reshape(dy), ones(x.shape)), n)`: a
 * JavaScript array of ones the size of the activation made on every step (and copied onto the
 * heap), a broadcasting multiply and a division, for ResNet's global average pooling.
 */
const meanGrad: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = asWasmBackend(anyBackend);
  const { dy } = inputs as { dy: TensorInfo };
  const { shape, start, end } = attrs as unknown as MeanGradAttrs;
  const simd = simdFor(backend);
  if (!simd) throw new Error('bnlab: BnlabMeanGrad needs the SIMD module');
  const out = backend.makeOutput(shape.slice(), 'float32');
  const rows = util.sizeFromShape(shape.slice(start, end));
  const slices = util.sizeFromShape(shape.slice(0, start));
  const cols = util.sizeFromShape(shape.slice(end));
  if (slices * rows * cols > 0) simd.spreadRows(ptr(backend, dy), slices, rows, cols, Math.fround(1 / rows), ptr(backend, out));
  return out;
};

export const meanGradConfig: KernelConfig = { kernelName: MEAN_GRAD_KERNEL, backendName: 'wasm', kernelFunc: meanGrad };

let stockGradient: GradConfig | null = null;

/** bnlab's gradient of `Mean`: the fused kernel where it runs, tfjs's own formula elsewhere. */
const ours: GradConfig = {
  kernelName: Mean,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as Tensor[];
    const d = dy as Tensor;
    const block = reducedBlock((attrs as unknown as MeanAttrs).axis, x!.shape.length);
    if (block && fusedHere(d, x!)) {
      return {
        x: () => engine().runKernel(MEAN_GRAD_KERNEL, { dy: d }, { shape: x!.shape, ...block } as unknown as NamedAttrMap) as Tensor,
      };
    }
    return stockGradient!.gradFunc(dy, saved, attrs as NamedAttrMap);
  },
};

/**
 * Whether the fused kernel computes the gradient here: float32, wasm with the SIMD module,
 * and no tape recording the gradient itself (a gradient of a gradient needs tfjs's
 * differentiable formula; the kernel has no gradient).
 */
function fusedHere(dy: Tensor, x: Tensor): boolean {
  return (
    engine().state.gradientDepth === 0 &&
    getBackend() === 'wasm' &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    getKernel(MEAN_GRAD_KERNEL, 'wasm') !== undefined &&
    simdFor(asWasmBackend(engine().backend)) !== null
  );
}

/** Makes {@link ours} the gradient of `Mean` (idempotent), keeping tfjs's own for the rest. */
export function useFusedMeanGradient(): void {
  const current = getGradient(Mean);
  if (current === ours) return;
  stockGradient = current ?? null;
  if (!stockGradient) return; // no gradient to fall back on: leave tfjs alone
  registerGradient(ours);
}

/** Puts tfjs's own gradient of `Mean` back (the benchmark's stock side). */
export function useStockMeanGradient(): void {
  if (getGradient(Mean) !== ours || !stockGradient) return;
  unregisterGradient(Mean);
  registerGradient(stockGradient);
}
