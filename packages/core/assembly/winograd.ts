// Winograd F(4×4, 3×3) transforms (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2016) for 3×3 convolutions of stride 1, channels last.
//
// A 4×4 block of outputs ("tile") of such a convolution reads a 6×6 block of input. With
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
//   G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1],
// the tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, and summing over input channels turns the 36
// element-wise products into 36 matrix products, one per position ξ of the 6×6 transform:
//   M[ξ] (tiles × co) = V[ξ] (tiles × ci) · U[ξ] (ci × co),
// 36 multiply-adds per tile and channel pair instead of the direct convolution's 144.
// The gradients are the transposes of the same linear maps:
//   dM[ξ] = the output gradient through A (A dY Aᵀ per tile),
//   dU[ξ] = V[ξ]ᵀ · dM[ξ] → dg = Gᵀ dU G,   dV[ξ] = dM[ξ] · U[ξ]ᵀ → dx += B dV Bᵀ.
//
// Layouts (float32, row-major): g is the filter [3, 3, ci, co]; U and dU are [36][ci][co];
// V and dV are [36][tiles][ci]; M and dM are [36][tiles][co], the matrices of successive ξ
// `xiStride` (or uStride, duStride) floats apart; tile t = (b, th, tw) covers output rows
// 4th … 4th + 3 and columns 4tw … 4tw + 3, and reads input rows 4th − top … 4th − top + 5
// (zero outside the image).
// Channels go four at a time: ci and co must be multiples of 4. Each transform runs as a
// pass over the columns of a block, then over its rows, through `work` (672 bytes of
// scratch) in between.

// @ts-ignore: decorator
@inline
function mul(a: v128, s: f32): v128 {
  return f32x4.mul(a, f32x4.splat(s));
}

/** 2a, 4a and 8a by doubling (exact, as a multiplication by 2, 4 or 8 is): no constant to materialize. */
// @ts-ignore: decorator
@inline
function x2(a: v128): v128 {
  return f32x4.add(a, a);
}

// @ts-ignore: decorator
@inline
function x4(a: v128): v128 {
  return x2(x2(a));
}

/**
 * out[i·stride] for i < 6 = Bᵀ·(d0 … d5). Multiples of 4 and 5 by additions: wasm has no
 * vector-by-scalar multiply, and V8 builds each splat constant anew at every use.
 */
// @ts-ignore: decorator
@inline
function bt6(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, out: usize, stride: usize): void {
  const s12 = f32x4.add(d1, d2), s34 = f32x4.add(d3, d4);
  const m12 = f32x4.sub(d1, d2), m43 = f32x4.sub(d4, d3);
  const m42 = f32x4.sub(d4, d2), m31 = x2(f32x4.sub(d3, d1));
  // 4·d0 − 5·d2 + d4 = 4·(d0 − d2) + (d4 − d2), and 4·d1 − 5·d3 + d5 likewise.
  v128.store(out, f32x4.add(x4(f32x4.sub(d0, d2)), m42));
  v128.store(out + stride, f32x4.sub(s34, x4(s12)));
  v128.store(out + 2 * stride, f32x4.add(m43, x4(m12)));
  v128.store(out + 3 * stride, f32x4.add(m42, m31));
  v128.store(out + 4 * stride, f32x4.sub(m42, m31));
  v128.store(out + 5 * stride, f32x4.add(x4(f32x4.sub(d1, d3)), f32x4.sub(d5, d3)));
}

/** out[i·stride] for i < 6 = B·(a0 … a5) (the adjoint of bt6). */
// @ts-ignore: decorator
@inline
function b6(a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, out: usize, stride: usize): void {
  const s12 = f32x4.add(a1, a2), m21 = f32x4.sub(a2, a1);
  const s34 = f32x4.add(a3, a4), m34 = f32x4.sub(a3, a4);
  v128.store(out, mul(a0, 4));
  v128.store(out + stride, f32x4.add(mul(f32x4.add(m21, a5), 4), mul(m34, -2)));
  v128.store(out + 2 * stride, f32x4.sub(f32x4.sub(mul(a0, -5), mul(s12, 4)), s34));
  v128.store(out + 3 * stride, f32x4.sub(f32x4.add(mul(m34, 2), f32x4.neg(m21)), mul(a5, 5)));
  v128.store(out + 4 * stride, f32x4.add(f32x4.add(a0, s12), s34));
  v128.store(out + 5 * stride, a5);
}

