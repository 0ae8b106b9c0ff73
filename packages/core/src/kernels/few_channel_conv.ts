import type { backend_util } from '@tensorflow/tfjs-core';
import type { Scratch, SimdExports } from './simd/simd_module.js';

/** Input channels up to which {@link fewChannelConv} applies. */
const MAX_CHANNELS = 4;

/** The zero-padded input of a {@link fewChannelConv} layer. */
export interface PaddedPlanes {
  /** Byte offset of `[batch, hp, wp, channels]` floats. */
  at: number;
  hp: number;
  wp: number;
}

/**
 * Whether bnlab's direct kernels (`convFew3`, `convFew3Grad`) cover this convolution: one to
 * four input channels (a network's first layer on grey or RGB images), a filter 3 wide,
 * stride and dilation 1, output channels a multiple of 8, channels-last. Through the patch
 * matrix these are GEMMs of depth 3·kh·channels, dominated by packing and output traffic
 * (ResNet-20's 32×32×3 → 16 layer, batch 128: the forward pass 3–4× faster so).
 */
export function fewChannelConv(info: backend_util.Conv2DInfo): boolean {
  return (
    info.dataFormat === 'channelsLast' &&
    info.inChannels >= 1 &&
    info.inChannels <= MAX_CHANNELS &&
    info.filterWidth === 3 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.outChannels % 8 === 0 &&
    info.outHeight > 0 &&
    info.outWidth > 0
  );
}

/**
 * The input as the kernels read it: every tap of every output pixel inside a
 * `[batch, outH + kh − 1, outW + 2, channels]` image, the input at the padding's top-left and
 * zeros around it. Without padding that is `x` itself. Null when the input does not fit in
 * that image (tfjs-core's output shape for a numeric pad and a non-square filter; the general
 * path handles it).
 */
export function paddedPlanes(simd: SimdExports, scratch: Scratch, x: number, info: backend_util.Conv2DInfo): PaddedPlanes | null {
  const { inHeight: h, inWidth: w, batchSize, inChannels: ch } = info;
  const { top, left } = info.padInfo;
  const hp = info.outHeight + info.filterHeight - 1;
  const wp = info.outWidth + 2;
  if (top < 0 || left < 0 || top + h > hp || left + w > wp) return null;
  if (top === 0 && left === 0 && hp === h && wp === w) return { at: x, hp, wp };
  const at = scratch.alloc(batchSize * hp * wp * ch);
  simd.padPlanes(x, batchSize, h, w, ch, top, left, hp, wp, at);
  return { at, hp, wp };
}
