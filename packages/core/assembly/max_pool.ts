// ---------------------------------------------------------------------------------------
// Max-pool gradient
// ---------------------------------------------------------------------------------------

/**
 * Gradient of 2-D max pooling, NHWC: each dy goes to the first maximum of its window
 * (strict '>', so NaN never wins). dx must be zero-filled by the caller. Channels in
 * groups of four when `channels % 4 == 0`, else one at a time.
 */
export function maxPoolGrad(
  x: usize, dy: usize, dx: usize, batch: i32, inH: i32, inW: i32, channels: i32,
  outH: i32, outW: i32, fh: i32, fw: i32, sh: i32, sw: i32, top: i32, left: i32,
): void {
  const simd = (channels & 3) == 0;
  for (let b: i32 = 0; b < batch; b++) {
    const xBase = b * inH * inW * channels;
    for (let oh: i32 = 0; oh < outH; oh++) {
      const h0 = max(0, oh * sh - top);
      const h1 = min(inH, oh * sh - top + fh);
      for (let ow: i32 = 0; ow < outW; ow++) {
        const w0 = max(0, ow * sw - left);
        const w1 = min(inW, ow * sw - left + fw);
        const yOff = ((b * outH + oh) * outW + ow) * channels;
        if (simd) {
          for (let c: i32 = 0; c < channels; c += 4) {
            let best = f32x4.splat(-Infinity);
            let where = i32x4.splat(-1);
            for (let h = h0; h < h1; h++) {
              for (let w = w0; w < w1; w++) {
                const at = xBase + (h * inW + w) * channels + c;
                const v = v128.load(x + (<usize>at << 2));
                const gt = f32x4.gt(v, best);
                best = v128.bitselect(v, best, gt);
                where = v128.bitselect(i32x4.add(i32x4.splat(at), i32x4(0, 1, 2, 3)), where, gt);
              }
            }
            const g = v128.load(dy + (<usize>(yOff + c) << 2));
            let i0 = i32x4.extract_lane(where, 0);
            if (i0 >= 0) { const q = dx + (<usize>i0 << 2); store<f32>(q, load<f32>(q) + f32x4.extract_lane(g, 0)); }
            let i1 = i32x4.extract_lane(where, 1);
            if (i1 >= 0) { const q = dx + (<usize>i1 << 2); store<f32>(q, load<f32>(q) + f32x4.extract_lane(g, 1)); }
            let i2 = i32x4.extract_lane(where, 2);
            if (i2 >= 0) { const q = dx + (<usize>i2 << 2); store<f32>(q, load<f32>(q) + f32x4.extract_lane(g, 2)); }
            let i3 = i32x4.extract_lane(where, 3);
            if (i3 >= 0) { const q = dx + (<usize>i3 << 2); store<f32>(q, load<f32>(q) + f32x4.extract_lane(g, 3)); }
          }
        } else {
          for (let c: i32 = 0; c < channels; c++) {
            let best: f32 = -Infinity;
            let where: i32 = -1;
            for (let h = h0; h < h1; h++) {
              for (let w = w0; w < w1; w++) {
                const at = xBase + (h * inW + w) * channels + c;
                const v = load<f32>(x + (<usize>at << 2));
                if (v > best) { best = v; where = at; }
              }
            }
            if (where >= 0) {
              const q = dx + (<usize>where << 2);
              store<f32>(q, load<f32>(q) + load<f32>(dy + (<usize>(yOff + c) << 2)));
            }
          }
        }
      }
    }
  }
}


/**
 * {@link maxPoolGrad} for 2×2 windows with stride 2 and no padding, four channels at a time
 * (`channels % 4 == 0`): the windows do not overlap, so each covered input gets its value
 * written once (dy or 0) with no scatter; dx outside the windows (an odd last row or column)
 * must be zero-filled by the caller. Same choice of maximum: the first, by strict '>',
 * starting from −∞ (NaN never wins).
 */
/**
 * Max pooling with 2×2 windows and stride 2 that lie inside the image (NHWC, channels a
 * multiple of 4): y = max of each window, NaN ignored (-∞ when all four are NaN), as the
 * cpu backend and {@link maxPoolGrad2x2}'s choice of the maximum.
 */
