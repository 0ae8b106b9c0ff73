import { backend_util, Conv2DBackpropFilter } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { cacheSpreadStride, GEMM_STRIDED_SCRATCH, imagesPerSlice } from './gemm.js';
import { ptr, Scratch, simdFor } from './simd/simd_module.js';
import { fewChannelConv, paddedPlanes } from './few_channel_conv.js';
import { winogradApplies, winogradFilterGrad } from './winograd.js';
import { assertDyShape } from './dy_shape.js';
import { addInto, forSlices, imagesPerLane } from '../threads/kernel_threads.js';
import { asWasmBackend, disposeAll, runWasmKernel, transpose } from './wasm_backend.js';
import type { WasmBackendLike } from './wasm_backend.js';

/**
 * Gradient of a 2-D convolution with respect to its filter, on the wasm backend.
 *
 * With bnlab's SIMD module (the normal case) it is one matrix product over the patch
 * matrix of `x`: `dW[(kh, kw, ci), co] = Σ_p cols[p, (kh, kw, ci)] · dy[p, co]`, where
 * `p` runs over batch × output pixels, i.e. `dW = colsᵀ · dy`, computed in place on the
 * backend's memory by a packed SIMD GEMM (colsᵀ is written straight in packed form); a
 * few input channels (1–4) with a 3-wide filter are summed directly (see fewChannelConv).
 *
 * Without SIMD the filter gradient, itself a convolution, runs on the backend's XNNPACK
 * `Conv2D`:
 *
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh·s + kh − pad, ow·s + kw − pad, ci] · dy[b, oh, ow, co]
 *
 * is a convolution of `x` seen as `[ci, H, W, b]` (input channels as the batch, the batch
 * as channels) with `dy` seen as the filter `[OH, OW, b, co]`, where the forward stride
 * becomes the dilation and the output is `[ci, KH, KW, co]`.
 */
