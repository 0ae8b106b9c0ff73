import { backend_util, Conv2D, FusedConv2D } from '@tensorflow/tfjs-core';
import type { Conv2DAttrs, FusedConv2DAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { gemm, imagesPerSlice, packB, packedASize } from './gemm.js';
import { ptr, Scratch, simdFor } from './simd/simd_module.js';
import { fewChannelConv, paddedPlanes } from './few_channel_conv.js';
import { runStock } from './stock.js';
import { winogradApplies, winogradConv } from './winograd.js';
import { forSlices, imagesPerLane } from '../threads/kernel_threads.js';
import { asWasmBackend, disposeAll, runWasmKernel } from './wasm_backend.js';

/** Filters (by data id) this kernel has convolved with: a repeat means fixed weights. */
const seenFilters = new WeakSet<object>();

/**
 * A forward 2-D convolution as one matrix product, `y[p, co] = Σ cols[p, (kh, kw, ci)] ·
 * W[(kh, kw, ci), co]`, over the patch matrix of `x`, with bias and ReLU applied in place.
 *
 * In training the filter changes every step, and tfjs-backend-wasm's XNNPACK convolution
 * then rebuilds its operator (repacking the filter and its indirection buffer) on every
 * call; that made it slower than this packed SIMD GEMM on the benchmark CNN's layers.
 * A filter seen before (inference, or a frozen layer) goes to XNNPACK instead, whose cached
 * operator is then the faster choice, unless the padding is explicit (see below) or one of
 * bnlab's special kernels applies: one to four input channels with a 3-wide filter skip the
 * patch matrix (see fewChannelConv), and 3×3 stride-1 convolutions run as Winograd
 * F(4×4, 3×3) (see winogradApplies). Both measured faster than XNNPACK's cached operator on
 * the benchmark CNN's layers at every batch size from 1 (equal) to 1000 (the second layer
 * 3× faster), and the Winograd path beat it on 8×8 to 32×32 images of 32–64 channels.
 * Returns null for the cases it does not cover (channels-first data, other activations).
 */
function convViaGemm(args: Parameters<KernelFunc>[0], activation: string, bias: TensorInfo | undefined): TensorInfo | null {
  const backend = asWasmBackend(args.backend);
  const simd = simdFor(backend);
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as Conv2DAttrs;
  if (!simd || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const repeated = seenFilters.has(filter.dataId);
  seenFilters.add(filter.dataId);
  if (activation !== 'linear' && activation !== 'relu') return null;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (info.dataFormat !== 'channelsLast') return null;
  // With a numeric `pad` and a non-square filter, tfjs-core 4.22 sizes the output width from
  // the filter's height; tfjs-backend-wasm's XNNPACK convolution then computes another shape
  // than the tensor it writes (garbage). So only 'same' and 'valid' go there directly (see
  // stockConv for the cases this function does not cover); bnlab's GEMM matches the cpu backend.
  const few = fewChannelConv(info);
  const winograd = !few && winogradApplies(info);
  if (repeated && !few && !winograd && (info.padInfo.type === 'SAME' || info.padInfo.type === 'VALID')) return null;
  if (bias && (bias.dtype !== 'float32' || bias.shape.reduce((a, b) => a * b, 1) !== info.outChannels)) return null;
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth, outHeight, outWidth, inChannels, outChannels } = info;
  const out = backend.makeOutput(info.outShape.slice(), 'float32');
  const rows = info.batchSize * outHeight * outWidth;
  const patch = kh * kw * inChannels;
  if (rows * outChannels === 0) return out;
  const scratch = new Scratch(backend);
  try {
    // A 1×1 convolution with stride 1 and no padding reads x as it is.
    const { top, bottom, left, right } = info.padInfo;
    const pointwise =
      kh === 1 && kw === 1 && info.strideHeight === 1 && info.strideWidth === 1 && top === 0 && left === 0 && bottom === 0 && right === 0;
    const planes = few ? paddedPlanes(simd, scratch, ptr(backend, x), info) : null;
    // Bias and ReLU are applied as the output is stored.
    const epilogue = { bias: bias ? ptr(backend, bias) : 0, relu: activation === 'relu' };
    if (planes) {
      // Images split over the kernel threads.
      const inImage = planes.hp * planes.wp * inChannels * 4;
      const outImage = outHeight * outWidth * outChannels * 4;
      forSlices(backend, simd, info.batchSize, (lane, first, end) => {
        lane.convFew3(
          planes.at + first * inImage,
          end - first,
          planes.hp,
          planes.wp,
          inChannels,
          kh,
          ptr(backend, filter),
          outChannels,
          outHeight,
          outWidth,
          ptr(backend, out) + first * outImage,
          epilogue.bias,
          epilogue.relu,
        );
      });
    } else if (winograd) {
      winogradConv(simd, scratch, info, ptr(backend, x), ptr(backend, filter), ptr(backend, out), epilogue);
    } else if (pointwise) {
      gemm(
        simd,
        backend,
        { at: ptr(backend, x), transposed: false, ld: patch },
        { at: ptr(backend, filter), transposed: false, ld: outChannels },
        rows,
        outChannels,
        patch,
        ptr(backend, out),
        outChannels,
        false,
        epilogue,
      );
    } else {
      // The patch matrix is built for a few images at a time (packed for the GEMM), so it
      // stays in cache between being written and read, and a large inference batch does not
      // need one KH·KW times the size of its input. The filter is packed once.
      const chunk = imagesPerLane(backend, imagesPerSlice(outHeight * outWidth * patch, info.batchSize), info.batchSize);
      const w = packB(simd, scratch, { at: ptr(backend, filter), transposed: false, ld: outChannels }, patch, outChannels);
      // Slices of images split over the kernel threads, each with its own patch matrix.
      forSlices(backend, simd, Math.ceil(info.batchSize / chunk), (lane, first, end) => {
        const packed = scratch.alloc(packedASize(chunk * outHeight * outWidth, patch));
        for (let s = first; s < end; s++) {
          const b0 = s * chunk;
          const nb = Math.min(chunk, info.batchSize - b0);
          lane.im2colPacked(
            ptr(backend, x) + b0 * inHeight * inWidth * inChannels * 4,
            nb,
            inHeight,
            inWidth,
            inChannels,
            kh,
            kw,
            info.strideHeight,
            info.strideWidth,
            info.dilationHeight,
            info.dilationWidth,
            info.padInfo.top,
            info.padInfo.left,
            outHeight,
            outWidth,
            packed,
          );
          gemm(
            lane,
            backend,
            { packed },
            w,
            nb * outHeight * outWidth,
            outChannels,
            patch,
            ptr(backend, out) + b0 * outHeight * outWidth * outChannels * 4,
            outChannels,
            false,
            epilogue,
            scratch,
          );
        }
      });
    }
  } finally {
    scratch.free();
  }
  return out;
}

/**
 * tfjs-wasm's own convolution, made safe for numeric and explicit padding: the input is
 * zero-padded first (its `PadV2`) and the convolution runs with 'valid' padding.
 */
function stockConv(kernelName: string, args: Parameters<KernelFunc>[0]): ReturnType<KernelFunc> {
  const backend = asWasmBackend(args.backend);
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DAttrs;
  const format = backend_util.convertConv2DDataFormat(attrs.dataFormat);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    format,
  );
  const { top, left, type } = info.padInfo;
  if (type === 'SAME' || type === 'VALID') return runStock(kernelName, args);
  // Pad so that a 'valid' convolution gives exactly tfjs's output shape (for a numeric `pad`
  // and a non-square filter tfjs-core 4.22 sizes the output width from the filter's height;
  // the cpu backend then reads zeros past the padding, and so does this).
  const bottom = Math.max(0, (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight - info.inHeight - top);
  const right = Math.max(0, (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth - info.inWidth - left);
  if (top + bottom + left + right === 0) return runStock(kernelName, args);
  const spatial: Array<[number, number]> = [
    [top, bottom],
    [left, right],
  ];
  const paddings = format === 'channelsLast' ? [[0, 0], ...spatial, [0, 0]] : [[0, 0], [0, 0], ...spatial];
  const padded = runWasmKernel('PadV2', backend, { x }, { paddings, constantValue: 0 } as never);
  try {
    return runStock(kernelName, { ...args, inputs: { ...args.inputs, x: padded }, attrs: { ...args.attrs, pad: 'valid' } });
  } finally {
    disposeAll(backend, [padded]);
  }
}

const conv2d: KernelFunc = (args) => convViaGemm(args, 'linear', undefined) ?? stockConv(Conv2D, args);

const fusedConv2d: KernelFunc = (args) => {
  const { bias, preluActivationWeights } = args.inputs as { bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  const { activation } = args.attrs as unknown as FusedConv2DAttrs;
  const fast = preluActivationWeights ? null : convViaGemm(args, activation ?? 'linear', bias);
  return fast ?? stockConv(FusedConv2D, args);
};

/** `Conv2D` on the wasm backend through bnlab's im2col + SIMD GEMM (see convViaGemm). */
export const conv2DConfig: KernelConfig = { kernelName: Conv2D, backendName: 'wasm', kernelFunc: conv2d };

/** `FusedConv2D` (bias, linear or ReLU) on the wasm backend through bnlab's GEMM. */
export const fusedConv2DConfig: KernelConfig = { kernelName: FusedConv2D, backendName: 'wasm', kernelFunc: fusedConv2d };
