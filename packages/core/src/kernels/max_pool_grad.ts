import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, simdFor } from './simd/simd_module.js';
import { asWasmBackend } from './wasm_backend.js';
import { forRows } from '../threads/kernel_threads.js';

/**
 * Gradient of 2-D max pooling on the wasm backend: each output gradient goes to the
 * first position holding its window's maximum (as the cpu backend and TensorFlow do).
 *
 * Replaces tfjs-backend-wasm 4.22's `MaxPoolGrad`, which routes the gradient to the wrong
 * pixel, or drops it, whenever a window's maximum is negative (e.g. max pooling before an
 * activation, or after a normalization): a silent training bug.
 *
 * NHWC layout: the window is scanned pixel by pixel with the channels innermost, so every
 * read is contiguous. bnlab's SIMD module does four channels at a time in place on the
 * backend's memory; a JavaScript loop is the fallback where WebAssembly SIMD is missing.
 */
const maxPoolGrad: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = asWasmBackend(anyBackend);
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;

  const out = backend.makeOutput(input.shape.slice(), 'float32');
  const simd = simdFor(backend);
  if (simd) {
    const at = ptr(backend, out);
    const size = input.shape.reduce((a, b) => a * b, 1);
    const [xAt, dyAt, inImage, dyImage] = [
      ptr(backend, input),
      ptr(backend, dy),
      inHeight * inWidth * channels * 4,
      outHeight * outWidth * channels * 4,
    ];
    const inside = top === 0 && left === 0 && 2 * outHeight <= inHeight && 2 * outWidth <= inWidth;
    if (fh === 2 && fw === 2 && strideHeight === 2 && strideWidth === 2 && inside && channels % 4 === 0) {
      // Non-overlapping windows: every input written once (uncovered ones zeroed), no scatter.
      forRows(backend, simd, batchSize, inImage / 4, (lane, b0, b1) =>
        lane.maxPoolGrad2x2(
          xAt + b0 * inImage,
          dyAt + b0 * dyImage,
          at + b0 * inImage,
          b1 - b0,
          inHeight,
          inWidth,
          channels,
          outHeight,
          outWidth,
        ),
      );
      return out;
    }
    backend.wasm.HEAPF32.fill(0, at >> 2, (at >> 2) + size);
    // Images split over the kernel threads (windows never cross images).
    forRows(backend, simd, batchSize, inImage / 4, (lane, b0, b1) =>
      lane.maxPoolGrad(
        xAt + b0 * inImage,
        dyAt + b0 * dyImage,
        at + b0 * inImage,
        b1 - b0,
        inHeight,
        inWidth,
        channels,
        outHeight,
        outWidth,
        fh,
        fw,
        strideHeight,
        strideWidth,
        top,
        left,
      ),
    );
    return out;
  }
  // Views are taken after the output is allocated: allocation may grow wasm memory.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const xs = backend.typedArrayFromHeap(input) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  const best = new Float32Array(channels);
  const where = new Int32Array(channels);

  for (let b = 0; b < batchSize; b++) {
    const xBase = b * inHeight * inWidth * channels;
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = Math.max(0, oh * strideHeight - top);
      const h1 = Math.min(inHeight, oh * strideHeight - top + fh);
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = Math.max(0, ow * strideWidth - left);
        const w1 = Math.min(inWidth, ow * strideWidth - left + fw);
        best.fill(-Infinity);
        where.fill(-1);
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) {
            const p = xBase + (h * inWidth + w) * channels;
            for (let c = 0; c < channels; c++) {
              const v = xs[p + c] as number;
              // Strict '>' keeps the first maximum; NaN never wins, as on cpu.
              if (v > (best[c] as number)) {
                best[c] = v;
                where[c] = p + c;
              }
            }
          }
        }
        const yOffset = ((b * outHeight + oh) * outWidth + ow) * channels;
        for (let c = 0; c < channels; c++) {
          const at = where[c] as number;
          if (at >= 0) dx[at] = (dx[at] as number) + (dys[yOffset + c] as number);
        }
      }
    }
  }
  return out;
};

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad,
};
