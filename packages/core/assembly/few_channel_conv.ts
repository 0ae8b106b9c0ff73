// ---------------------------------------------------------------------------------------
// Convolutions of a few input channels (1 to 4) with a 3-wide filter, stride 1 (a network's
// first layer, on grey or RGB images)
// ---------------------------------------------------------------------------------------
// Through the patch matrix such a layer is a GEMM of depth 3·kh·ch (27 for RGB): packing the
// patches, then loading and storing every output tile, cost more than the multiply-adds.
// These read the (zero-padded) image directly. `xp` is [batch, hp, wp, ch] (the padded
// image), filters and their gradients are [kh, 3, ch, co], outputs [batch, outH, outW, co],
// co a multiple of 8. A row of taps (j, c) of one pixel is 3·ch consecutive floats of xp.

import { storeTile } from './gemm';
import { madd } from './vector';

/** out[b] = x[b] ([h, w, ch]) placed at (top, left) in an hp × wp × ch image of zeros, for every b < batch. */
export function padPlanes(x: usize, batch: i32, h: i32, w: i32, ch: i32, top: i32, left: i32, hp: i32, wp: i32, out: usize): void {
  memory.fill(out, 0, (<usize>batch * <usize>hp * <usize>wp * <usize>ch) << 2);
  const rowBytes = <usize>(w * ch) << 2;
  for (let b: i32 = 0; b < batch; b++) {
    for (let r: i32 = 0; r < h; r++) {
      memory.copy(out + ((<usize>(((b * hp + r + top) * wp + left) * ch)) << 2), x + <usize>(b * h + r) * rowBytes, rowBytes);
    }
  }
}

/**
 * y[b, oh, ow, c] = Σ_{i < kh, j < 3, k < ch} xp[b, oh + i, ow + j, k] · w[i, j, k, c]
 * (+ bias[c] when bias ≠ 0, then max(·, 0) when relu): four output pixels by eight channels
 * in registers, the filter rows read from cache.
 */
export function convFew3(
  xp: usize, batch: i32, hp: i32, wp: i32, ch: i32, kh: i32, w: usize, co: i32, outH: i32, outW: i32, y: usize, bias: usize, relu: bool,
): void {
  const coBytes = <usize>co << 2;
  const px = <usize>ch << 2;
  const taps = 3 * ch;
  for (let b: i32 = 0; b < batch; b++) {
    for (let oh: i32 = 0; oh < outH; oh++) {
      const xRow = xp + ((<usize>((b * hp + oh) * wp * ch)) << 2);
      const yRow = y + <usize>((b * outH + oh) * outW) * coBytes;
      let ow: i32 = 0;
      for (; ow + 4 <= outW; ow += 4) {
        const yo = yRow + <usize>ow * coBytes;
        for (let c0: i32 = 0; c0 < co; c0 += 8) {
          let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
          let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
          for (let i: i32 = 0; i < kh; i++) {
            let xj = xRow + ((<usize>((i * wp + ow) * ch)) << 2);
            let wr = w + <usize>(i * taps) * coBytes + (<usize>c0 << 2);
            for (let t: i32 = 0; t < taps; t++) {
              const w0 = v128.load(wr);
              const w1 = v128.load(wr, 16);
              let s = v128.load32_splat(xj); a00 = madd(s, w0, a00); a01 = madd(s, w1, a01);
              s = v128.load32_splat(xj + px); a10 = madd(s, w0, a10); a11 = madd(s, w1, a11);
              s = v128.load32_splat(xj + 2 * px); a20 = madd(s, w0, a20); a21 = madd(s, w1, a21);
              s = v128.load32_splat(xj + 3 * px); a30 = madd(s, w0, a30); a31 = madd(s, w1, a31);
              wr += coBytes;
              xj += 4;
            }
          }
          storeTile(yo + (<usize>c0 << 2), coBytes, a00, a01, a10, a11, a20, a21, a30, a31, bias ? bias + (<usize>c0 << 2) : 0, relu);
        }
      }
      for (; ow < outW; ow++) {
        const yo = yRow + <usize>ow * coBytes;
        for (let c0: i32 = 0; c0 < co; c0 += 8) {
          let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
          for (let i: i32 = 0; i < kh; i++) {
            let xj = xRow + ((<usize>((i * wp + ow) * ch)) << 2);
            let wr = w + <usize>(i * taps) * coBytes + (<usize>c0 << 2);
            for (let t: i32 = 0; t < taps; t++) {
              const s = v128.load32_splat(xj);
              a0 = madd(s, v128.load(wr), a0);
              a1 = madd(s, v128.load(wr, 16), a1);
              wr += coBytes;
              xj += 4;
            }
          }
          if (bias) {
            a0 = f32x4.add(a0, v128.load(bias + (<usize>c0 << 2)));
            a1 = f32x4.add(a1, v128.load(bias + (<usize>c0 << 2), 16));
          }
          if (relu) {
            a0 = f32x4.max(a0, f32x4.splat(0));
            a1 = f32x4.max(a1, f32x4.splat(0));
          }
          v128.store(yo + (<usize>c0 << 2), a0);
          v128.store(yo + (<usize>c0 << 2), a1, 16);
        }
      }
    }
  }
}