const conv2DBackpropFilter: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = asWasmBackend(anyBackend);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const channelsFirst = backend_util.convertConv2DDataFormat(dataFormat) === 'channelsFirst';

  // Work in NHWC: the wasm Conv2D kernel supports only channels-last.
  const xNhwc = channelsFirst ? transpose(backend, x, [0, 2, 3, 1]) : x;
  const dyNhwc = channelsFirst ? transpose(backend, dy, [0, 2, 3, 1]) : dy;
  const info = backend_util.computeConv2DInfo(
    xNhwc.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const simd = simdFor(backend);
  try {
    assertDyShape('Conv2DBackpropFilter', dyNhwc, [info.batchSize, outHeight, outWidth, info.outChannels]);
  } catch (e) {
    if (channelsFirst) disposeAll(backend, [xNhwc, dyNhwc]);
    throw e;
  }
  if (simd) {
    const dW = backend.makeOutput(filterShape.slice(), 'float32');
    const patch = kh * kw * info.inChannels;
    const scratch = new Scratch(backend);
    try {
      const planes = fewChannelConv(info) ? paddedPlanes(simd, scratch, ptr(backend, xNhwc), info) : null;
      if (planes) {
        // Images split over the kernel threads, each summing into its own filter gradient.
        const inImage = planes.hp * planes.wp * info.inChannels * 4;
        const dyImage = outHeight * outWidth * info.outChannels * 4;
        const partial: number[] = [];
        forSlices(backend, simd, info.batchSize, (lane, first, end, index) => {
          const out = index === 0 ? ptr(backend, dW) : scratch.alloc(kh * kw * info.inChannels * info.outChannels);
          if (index > 0) partial.push(out);
          lane.convFew3Grad(
            planes.at + first * inImage,
            end - first,
            planes.hp,
            planes.wp,
            info.inChannels,
            kh,
            ptr(backend, dyNhwc) + first * dyImage,
            info.outChannels,
            outHeight,
            outWidth,
            out,
          );
        });
        addInto(backend, ptr(backend, dW), partial, kh * kw * info.inChannels * info.outChannels);
        return dW;
      }
      if (info.batchSize * outHeight * outWidth === 0) {
        (backend.typedArrayFromHeap(dW) as Float32Array).fill(0);
        return dW;
      }
      if (winogradApplies(info)) {
        winogradFilterGrad(simd, scratch, info, ptr(backend, xNhwc), ptr(backend, dyNhwc), ptr(backend, dW));
        return dW;
      }
      // colsᵀ goes straight into panels of the GEMM's layout (4 patch entries by the slice's
      // pixels, spread over the cache sets), a few images at a time (so it is read back from
      // cache); each slice's product, with dy read where it lies, is added onto dW.
      const pixels = outHeight * outWidth;
      const co = info.outChannels;
      const chunk = imagesPerLane(backend, imagesPerSlice(pixels * patch, info.batchSize), info.batchSize);
      const panelFloats = cacheSpreadStride(4 * chunk * pixels);
      // Slices of images split over the kernel threads, each adding onto its own gradient.
      const partial: number[] = [];
      forSlices(backend, simd, Math.ceil(info.batchSize / chunk), (lane, first, end, index) => {
        const packed = scratch.alloc(Math.ceil(patch / 4) * panelFloats);
        const work = scratch.alloc(GEMM_STRIDED_SCRATCH);
        const out = index === 0 ? ptr(backend, dW) : scratch.alloc(patch * co);
        if (index > 0) partial.push(out);
        for (let s = first; s < end; s++) {
          const b0 = s * chunk;
          const nb = Math.min(chunk, info.batchSize - b0);
          lane.im2colPackedT(
            ptr(backend, xNhwc) + b0 * inHeight * inWidth * info.inChannels * 4,
            nb,
            inHeight,
            inWidth,
            info.inChannels,
            kh,
            kw,
            strideHeight,
            strideWidth,
            info.dilationHeight,
            info.dilationWidth,
            top,
            left,
            outHeight,
            outWidth,
            packed,
            4 * panelFloats,
          );
          lane.gemmStrided(
            packed,
            4,
            16,
            4 * panelFloats,
            ptr(backend, dyNhwc) + b0 * pixels * co * 4,
            4 * co,
            32,
            patch,
            co,
            nb * pixels,
            out,
            co,
            s > first,
            work,
            work + 32 * 4,
          );
        }
      });
      addInto(backend, ptr(backend, dW), partial, patch * co);
    } finally {
      scratch.free();
      if (channelsFirst) disposeAll(backend, [xNhwc, dyNhwc]);
    }
    return dW;
  }
  return viaXnnpackConv(backend, xNhwc, dyNhwc, info, channelsFirst);
};

function viaXnnpackConv(
  backend: WasmBackendLike,
  xNhwc: TensorInfo,
  dyNhwc: TensorInfo,
  info: backend_util.Conv2DInfo,
  channelsFirst: boolean,
): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  // Pad the far side so the "output" of the transposed convolution is exactly KH × KW;
  // when the forward pass left input rows unused, the result is larger and is cropped.
  const bottom = Math.max(0, kh + (outHeight - 1) * strideHeight - inHeight - top);
  const right = Math.max(0, kw + (outWidth - 1) * strideWidth - inWidth - left);

  const xT = transpose(backend, xNhwc, [3, 1, 2, 0]);
  const dyT = transpose(backend, dyNhwc, [1, 2, 0, 3]);
  const conv = runWasmKernel('Conv2D', backend, { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    dataFormat: 'NHWC',
    dilations: [strideHeight, strideWidth],
    dimRoundingMode: undefined,
  } as never);
  let cropped = conv;
  if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
    cropped = runWasmKernel('Slice', backend, { x: conv }, { begin: [0, 0, 0, 0], size: [-1, kh, kw, -1] });
  }
  const dW = transpose(backend, cropped, [1, 2, 0, 3]);
  disposeAll(backend, [xT, dyT, conv, cropped === conv ? null : cropped]);
  if (channelsFirst) disposeAll(backend, [xNhwc, dyNhwc]);
  return dW;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};
