// ---------------------------------------------------------------------------------------
// Patch matrices written straight into the GEMM's packed layout (see packA)
// ---------------------------------------------------------------------------------------

import { storeTransposed } from './vector';

/**
 * Byte offset of x[b, h, w, 0] (row-major NHWC with `ch` channels) where (h, w) lies inside
 * the image, else 0 (a tap on the padding; no tensor starts at offset 0).
 */
// @ts-ignore: decorator
@inline
function pixelAt(x: usize, b: i32, h: i32, w: i32, inH: i32, inW: i32, ch: i32): usize {
  if (b < 0 || h < 0 || h >= inH || w < 0 || w >= inW) return 0;
  return x + ((<usize>((b * inH + h) * inW + w) * <usize>ch) << 2);
}

// @ts-ignore: decorator
@inline
function loadOrZero(at: usize, off: usize): v128 {
  return at ? v128.load(at + off) : f32x4.splat(0);
}

// @ts-ignore: decorator
@inline
function scalarOrZero(at: usize, off: usize): f32 {
  return at ? load<f32>(at + off) : 0;
}

/**
 * The patch matrix of a convolution (see {@link col2im}) written straight into
 * {@link packA}'s layout for op(A) = cols: panels of 4 output pixels,
 * ap[panel][(kh, kw, c)][r] = cols[4·panel + r, (kh, kw, c)], zero rows past the last pixel.
 * Saves writing the patch matrix and reading it back; channels go four at a time
 * (a 4×4 transpose) when `ch % 4 == 0`.
 */
export function im2colPacked(
  x: usize, batch: i32, inH: i32, inW: i32, ch: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  dh: i32, dw: i32, top: i32, left: i32, outH: i32, outW: i32, ap: usize,
): void {
  const rows = batch * outH * outW;
  const panels = (rows + 3) >> 2;
  // Output pixel (b, oh, ow) of the panel's first row, stepped along as rows advance.
  let b: i32 = 0, oh: i32 = 0, ow: i32 = 0;
  let o = ap;
  for (let p: i32 = 0; p < panels; p++) {
    // Each row's image (-1 past the last pixel) and top-left input position.
    let b0 = b, h0 = oh * sh - top, w0 = ow * sw - left;
    if (++ow == outW) { ow = 0; if (++oh == outH) { oh = 0; b++; } }
    let b1 = b < batch ? b : -1, h1 = oh * sh - top, w1 = ow * sw - left;
    if (++ow == outW) { ow = 0; if (++oh == outH) { oh = 0; b++; } }
    let b2 = b < batch ? b : -1, h2 = oh * sh - top, w2 = ow * sw - left;
    if (++ow == outW) { ow = 0; if (++oh == outH) { oh = 0; b++; } }
    let b3 = b < batch ? b : -1, h3 = oh * sh - top, w3 = ow * sw - left;
    if (++ow == outW) { ow = 0; if (++oh == outH) { oh = 0; b++; } }
    if (ch == 1 && sw == 1 && b3 == b0 && h3 == h0 && w3 == w0 + 3) {
      // One channel, four neighbouring pixels of one output row: each tap's four values are
      // adjacent in x, one vector (the first layer of an image model).
      for (let i: i32 = 0; i < kh; i++) {
        const h = h0 + i * dh;
        for (let j: i32 = 0; j < kw; j++) {
          const w = w0 + j * dw;
          if (h >= 0 && h < inH && w >= 0 && w + 3 < inW) {
            v128.store(o, v128.load(x + ((<usize>((b0 * inH + h) * inW + w)) << 2)));
          } else {
            store<f32>(o, scalarOrZero(pixelAt(x, b0, h, w, inH, inW, 1), 0));
            store<f32>(o, scalarOrZero(pixelAt(x, b0, h, w + 1, inH, inW, 1), 0), 4);
            store<f32>(o, scalarOrZero(pixelAt(x, b0, h, w + 2, inH, inW, 1), 0), 8);
            store<f32>(o, scalarOrZero(pixelAt(x, b0, h, w + 3, inH, inW, 1), 0), 12);
          }
          o += 16;
        }
      }
      continue;
    }
    for (let i: i32 = 0; i < kh; i++) {
      const di = i * dh;
      for (let j: i32 = 0; j < kw; j++) {
        const dj = j * dw;
        const s0 = pixelAt(x, b0, h0 + di, w0 + dj, inH, inW, ch);
        const s1 = pixelAt(x, b1, h1 + di, w1 + dj, inH, inW, ch);
        const s2 = pixelAt(x, b2, h2 + di, w2 + dj, inH, inW, ch);
        const s3 = pixelAt(x, b3, h3 + di, w3 + dj, inH, inW, ch);
        let c: i32 = 0;
        for (; c + 4 <= ch; c += 4) {
          const off = <usize>c << 2;
          const v0 = loadOrZero(s0, off);
          const v1 = loadOrZero(s1, off);
          const v2 = loadOrZero(s2, off);
          const v3 = loadOrZero(s3, off);
          storeTransposed(o, 16, v0, v1, v2, v3);
          o += 64;
        }
        for (; c < ch; c++) {
          const off = <usize>c << 2;
          store<f32>(o, scalarOrZero(s0, off));
          store<f32>(o, scalarOrZero(s1, off), 4);
          store<f32>(o, scalarOrZero(s2, off), 8);
          store<f32>(o, scalarOrZero(s3, off), 12);
          o += 16;
        }
      }
    }
  }
}