/**
 * The filter gradient of {@link convFew3}: dw[i, t, c] = Σ_{b, oh, ow} xp[b, oh + i, ow·ch + t] ·
 * dy[b, oh, ow, c] for the 3·ch taps t = (j, k) of filter row i. One output row of dy at a
 * time (it stays in L1 across the passes over it); each pass sums three taps by eight
 * channels of the row in registers, then adds that to dw.
 */
export function convFew3Grad(xp: usize, batch: i32, hp: i32, wp: i32, ch: i32, kh: i32, dy: usize, co: i32, outH: i32, outW: i32, dw: usize): void {
  const coBytes = <usize>co << 2;
  const px = <usize>ch << 2;
  const taps = 3 * ch;
  memory.fill(dw, 0, <usize>(kh * taps) * coBytes);
  for (let b: i32 = 0; b < batch; b++) {
    for (let oh: i32 = 0; oh < outH; oh++) {
      const dyRow = dy + <usize>((b * outH + oh) * outW) * coBytes;
      for (let i: i32 = 0; i < kh; i++) {
        const xr = xp + ((<usize>((b * hp + oh + i) * wp * ch)) << 2);
        for (let t0: i32 = 0; t0 < taps; t0 += 3) {
          for (let c0: i32 = 0; c0 < co; c0 += 8) {
            let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
            let a20 = f32x4.splat(0), a21 = f32x4.splat(0);
            let d = dyRow + (<usize>c0 << 2);
            let xo = xr + (<usize>t0 << 2);
            for (let ow: i32 = 0; ow < outW; ow++) {
              const d0 = v128.load(d);
              const d1 = v128.load(d, 16);
              let s = v128.load32_splat(xo); a00 = madd(s, d0, a00); a01 = madd(s, d1, a01);
              s = v128.load32_splat(xo, 4); a10 = madd(s, d0, a10); a11 = madd(s, d1, a11);
              s = v128.load32_splat(xo, 8); a20 = madd(s, d0, a20); a21 = madd(s, d1, a21);
              d += coBytes;
              xo += px;
            }
            const o = dw + <usize>(i * taps + t0) * coBytes + (<usize>c0 << 2);
            v128.store(o, f32x4.add(v128.load(o), a00)); v128.store(o, f32x4.add(v128.load(o, 16), a01), 16);
            const o1 = o + coBytes;
            v128.store(o1, f32x4.add(v128.load(o1), a10)); v128.store(o1, f32x4.add(v128.load(o1, 16), a11), 16);
            const o2 = o1 + coBytes;
            v128.store(o2, f32x4.add(v128.load(o2), a20)); v128.store(o2, f32x4.add(v128.load(o2, 16), a21), 16);
          }
        }
      }
    }
  }
}