/** out[i·stride] for i < 6 = G·(g0, g1, g2). */
// @ts-ignore: decorator
@inline
function g6(g0: v128, g1: v128, g2: v128, out: usize, stride: usize): void {
  const s02 = f32x4.add(g0, g2);
  const q = f32x4.add(mul(g0, 1.0 / 24), mul(g2, 1.0 / 6));
  const p = mul(g1, 1.0 / 12);
  v128.store(out, mul(g0, 0.25));
  v128.store(out + stride, mul(f32x4.add(s02, g1), -1.0 / 6));
  v128.store(out + 2 * stride, mul(f32x4.sub(s02, g1), -1.0 / 6));
  v128.store(out + 3 * stride, f32x4.add(q, p));
  v128.store(out + 4 * stride, f32x4.sub(q, p));
  v128.store(out + 5 * stride, g2);
}

/** out[i·stride] for i < 3 = Gᵀ·(a0 … a5) (the adjoint of g6). */
// @ts-ignore: decorator
@inline
function gt6(a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128, out: usize, stride: usize): void {
  const s12 = f32x4.add(a1, a2), s34 = f32x4.add(a3, a4);
  v128.store(out, f32x4.add(f32x4.add(mul(a0, 0.25), mul(s12, -1.0 / 6)), mul(s34, 1.0 / 24)));
  v128.store(out + stride, f32x4.add(mul(f32x4.sub(a2, a1), 1.0 / 6), mul(f32x4.sub(a3, a4), 1.0 / 12)));
  v128.store(out + 2 * stride, f32x4.add(mul(f32x4.sub(s34, s12), 1.0 / 6), a5));
}

/** out[i·stride] for i < 6 = A·(e0 … e3) (the adjoint of Aᵀ). */
// @ts-ignore: decorator
@inline
function a6(e0: v128, e1: v128, e2: v128, e3: v128, out: usize, stride: usize): void {
  const s02 = f32x4.add(e0, e2), s13 = f32x4.add(e1, e3);
  const q = f32x4.add(e0, x4(e2)), p = x2(f32x4.add(e1, x4(e3)));
  v128.store(out, e0);
  v128.store(out + stride, f32x4.add(s02, s13));
  v128.store(out + 2 * stride, f32x4.sub(s02, s13));
  v128.store(out + 3 * stride, f32x4.add(q, p));
  v128.store(out + 4 * stride, f32x4.sub(q, p));
  v128.store(out + 5 * stride, e3);
}

/** U[ξ] = G g Gᵀ for every (ci, co): g [3, 3, ci, co] → u [36][ci][co], ξ `uStride` floats apart. */
export function winoFilter(g: usize, ci: i32, co: i32, uStride: i32, u: usize, work: usize): void {
  const plane = (<usize>ci * <usize>co) << 2;
  const xi = <usize>uStride << 2;
  for (let off: usize = 0; off < plane; off += 16) {
    const at = g + off;
    for (let s: usize = 0; s < 3; s++) {
      g6(v128.load(at + s * plane), v128.load(at + (3 + s) * plane), v128.load(at + (6 + s) * plane), work + (s << 4), 48);
    }
    for (let r: usize = 0; r < 6; r++) {
      const w = work + r * 48;
      g6(v128.load(w), v128.load(w, 16), v128.load(w, 32), u + r * 6 * xi + off, xi);
    }
  }
}

/** dg = Gᵀ dU G for every (ci, co): du [36][ci][co] (ξ `duStride` floats apart) → dg [3, 3, ci, co]. */
export function winoFilterGrad(du: usize, ci: i32, co: i32, duStride: i32, dg: usize, work: usize): void {
  const plane = (<usize>ci * <usize>co) << 2;
  const xi = <usize>duStride << 2;
  for (let off: usize = 0; off < plane; off += 16) {
    const at = du + off;
    for (let q: usize = 0; q < 6; q++) {
      gt6(v128.load(at + q * xi), v128.load(at + (6 + q) * xi), v128.load(at + (12 + q) * xi),
        v128.load(at + (18 + q) * xi), v128.load(at + (24 + q) * xi), v128.load(at + (30 + q) * xi), work + (q << 4), 96);
    }
    for (let r: usize = 0; r < 3; r++) {
      const w = work + r * 96;
      gt6(v128.load(w), v128.load(w, 16), v128.load(w, 32), v128.load(w, 48), v128.load(w, 64), v128.load(w, 80), dg + r * 3 * plane + off, plane);
    }
  }
}

