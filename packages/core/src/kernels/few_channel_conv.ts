import type { backend_util } from '@tensorflow/tfjs-core';
import type { Scratch, SimdExports } from './simd/simd_module.js';

/** The zero-padded single-channel input of a {@link singleChannelConv} layer. */
export interface PaddedPlanes {
  /** Byte offset of `[batch, hp, wp]` floats. */
  at: number;
  hp: number;
  wp: number;
}

/**
 * Whether bnlab's direct kernels (`conv1ch3`, `conv1ch3Grad`) cover this convolution: one
 * input channel (a network's first layer on grey images), a filter 3 wide, stride and
 * dilation 1, output channels a multiple of 8, channels-last. Through the patch matrix
 * these are GEMMs of depth 3·kh, dominated by packing and output traffic.
 */
export function singleChannelConv(info: backend_util.Conv2DInfo): boolean {
  return (
    info.dataFormat === 'channelsLast' &&
    info.inChannels === 1 &&
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
 * `[batch, outH + kh − 1, outW + 2]` plane, the image at the padding's top-left and zeros
 * around it. Without padding that is `x` itself. Null when the image does not fit in that
 * plane (tfjs-core's output shape for a numeric pad and a non-square filter; the general
 * path handles it).
 */
export function paddedPlanes(
  simd: SimdExports,
  scratch: Scratch,
  x: number,
  info: backend_util.Conv2DInfo,
): PaddedPlanes | null {
  const { inHeight: h, inWidth: w, batchSize } = info;
  const { top, left } = info.padInfo;
  const hp = info.outHeight + info.filterHeight - 1;
  const wp = info.outWidth + 2;
  if (top < 0 || left < 0 || top + h > hp || left + w > wp) return null;
  if (top === 0 && left === 0 && hp === h && wp === w) return { at: x, hp, wp };
  const at = scratch.alloc(batchSize * hp * wp);
  simd.padPlanes(x, batchSize, h, w, top, left, hp, wp, at);
  return { at, hp, wp };
}
