import { backend_util, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput } from '@tensorflow/tfjs-core';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { asWasmBackend } from './wasm_backend.js';

/**
 * Both depthwise gradients walk the same (batch, output pixel, filter tap) loop nest: for
 * every output position and tap whose input pixel lies inside the image, `visit` gets
 * the flat offsets of the input pixel and of the output pixel (channel 0 each).
 */
function forEachTap(info: backend_util.Conv2DInfo, visit: (xOffset: number, dyOffset: number, tapOffset: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const { top, left } = info.padInfo;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let fh = 0; fh < filterHeight; fh++) {
        const h = oh * strideHeight + fh * dilationHeight - top;
        if (h < 0 || h >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const dyOffset = ((b * outHeight + oh) * outWidth + ow) * outChannels;
          for (let fw = 0; fw < filterWidth; fw++) {
            const w = ow * strideWidth + fw * dilationWidth - left;
            if (w < 0 || w >= inWidth) continue;
            visit(((b * inHeight + h) * inWidth + w) * inChannels, dyOffset, (fh * filterWidth + fw) * outChannels);
          }
        }
      }
    }
  }
}

/**
 * Gradient of a depthwise convolution with respect to its filter `[fh, fw, C, M]`:
 * `dW[fh, fw, c, m] = Σ_{b, oh, ow} x[b, h, w, c] · dy[b, oh, ow, c·M + m]` with
 * `h = oh·sh + fh·dh − padTop` (and the same for w). Dilations are honoured.
 */
const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = asWasmBackend(anyBackend);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const channels = info.inChannels;
  const mult = info.outChannels / channels;
  const acc = new Float64Array(info.filterHeight * info.filterWidth * info.outChannels);
  // Views into wasm memory are taken after every allocation, which may grow the heap.
  const xs = backend.typedArrayFromHeap(x);
  const dys = backend.typedArrayFromHeap(dy);
  forEachTap(info, (xo, yo, fo) => {
    for (let c = 0; c < channels; c++) {
      const xv = xs[xo + c] as number;
      for (let m = 0; m < mult; m++) {
        const k = c * mult + m;
        acc[fo + k] = (acc[fo + k] as number) + xv * (dys[yo + k] as number);
      }
    }
  });
  const out = backend.makeOutput(filterShape.slice(), 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
};

/**
 * Gradient of a depthwise convolution with respect to its input, by scattering each
 * output gradient back through the taps: `dx[b, h, w, c] += dy[b, oh, ow, c·M + m] · W[fh, fw, c, m]`.
 */
const depthwiseBackpropInput: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = asWasmBackend(anyBackend);
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const channels = info.inChannels;
  const mult = info.outChannels / channels;
  const acc = new Float64Array(inputShape.reduce((a, b) => a * b, 1));
  const dys = backend.typedArrayFromHeap(dy);
  const ws = backend.typedArrayFromHeap(filter);
  forEachTap(info, (xo, yo, fo) => {
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let m = 0; m < mult; m++) {
        const k = c * mult + m;
        sum += (dys[yo + k] as number) * (ws[fo + k] as number);
      }
      acc[xo + c] = (acc[xo + c] as number) + sum;
    }
  });
  const out = backend.makeOutput(inputShape.slice(), 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
};

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter,
};

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput,
};