/** V[ξ][t][ci] = (Bᵀ d B)[ξ] for the 6×6 input block d of every tile of `batch` images. */
export function winoInput(
  x: usize, batch: i32, inH: i32, inW: i32, ci: i32, top: i32, left: i32, tilesH: i32, tilesW: i32, v: usize, xiStride: i32, work: usize,
): void {
  const rowBytes = <usize>ci << 2;
  const ld = <usize>inW * rowBytes;
  const xi = <usize>xiStride << 2;
  const zero = f32x4.splat(0);
  let t: usize = 0;
  for (let b: i32 = 0; b < batch; b++) {
    const image = x + <usize>(b * inH) * ld;
    for (let th: i32 = 0; th < tilesH; th++) {
      const h0 = 4 * th - top;
      const rowsInside = h0 >= 0 && h0 + 6 <= inH;
      for (let tw: i32 = 0; tw < tilesW; tw++) {
        const w0 = 4 * tw - left;
        const inside = rowsInside && w0 >= 0 && w0 + 6 <= inW;
        const out = v + t * rowBytes;
        for (let c: usize = 0; c < rowBytes; c += 16) {
          for (let j: i32 = 0; j < 6; j++) {
            const w = w0 + j;
            const work_j = work + (<usize>j << 4);
            if (inside) {
              const p = image + <usize>h0 * ld + <usize>w * rowBytes + c;
              bt6(v128.load(p), v128.load(p + ld), v128.load(p + 2 * ld), v128.load(p + 3 * ld), v128.load(p + 4 * ld), v128.load(p + 5 * ld), work_j, 96);
            } else if (w >= 0 && w < inW) {
              const p = image + <usize>w * rowBytes + c;
              bt6(
                rowOrZero(p, h0, inH, ld), rowOrZero(p, h0 + 1, inH, ld), rowOrZero(p, h0 + 2, inH, ld),
                rowOrZero(p, h0 + 3, inH, ld), rowOrZero(p, h0 + 4, inH, ld), rowOrZero(p, h0 + 5, inH, ld), work_j, 96,
              );
            } else {
              bt6(zero, zero, zero, zero, zero, zero, work_j, 96);
            }
          }
          for (let i: usize = 0; i < 6; i++) {
            const w = work + i * 96;
            bt6(v128.load(w), v128.load(w, 16), v128.load(w, 32), v128.load(w, 48), v128.load(w, 64), v128.load(w, 80), out + i * 6 * xi + c, xi);
          }
        }
        t++;
      }
    }
  }
}

/** p[h·ld] when 0 ≤ h < inH, else zeros. */
// @ts-ignore: decorator
@inline
function rowOrZero(p: usize, h: i32, inH: i32, ld: usize): v128 {
  return h >= 0 && h < inH ? v128.load(p + <usize>h * ld) : f32x4.splat(0);
}

/** y = (Aᵀ M A) (+ bias, then ReLU) for every tile of `batch` images, rows and columns past outH, outW left out. */
export function winoOutput(
  m: usize, batch: i32, tilesH: i32, tilesW: i32, co: i32, outH: i32, outW: i32, xiStride: i32, bias: usize, relu: bool, y: usize, work: usize,
): void {
  const rowBytes = <usize>co << 2;
  const xi = <usize>xiStride << 2;
  const zero = f32x4.splat(0);
  let t: usize = 0;
  for (let b: i32 = 0; b < batch; b++) {
    for (let th: i32 = 0; th < tilesH; th++) {
      const h0 = 4 * th;
      const rows = min(4, outH - h0);
      for (let tw: i32 = 0; tw < tilesW; tw++) {
        const w0 = 4 * tw;
        const cols = min(4, outW - w0);
        const src = m + t * rowBytes;
        const dst = y + (<usize>((b * outH + h0) * outW + w0)) * rowBytes;
        for (let c: usize = 0; c < rowBytes; c += 16) {
          for (let j: usize = 0; j < 6; j++) {
            const p = src + j * xi + c;
            at6(v128.load(p), v128.load(p + 6 * xi), v128.load(p + 12 * xi), v128.load(p + 18 * xi), v128.load(p + 24 * xi), v128.load(p + 30 * xi),
              work + (j << 4), 96);
          }
          const bv = bias ? v128.load(bias + c) : zero;
          for (let i: i32 = 0; i < rows; i++) {
            const w = work + <usize>i * 96;
            const m0 = v128.load(w), m1 = v128.load(w, 16), m2 = v128.load(w, 32), m3 = v128.load(w, 48), m4 = v128.load(w, 64), m5 = v128.load(w, 80);
            const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2);
            const s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
            let y0 = f32x4.add(f32x4.add(f32x4.add(m0, s12), s34), bv);
            const d34x2 = x2(d34);
            let y1 = f32x4.add(f32x4.add(d12, d34x2), bv);
            let y2 = f32x4.add(f32x4.add(s12, x4(s34)), bv);
            let y3 = f32x4.add(f32x4.add(f32x4.add(d12, x4(d34x2)), m5), bv);
            if (relu) {
              y0 = f32x4.max(y0, zero); y1 = f32x4.max(y1, zero); y2 = f32x4.max(y2, zero); y3 = f32x4.max(y3, zero);
            }
            const o = dst + <usize>i * <usize>outW * rowBytes + c;
            v128.store(o, y0);
            if (cols > 1) v128.store(o + rowBytes, y1);
            if (cols > 2) v128.store(o + 2 * rowBytes, y2);
            if (cols > 3) v128.store(o + 3 * rowBytes, y3);
          }
        }
        t++;
      }
    }
  }
}