/**
 * The transposed patch matrix, op(A) = colsᵀ ([KH·KW·C, B·OH·OW]), written straight into
 * {@link packA}'s layout: ap[panel][pixel][r] = cols[pixel, 4·panel + r], zero past the
 * last patch entry. For the filter gradient dW = colsᵀ · dy. With `ch % 4 == 0` a panel
 * is four channels of one tap, copied as one vector per pixel. Panels start `panelStride`
 * bytes apart (at least 16 per pixel, the packed layout; more for {@link gemmStrided}, so
 * that the panels written side by side do not fall into the same cache sets).
 */
export function im2colPackedT(
  x: usize, batch: i32, inH: i32, inW: i32, ch: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  dh: i32, dw: i32, top: i32, left: i32, outH: i32, outW: i32, ap: usize, panelStride: i32,
): void {
  const patch = kh * kw * ch;
  const panels = (patch + 3) >> 2;
  // Bytes from one panel to the next: 16 per pixel, or more (see the kernel's caller).
  const panelBytes = max(<usize>panelStride, <usize>(batch * outH * outW) << 4);
  if ((ch & 3) == 0) {
    // Pixel by pixel, each of its patch's vectors to its own panel: x is read once, near
    // where the previous pixel read it (panel by panel it would be read once per panel).
    let q = ap;
    for (let b: i32 = 0; b < batch; b++) {
      for (let oh: i32 = 0; oh < outH; oh++) {
        for (let ow: i32 = 0; ow < outW; ow++) {
          let dst = q;
          for (let i: i32 = 0; i < kh; i++) {
            const row = rowAt(x, b, oh * sh + i * dh - top, inH, inW, ch);
            for (let j: i32 = 0; j < kw; j++) {
              const w = ow * sw + j * dw - left;
              const src = row && w >= 0 && w < inW ? row + ((<usize>w * <usize>ch) << 2) : 0;
              for (let c: i32 = 0; c < ch; c += 4) {
                v128.store(dst, loadOrZero(src, <usize>c << 2));
                dst += panelBytes;
              }
            }
          }
          q += 16;
        }
      }
    }
    return;
  }
  // Other channel counts: panel by panel, four scalar entries per pixel.
  for (let p: i32 = 0; p < panels; p++) {
    let o = ap + <usize>p * panelBytes;
    // Tap (i, j) and channel c of each of the panel's four patch entries (e = (i·kw + j)·ch + c);
    // an entry past the end reads as padding (tap row -inH).
    const e0 = p << 2;
    let i0 = e0 / (kw * ch), j0 = (e0 / ch) % kw, c0 = e0 % ch;
    let i1 = (e0 + 1) / (kw * ch), j1 = ((e0 + 1) / ch) % kw, c1 = (e0 + 1) % ch;
    let i2 = (e0 + 2) / (kw * ch), j2 = ((e0 + 2) / ch) % kw, c2 = (e0 + 2) % ch;
    let i3 = (e0 + 3) / (kw * ch), j3 = ((e0 + 3) / ch) % kw, c3 = (e0 + 3) % ch;
    const off0 = <usize>c0 << 2, off1 = <usize>c1 << 2, off2 = <usize>c2 << 2, off3 = <usize>c3 << 2;
    const dh0 = e0 < patch ? i0 * dh - top : -1 << 30;
    const dh1 = e0 + 1 < patch ? i1 * dh - top : -1 << 30;
    const dh2 = e0 + 2 < patch ? i2 * dh - top : -1 << 30;
    const dh3 = e0 + 3 < patch ? i3 * dh - top : -1 << 30;
    const dw0 = j0 * dw - left, dw1 = j1 * dw - left, dw2 = j2 * dw - left, dw3 = j3 * dw - left;
    const pixelBytes = <usize>ch << 2;
    for (let b: i32 = 0; b < batch; b++) {
      for (let oh: i32 = 0; oh < outH; oh++) {
        // Each entry's input row for this output row (0 where the row is padding).
        const hb = oh * sh;
        const r0 = rowAt(x, b, hb + dh0, inH, inW, ch) + off0;
        const r1 = rowAt(x, b, hb + dh1, inH, inW, ch) + off1;
        const r2 = rowAt(x, b, hb + dh2, inH, inW, ch) + off2;
        const r3 = rowAt(x, b, hb + dh3, inH, inW, ch) + off3;
        const ok0 = r0 != off0, ok1 = r1 != off1, ok2 = r2 != off2, ok3 = r3 != off3;
        let ow: i32 = 0;
        if (ch == 1 && sw == 1 && ok0 && ok1 && ok2 && ok3) {
          // One channel, stride 1: four neighbouring pixels of an entry are adjacent in x;
          // load them as one vector per entry and transpose. Only where every read is inside.
          const lo = max(max(-dw0, -dw1), max(-dw2, -dw3));
          const hi = min(min(inW - dw0, inW - dw1), min(inW - dw2, inW - dw3)) - 4;
          for (; ow < outW && ow < lo; ow++) {
            const w0 = ow + dw0, w1 = ow + dw1, w2 = ow + dw2, w3 = ow + dw3;
            store<f32>(o, w0 >= 0 && w0 < inW ? load<f32>(r0 + (<usize>w0 << 2)) : 0);
            store<f32>(o, w1 >= 0 && w1 < inW ? load<f32>(r1 + (<usize>w1 << 2)) : 0, 4);
            store<f32>(o, w2 >= 0 && w2 < inW ? load<f32>(r2 + (<usize>w2 << 2)) : 0, 8);
            store<f32>(o, w3 >= 0 && w3 < inW ? load<f32>(r3 + (<usize>w3 << 2)) : 0, 12);
            o += 16;
          }
          for (; ow + 4 <= outW && ow <= hi; ow += 4) {
            storeTransposed(o, 16, v128.load(r0 + (<usize>(ow + dw0) << 2)), v128.load(r1 + (<usize>(ow + dw1) << 2)),
              v128.load(r2 + (<usize>(ow + dw2) << 2)), v128.load(r3 + (<usize>(ow + dw3) << 2)));
            o += 64;
          }
        }
        for (; ow < outW; ow++) {
          const wb = ow * sw;
          const w0 = wb + dw0;
          const w1 = wb + dw1, w2 = wb + dw2, w3 = wb + dw3;
          store<f32>(o, ok0 && w0 >= 0 && w0 < inW ? load<f32>(r0 + <usize>w0 * pixelBytes) : 0);
          store<f32>(o, ok1 && w1 >= 0 && w1 < inW ? load<f32>(r1 + <usize>w1 * pixelBytes) : 0, 4);
          store<f32>(o, ok2 && w2 >= 0 && w2 < inW ? load<f32>(r2 + <usize>w2 * pixelBytes) : 0, 8);
          store<f32>(o, ok3 && w3 >= 0 && w3 < inW ? load<f32>(r3 + <usize>w3 * pixelBytes) : 0, 12);
          o += 16;
        }
      }
    }
  }
}

/** Byte offset of x[b, h, 0, 0], or 0 where row h is outside the image. */
// @ts-ignore: decorator
@inline
function rowAt(x: usize, b: i32, h: i32, inH: i32, inW: i32, ch: i32): usize {
  if (h < 0 || h >= inH) return 0;
  return x + ((<usize>((b * inH + h) * inW) * <usize>ch) << 2);
}
