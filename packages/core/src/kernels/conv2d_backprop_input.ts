import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { GEMM_STRIDED_SCRATCH, imagesPerSlice, packB } from './gemm.js';
import { ptr, Scratch, simdFor } from './simd/simd_module.js';
import { winogradAppliesToInputGrad, winogradInputGrad } from './winograd.js';
import { assertDyShape } from './dy_shape.js';
import { forSlices, imagesPerLane } from '../threads/kernel_threads.js';
import { asWasmBackend, disposeAll, runWasmKernel, transpose } from './wasm_backend.js';

let stockKernel: KernelFunc | null = null;

/**
 * Keeps tfjs-backend-wasm's own `Conv2DBackpropInput` for the cases the fast path below
 * does not cover (strides above 1, channels-first data, padding wider than the filter).
 */
export function setStockConv2DBackpropInput(kernel: KernelFunc | null): void {
  stockKernel = kernel;
}

/**
 * Gradient of a 2-D convolution with respect to its input, on the wasm backend.
 *
 * With bnlab's SIMD module (the normal case, channels-last data, any stride and padding)
 * it is a matrix product and a scatter: the patch-matrix gradient
 * `dcols[p, (kh, kw, ci)] = Σ_co dy[p, co] · W[kh, kw, ci, co]` (`dy · Wᵀ`, a packed SIMD
 * GEMM) is added back onto the pixels each patch was read from (col2im).
 *
 * Without SIMD, for stride 1 the input gradient is a convolution too, which runs on the backend's
 * XNNPACK `Conv2D` (about ten times faster than tfjs-backend-wasm's scalar loop):
 *
 *   dx[b, h, w, ci] = Σ_{kh, kw, co} dy[b, h + top − kh, w + left − kw, co] · W[kh, kw, ci, co]
 *
 * is `dy`, padded by `K − 1 − pad` before and enough after to give back `H × W`,
 * convolved with the filter flipped in space and with its channel axes swapped.
 */
const conv2DBackpropInput: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth } = info;
  const { top, left } = info.padInfo;
  const simd = simdFor(backend);
  if (simd && info.dataFormat === 'channelsLast') {
    assertDyShape('Conv2DBackpropInput', dy, [info.batchSize, outHeight, outWidth, info.outChannels]);
    const dx = backend.makeOutput(inputShape.slice(), 'float32');
    const patch = kh * kw * info.inChannels;
    const scratch = new Scratch(backend);
    try {
      if (winogradAppliesToInputGrad(info)) {
        winogradInputGrad(simd, scratch, backend, info, ptr(backend, dy), ptr(backend, filter), ptr(backend, dx));
        return dx;
      }
      // A few images at a time, so the patch-matrix gradient is read back from cache; Wᵀ
      // is packed once, dy's rows are read where they lie.
      const pixels = outHeight * outWidth;
      const co = info.outChannels;
      const chunk = imagesPerLane(backend, imagesPerSlice(pixels * patch, info.batchSize), info.batchSize);
      const wT = packB(simd, scratch, { at: ptr(backend, filter), transposed: true, ld: co }, co, patch);
      const at = ptr(backend, dx);
      const imageFloats = inHeight * inWidth * info.inChannels;
      backend.wasm.HEAPF32.fill(0, at >> 2, (at >> 2) + info.batchSize * imageFloats);
      // Slices of whole images (whose pixels of dx no other slice touches) split over the
      // kernel threads, each with its own patch-matrix gradient.
      forSlices(backend, simd, Math.ceil(info.batchSize / chunk), (lane, first, end) => {
        const dcols = scratch.alloc(chunk * pixels * patch);
        const work = scratch.alloc(GEMM_STRIDED_SCRATCH);
        for (let s = first; s < end; s++) {
          const b0 = s * chunk;
          const nb = Math.min(chunk, info.batchSize - b0);
          lane.gemmStrided(
            ptr(backend, dy) + b0 * pixels * co * 4,
            4 * co,
            4,
            16 * co,
            wT.packedB,
            32,
            32 * co,
            nb * pixels,
            patch,
            co,
            dcols,
            patch,
            false,
            work,
            work + 32 * 4,
          );
          lane.col2im(
            dcols,
            nb,
            inHeight,
            inWidth,
            info.inChannels,
            kh,
            kw,
            info.strideHeight,
            info.strideWidth,
            1,
            1,
            top,
            left,
            outHeight,
            outWidth,
            at + b0 * imageFloats * 4,
          );
        }
      });
    } finally {
      scratch.free();
    }
    return dx;
  }
  const padTop = kh - 1 - top;
  const padLeft = kw - 1 - left;
  const padBottom = inHeight - outHeight + top;
  const padRight = inWidth - outWidth + left;
  const fast =
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dataFormat === 'channelsLast' &&
    Math.min(padTop, padLeft, padBottom, padRight) >= 0;
  if (!fast) {
    if (!stockKernel) throw new Error('bnlab: no Conv2DBackpropInput kernel for this case on wasm');
    return stockKernel(args);
  }

  const flipped = runWasmKernel('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const swapped = transpose(backend, flipped, [0, 1, 3, 2]);
  const dx = runWasmKernel('Conv2D', backend, { x: dy, filter: swapped }, {
    strides: [1, 1],
    pad: [
      [0, 0],
      [padTop, padBottom],
      [padLeft, padRight],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined,
  } as never);
  disposeAll(backend, [flipped, swapped]);
  return dx;
};

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput,
};