/** out[i·stride] for i < 4 = Aᵀ·(m0 … m5). */
// @ts-ignore: decorator
@inline
function at6(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, out: usize, stride: usize): void {
  const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2);
  const s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
  const d34x2 = x2(d34);
  v128.store(out, f32x4.add(f32x4.add(m0, s12), s34));
  v128.store(out + stride, f32x4.add(d12, d34x2));
  v128.store(out + 2 * stride, f32x4.add(s12, x4(s34)));
  v128.store(out + 3 * stride, f32x4.add(f32x4.add(d12, x4(d34x2)), m5));
}

/** dM[ξ][t][co] = (A dYₜ Aᵀ)[ξ] for the 4×4 output-gradient block of every tile (zero past outH, outW). */
export function winoGradOutput(
  dy: usize, batch: i32, outH: i32, outW: i32, co: i32, tilesH: i32, tilesW: i32, dm: usize, xiStride: i32, work: usize,
): void {
  const rowBytes = <usize>co << 2;
  const ld = <usize>outW * rowBytes;
  const xi = <usize>xiStride << 2;
  const zero = f32x4.splat(0);
  let t: usize = 0;
  for (let b: i32 = 0; b < batch; b++) {
    for (let th: i32 = 0; th < tilesH; th++) {
      const h0 = 4 * th;
      const rows = min(4, outH - h0);
      for (let tw: i32 = 0; tw < tilesW; tw++) {
        const w0 = 4 * tw;
        const cols = min(4, outW - w0);
        const src = dy + (<usize>((b * outH + h0) * outW + w0)) * rowBytes;
        const out = dm + t * rowBytes;
        for (let c: usize = 0; c < rowBytes; c += 16) {
          for (let j: i32 = 0; j < 4; j++) {
            let e0 = zero, e1 = zero, e2 = zero, e3 = zero;
            if (j < cols) {
              const p = src + <usize>j * rowBytes + c;
              e0 = v128.load(p);
              if (rows > 1) e1 = v128.load(p + ld);
              if (rows > 2) e2 = v128.load(p + 2 * ld);
              if (rows > 3) e3 = v128.load(p + 3 * ld);
            }
            a6(e0, e1, e2, e3, work + (<usize>j << 4), 64);
          }
          for (let i: usize = 0; i < 6; i++) {
            const w = work + (i << 6);
            a6(v128.load(w), v128.load(w, 16), v128.load(w, 32), v128.load(w, 48), out + i * 6 * xi + c, xi);
          }
        }
        t++;
      }
    }
  }
}

/** dx += B dVₜ Bᵀ at every tile's 6×6 input block (the adjoint of winoInput), positions outside the image left out. */
export function winoGradInput(
  dv: usize, batch: i32, inH: i32, inW: i32, ci: i32, top: i32, left: i32, tilesH: i32, tilesW: i32, xiStride: i32, dx: usize, work: usize,
): void {
  const rowBytes = <usize>ci << 2;
  const xi = <usize>xiStride << 2;
  let t: usize = 0;
  for (let b: i32 = 0; b < batch; b++) {
    for (let th: i32 = 0; th < tilesH; th++) {
      const h0 = 4 * th - top;
      for (let tw: i32 = 0; tw < tilesW; tw++) {
        const w0 = 4 * tw - left;
        const src = dv + t * rowBytes;
        for (let c: usize = 0; c < rowBytes; c += 16) {
          for (let j: usize = 0; j < 6; j++) {
            const p = src + j * xi + c;
            b6(v128.load(p), v128.load(p + 6 * xi), v128.load(p + 12 * xi), v128.load(p + 18 * xi), v128.load(p + 24 * xi), v128.load(p + 30 * xi),
              work + (j << 4), 96);
          }
          for (let i: i32 = 0; i < 6; i++) {
            const h = h0 + i;
            if (h < 0 || h >= inH) continue;
            const w = work + <usize>i * 96;
            // Row i of B dV Bᵀ goes through B once more, into a second scratch row.
            const o = work + 576;
            b6(v128.load(w), v128.load(w, 16), v128.load(w, 32), v128.load(w, 48), v128.load(w, 64), v128.load(w, 80), o, 16);
            const row = dx + (<usize>((b * inH + h) * inW)) * rowBytes + c;
            for (let j: i32 = 0; j < 6; j++) {
              const x = w0 + j;
              if (x < 0 || x >= inW) continue;
              const q = row + <usize>x * rowBytes;
              v128.store(q, f32x4.add(v128.load(q), v128.load(o + (<usize>j << 4))));
            }
          }
        }
        t++;
      }
    }
  }
}