export function maxPool2x2(x: usize, batch: i32, inH: i32, inW: i32, channels: i32, outH: i32, outW: i32, y: usize): void {
  const pix = <usize>channels << 2;
  const rowBytes = <usize>inW * pix;
  const low = f32x4.splat(-Infinity);
  let o = y;
  for (let b: i32 = 0; b < batch; b++) {
    for (let oh: i32 = 0; oh < outH; oh++) {
      const rowAt = x + (<usize>(b * inH + oh * 2)) * rowBytes;
      for (let ow: i32 = 0; ow < outW; ow++) {
        const p00 = rowAt + <usize>(ow * 2) * pix;
        const p10 = p00 + rowBytes;
        for (let c: usize = 0; c < pix; c += 16) {
          // pmax(a, v) = a < v ? v : a: from -∞, a NaN v never replaces the running maximum.
          let m = f32x4.pmax(low, v128.load(p00 + c));
          m = f32x4.pmax(m, v128.load(p00 + pix + c));
          m = f32x4.pmax(m, v128.load(p10 + c));
          m = f32x4.pmax(m, v128.load(p10 + pix + c));
          v128.store(o + c, m);
        }
        o += pix;
      }
    }
  }
}

export function maxPoolGrad2x2(x: usize, dy: usize, dx: usize, batch: i32, inH: i32, inW: i32, channels: i32, outH: i32, outW: i32): void {
  const pix = <usize>channels << 2;
  const rowBytes = <usize>inW * pix;
  const zero = f32x4.splat(0);
  for (let b: i32 = 0; b < batch; b++) {
    // Input rows and columns no window covers (odd sizes): zero.
    for (let h = outH * 2; h < inH; h++) memory.fill(dx + (<usize>(b * inH + h)) * rowBytes, 0, rowBytes);
    if (outW * 2 < inW) {
      const tail = <usize>(inW - outW * 2) * pix;
      for (let h: i32 = 0; h < outH * 2; h++) memory.fill(dx + (<usize>(b * inH + h)) * rowBytes + <usize>(outW * 2) * pix, 0, tail);
    }
    for (let oh: i32 = 0; oh < outH; oh++) {
      const rowAt = (<usize>(b * inH + oh * 2)) * rowBytes;
      const dyRow = (<usize>((b * outH + oh) * outW)) * pix;
      for (let ow: i32 = 0; ow < outW; ow++) {
        const p00 = rowAt + <usize>(ow * 2) * pix;
        const p01 = p00 + pix;
        const p10 = p00 + rowBytes;
        const p11 = p10 + pix;
        const g0 = dyRow + <usize>ow * pix;
        for (let c: usize = 0; c < pix; c += 16) {
          const v00 = v128.load(x + p00 + c);
          const v01 = v128.load(x + p01 + c);
          const v10 = v128.load(x + p10 + c);
          const v11 = v128.load(x + p11 + c);
          // One-hot masks of the first maximum, in scan order (row by row).
          let w00 = f32x4.gt(v00, f32x4.splat(-Infinity));
          let best = v128.bitselect(v00, f32x4.splat(-Infinity), w00);
          let w01 = f32x4.gt(v01, best);
          best = v128.bitselect(v01, best, w01);
          w00 = v128.andnot(w00, w01);
          let w10 = f32x4.gt(v10, best);
          best = v128.bitselect(v10, best, w10);
          w00 = v128.andnot(w00, w10);
          w01 = v128.andnot(w01, w10);
          const w11 = f32x4.gt(v11, best);
          w00 = v128.andnot(w00, w11);
          w01 = v128.andnot(w01, w11);
          w10 = v128.andnot(w10, w11);
          const g = v128.load(dy + g0 + c);
          v128.store(dx + p00 + c, v128.and(g, w00));
          v128.store(dx + p01 + c, v128.and(g, w01));
          v128.store(dx + p10 + c, v128.and(g, w10));
          v128.store(dx + p11 + c, v128.and(g, w11));
        }
      }
    }
  }
}
