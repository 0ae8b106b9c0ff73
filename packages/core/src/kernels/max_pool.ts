import { backend_util, MaxPool } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, MaxPoolAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, simdFor } from './simd/simd_module.js';
import { runStock } from './stock.js';
import { asWasmBackend } from './wasm_backend.js';
import { forRows } from '../threads/kernel_threads.js';

/**
 * `MaxPool` on the wasm backend for the CNN case, 2×2 windows with stride 2 inside the
 * image and channels in multiples of 4 (NHWC): one SIMD pass, each window's maximum with
 * NaN ignored, as the cpu backend and bnlab's `MaxPoolGrad` choose it. tfjs-backend-wasm's
 * XNNPACK pooling took about twice as long on the benchmark CNN's first layer. Every other
 * case goes to tfjs-backend-wasm's own kernel, where a NaN in a window wins it (while
 * `MaxPoolGrad` still ignores NaN, as on cpu): only there can the two disagree on NaN inputs.
 */
const maxPool: KernelFunc = (args) => {
  const backend = asWasmBackend(args.backend);
  const { x } = args.inputs as { x: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolAttrs;
  const simd = simdFor(backend);
  if (!simd || x.dtype !== 'float32' || x.shape.length !== 4) return runStock(MaxPool, args);
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const fast =
    info.effectiveFilterHeight === 2 &&
    info.effectiveFilterWidth === 2 &&
    info.strideHeight === 2 &&
    info.strideWidth === 2 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    2 * outHeight <= inHeight &&
    2 * outWidth <= inWidth &&
    inChannels % 4 === 0;
  if (!fast) return runStock(MaxPool, args);
  const out = backend.makeOutput(info.outShape.slice(), 'float32');
  if (batchSize * outHeight * outWidth * inChannels > 0) {
    // Images split over the kernel threads.
    const [xAt, outAt, inImage, outImage] = [
      ptr(backend, x),
      ptr(backend, out),
      inHeight * inWidth * inChannels * 4,
      outHeight * outWidth * inChannels * 4,
    ];
    forRows(backend, simd, batchSize, inImage / 4, (lane, b0, b1) =>
      lane.maxPool2x2(xAt + b0 * inImage, b1 - b0, inHeight, inWidth, inChannels, outHeight, outWidth, outAt + b0 * outImage),
    );
  }
  return out;
};

export const maxPoolConfig: KernelConfig = { kernelName: MaxPool, backendName: 'wasm', kernelFunc: maxPool };
