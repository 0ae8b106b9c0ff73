// bnlab's SIMD kernels for the tfjs wasm backend, in AssemblyScript (compiled by
// `npm run build:simd` with --enable simd --importMemory --runtime stub).
//
// The module imports the wasm backend's own memory and works in place on its tensors: every
// argument named like a tensor is a byte offset into that memory. It has no data segments,
// no globals that point into memory and never allocates: callers pass scratch space (from
// the backend's malloc) where a kernel needs it. All float data is float32, row-major.

// ---------------------------------------------------------------------------------------
// Reductions over the leading axes ("column sums" of a [rows, cols] matrix)
// ---------------------------------------------------------------------------------------

const BLOCK: i32 = 256;

/**
 * Rows per block of the column passes below: a block of at most 32 KB (and 256 rows), so
 * every 4-column strip of it after the first is read from the L1/L2 cache. Walking a whole
 * column strip down a large matrix instead fetches every cache line once per strip.
 */
// @ts-ignore: decorator
@inline
function blockRows(cols: i32): i32 {
  return max(8, min(BLOCK, 8192 / max(cols, 1)));
}

/** acc[c] += v (float64 accumulators for four columns starting at c). */
// @ts-ignore: decorator
@inline
function flush4(acc: usize, c: i32, v: v128): void {
  const at = acc + (<usize>c << 3);
  v128.store(at, f64x2.add(v128.load(at), f64x2.promote_low_f32x4(v)));
  v128.store(at + 16, f64x2.add(v128.load(at + 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1))));
}

/**
 * Column reductions of a row-major [rows, cols] matrix: which values are summed. Each
 * column's values are first shifted by s[c] (a reference value per column, such as the
 * first row, when s ≠ 0): x − s is exact for values near s, so a large common offset
 * costs no precision in the sums or in the centring by m (the mean of x − s).
 */
const SUM: i32 = 0; // x − s
const SQDEV: i32 = 1; // (x − s − m)²
const DYXC: i32 = 2; // dy, and dy · (x − s − m)
const MOMENTS: i32 = 3; // x − s, and (x − s)²

/**
 * The column passes: per column c, acc1[c] = Σ_r f(r, c) (and acc2 for DYXC), float32
 * vectors within a block of rows, float64 across blocks. acc1/acc2: float64[cols], zeroed here.
 */
// @ts-ignore: decorator
@inline
function columnPass(kind: i32, x: usize, s: usize, m: usize, dy: usize, rows: i32, cols: i32, acc1: usize, acc2: usize): void {
  memory.fill(acc1, 0, <usize>cols << 3);
  if (kind == DYXC || kind == MOMENTS) memory.fill(acc2, 0, <usize>cols << 3);
  if ((cols & 3) == 0) {
    rowMajorPass(kind, x, s, m, dy, rows, cols, acc1, acc2);
    return;
  }
  const stride = <usize>cols << 2;
  const rb = blockRows(cols);
  const c4 = cols & ~3;
  for (let r0: i32 = 0; r0 < rows; r0 += rb) {
    const end = min(rows, r0 + rb);
    for (let c: i32 = 0; c < c4; c += 4) {
      const off = <usize>c << 2;
      const vm = kind == SUM || kind == MOMENTS ? f32x4.splat(0) : v128.load(m + off);
      const vs = s ? v128.load(s + off) : f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let q = <usize>r0 * stride + off;
      for (let r = r0; r < end; r++) {
        if (kind == SUM) {
          a1 = f32x4.add(a1, f32x4.sub(v128.load(x + q), vs));
        } else if (kind == SQDEV) {
          const d = f32x4.sub(f32x4.sub(v128.load(x + q), vs), vm);
          a1 = f32x4.add(a1, f32x4.mul(d, d));
        } else if (kind == MOMENTS) {
          const d = f32x4.sub(v128.load(x + q), vs);
          a1 = f32x4.add(a1, d);
          a2 = f32x4.add(a2, f32x4.mul(d, d));
        } else {
          const g = v128.load(dy + q);
          a1 = f32x4.add(a1, g);
          a2 = f32x4.add(a2, f32x4.mul(g, f32x4.sub(f32x4.sub(v128.load(x + q), vs), vm)));
        }
        q += stride;
      }
      flush4(acc1, c, a1);
      if (kind == DYXC || kind == MOMENTS) flush4(acc2, c, a2);
    }
    for (let c = c4; c < cols; c++) {
      const off = <usize>c << 2;
      const mv: f64 = kind == SUM || kind == MOMENTS ? 0 : <f64>load<f32>(m + off);
      const sv: f32 = s ? load<f32>(s + off) : 0;
      let t1: f64 = 0;
      let t2: f64 = 0;
      let q = <usize>r0 * stride + off;
      for (let r = r0; r < end; r++) {
        if (kind == SUM) {
          t1 += <f64>(load<f32>(x + q) - sv);
        } else if (kind == SQDEV) {
          const d = <f64>(load<f32>(x + q) - sv) - mv;
          t1 += d * d;
        } else if (kind == MOMENTS) {
          const d = <f64>(load<f32>(x + q) - sv);
          t1 += d;
          t2 += d * d;
        } else {
          const g = <f64>load<f32>(dy + q);
          t1 += g;
          t2 += g * (<f64>(load<f32>(x + q) - sv) - mv);
        }
        q += stride;
      }
      const at1 = acc1 + (<usize>c << 3);
      store<f64>(at1, load<f64>(at1) + t1);
      if (kind == DYXC || kind == MOMENTS) {
        const at2 = acc2 + (<usize>c << 3);
        store<f64>(at2, load<f64>(at2) + t2);
      }
    }
  }
}

/**
 * {@link columnPass} for `cols % 4 == 0`, walking the matrix in memory order: each row's
 * values are added onto float32 column sums (in L1 beside acc1/acc2: the caller's `work`
 * holds 32·cols bytes), which go into the float64 accumulators every BLOCK rows. Reading
 * rows whole lets the hardware prefetcher stream the matrix.
 */
// @ts-ignore: decorator
@inline
function rowMajorPass(kind: i32, x: usize, s: usize, m: usize, dy: usize, rows: i32, cols: i32, acc1: usize, acc2: usize): void {
  const bytes = <usize>cols << 2;
  // work layout: acc1 (8·cols), acc2 (8·cols), blk1 (4·cols), blk2 (4·cols), zeros (4·cols).
  const blk1 = acc1 + (<usize>cols << 4);
  const blk2 = blk1 + bytes;
  const zeros = blk2 + bytes;
  memory.fill(zeros, 0, bytes);
  const sv = s ? s : zeros;
  const mv = kind == SUM || kind == MOMENTS ? zeros : m;
  let row = x;
  let g = dy;
  for (let r0: i32 = 0; r0 < rows; r0 += BLOCK) {
    const end = min(rows, r0 + BLOCK);
    memory.fill(blk1, 0, bytes);
    if (kind == DYXC || kind == MOMENTS) memory.fill(blk2, 0, bytes);
    for (let r = r0; r < end; r++) {
      for (let o: usize = 0; o < bytes; o += 16) {
        const d = f32x4.sub(f32x4.sub(v128.load(row + o), v128.load(sv + o)), v128.load(mv + o));
        if (kind == SUM) {
          v128.store(blk1 + o, f32x4.add(v128.load(blk1 + o), d));
        } else if (kind == SQDEV) {
          v128.store(blk1 + o, f32x4.add(v128.load(blk1 + o), f32x4.mul(d, d)));
        } else if (kind == MOMENTS) {
          v128.store(blk1 + o, f32x4.add(v128.load(blk1 + o), d));
          v128.store(blk2 + o, f32x4.add(v128.load(blk2 + o), f32x4.mul(d, d)));
        } else {
          const gv = v128.load(g + o);
          v128.store(blk1 + o, f32x4.add(v128.load(blk1 + o), gv));
          v128.store(blk2 + o, f32x4.add(v128.load(blk2 + o), f32x4.mul(gv, d)));
        }
      }
      row += bytes;
      g += bytes;
    }
    for (let c: i32 = 0; c < cols; c += 4) {
      flush4(acc1, c, v128.load(blk1 + (<usize>c << 2)));
      if (kind == DYXC || kind == MOMENTS) flush4(acc2, c, v128.load(blk2 + (<usize>c << 2)));
    }
  }
}

/** out[c] = (float32) scale · acc[c]. */
// @ts-ignore: decorator
@inline
function storeScaled(acc: usize, cols: i32, scale: f64, out: usize): void {
  for (let c: i32 = 0; c < cols; c++) store<f32>(out + (<usize>c << 2), <f32>(load<f64>(acc + (<usize>c << 3)) * scale));
}

/**
 * out[c] = scale · Σ_r (x[r, c] − s[c]) for a row-major [rows, cols] matrix (s = 0: no
 * shift). Sums run in float32 within blocks of rows and in float64 across blocks, so long
 * columns keep precision. `work`: 32·cols bytes.
 */
export function colSum(x: usize, s: usize, rows: i32, cols: i32, out: usize, scale: f64, work: usize): void {
  columnPass(SUM, x, s, 0, 0, rows, cols, work, 0);
  storeScaled(work, cols, scale, out);
}

/**
 * Per column c: sumDy[c] = Σ_r dy[r, c] and sumDyXc[c] = Σ_r dy[r, c] · (x[r, c] − s[c] − m[c]):
 * the two reductions of the batch-norm gradient, in one pass. `work`: 32·cols bytes.
 */
export function colSum2(dy: usize, x: usize, s: usize, m: usize, rows: i32, cols: i32, sumDy: usize, sumDyXc: usize, work: usize): void {
  const acc2 = work + (<usize>cols << 3);
  columnPass(DYXC, x, s, m, dy, rows, cols, work, acc2);
  storeScaled(work, cols, 1, sumDy);
  storeScaled(acc2, cols, 1, sumDyXc);
}

/**
 * How much larger than a column's variance the mean square of x − s may be for the one-pass
 * variance of {@link colMoments}: its rounding error grows with that ratio (float32 sums within
 * blocks), so up to 16 it stays within a few 1e-6 of the variance, as the two-pass one.
 */
const ONE_PASS_LIMIT: f64 = 16;

/**
 * Per column c of a row-major [rows, cols] matrix, the mean of x − s (`centre[c]`) and the
 * biased variance of x (`variance[c]`, divided by rows): the statistics of batch norm's
 * forward pass. One pass over x sums x − s and (x − s)² (variance = mean square − centre²);
 * where that difference would cancel (some column's mean square above
 * {@link ONE_PASS_LIMIT} × its variance, e.g. a first row far out in its column's
 * distribution, or NaN/∞) a second pass sums (x − s − centre)² instead, as a two-pass
 * variance. Returns the number of passes (1 or 2). `work`: 32·cols bytes.
 */
export function colMoments(x: usize, s: usize, rows: i32, cols: i32, centre: usize, variance: usize, work: usize): i32 {
  const acc2 = work + (<usize>cols << 3);
  columnPass(MOMENTS, x, s, 0, 0, rows, cols, work, acc2);
  const inv: f64 = 1.0 / <f64>rows;
  let onePass = true;
  for (let c: i32 = 0; c < cols; c++) {
    const m = load<f64>(work + (<usize>c << 3)) * inv;
    const q = load<f64>(acc2 + (<usize>c << 3)) * inv;
    const v = q - m * m;
    store<f32>(centre + (<usize>c << 2), <f32>m);
    store<f32>(variance + (<usize>c << 2), <f32>max(v, 0));
    // False for v ≤ 0 < q and for NaN as well; q = ∞ (a float32 block sum of (x − s)² that
    // overflowed, though the variance itself may be finite) also takes the second pass.
    if (!(v * ONE_PASS_LIMIT >= q) || !(q < Infinity)) onePass = false;
  }
  if (onePass) return 1;
  columnPass(SQDEV, x, s, centre, 0, rows, cols, work, 0);
  storeScaled(work, cols, inv, variance);
  return 2;
}

/** The vector rows of {@link affine}; `withS`/`withB` are constants at each call. */
// @ts-ignore: decorator
@inline
function affineRows(
  a: usize, s: usize, m: usize, p: usize, b: usize, q: usize, k: usize, rows: i32, bytes: usize, out: usize,
  withS: bool, withB: bool,
): void {
  const end = a + <usize>rows * bytes;
  let o = out;
  let bb = b;
  for (let row = a; row < end; row += bytes) {
    for (let c: usize = 0; c < bytes; c += 16) {
      let xc = v128.load(row + c);
      if (withS) xc = f32x4.sub(xc, v128.load(s + c));
      xc = f32x4.sub(xc, v128.load(m + c));
      let v = f32x4.add(f32x4.mul(xc, v128.load(p + c)), v128.load(k + c));
      if (withB) v = f32x4.add(v, f32x4.mul(v128.load(bb + c), v128.load(q + c)));
      v128.store(o + c, v);
    }
    o += bytes;
    if (withB) bb += bytes;
  }
}

/**
 * out[r, c] = (a[r, c] − s[c] − m[c]) · p[c] + b[r, c] · q[c] + k[c]; `s` and `b` may be 0
 * (no shift, no b term). The element-wise part of batch norm forward (a = x, m = mean of
 * x − s) and backward (a = x, b = dy). Centring before scaling keeps precision when
 * |mean| ≫ std. Rows in memory order when `cols % 4 == 0`.
 */
export function affine(a: usize, s: usize, m: usize, p: usize, b: usize, q: usize, k: usize, rows: i32, cols: i32, out: usize): void {
  if ((cols & 3) == 0) {
    // In memory order, the per-column vectors read from L1; one loop per case.
    const bytes = <usize>cols << 2;
    if (s) {
      if (b) affineRows(a, s, m, p, b, q, k, rows, bytes, out, true, true);
      else affineRows(a, s, m, p, 0, 0, k, rows, bytes, out, true, false);
    } else {
      if (b) affineRows(a, 0, m, p, b, q, k, rows, bytes, out, false, true);
      else affineRows(a, 0, m, p, 0, 0, k, rows, bytes, out, false, false);
    }
    return;
  }
  let o: usize = 0;
  for (let r: i32 = 0; r < rows; r++) {
    for (let c: i32 = 0; c < cols; c++) {
      const cc = <usize>c << 2;
      const sv: f32 = s ? load<f32>(s + cc) : 0;
      let v = (load<f32>(a + o) - sv - load<f32>(m + cc)) * load<f32>(p + cc) + load<f32>(k + cc);
      if (b) v += load<f32>(b + o) * load<f32>(q + cc);
      store<f32>(out + o, v);
      o += 4;
    }
  }
}

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

// ---------------------------------------------------------------------------------------
// col2im (NHWC, any stride, padding and dilation)
// ---------------------------------------------------------------------------------------

/**
 * The adjoint of the patch matrix (`cols[(b, oh, ow), (kh, kw, c)] = x[b, oh·sh + kh·dh − top,
 * ow·sw + kw·dw − left, c]`, zero outside the image): dx[b, h, w, c] += cols[...].
 * dx must be zero-filled.
 */
export function col2im(
  cols: usize, batch: i32, inH: i32, inW: i32, ch: i32, kh: i32, kw: i32, sh: i32, sw: i32,
  dh: i32, dw: i32, top: i32, left: i32, outH: i32, outW: i32, dx: usize,
): void {
  const rowBytes = <usize>ch << 2;
  let o = cols;
  for (let b: i32 = 0; b < batch; b++) {
    for (let oh: i32 = 0; oh < outH; oh++) {
      for (let ow: i32 = 0; ow < outW; ow++) {
        for (let i: i32 = 0; i < kh; i++) {
          const h = oh * sh + i * dh - top;
          const rowOk = h >= 0 && h < inH;
          for (let j: i32 = 0; j < kw; j++) {
            const w = ow * sw + j * dw - left;
            if (rowOk && w >= 0 && w < inW) {
              const d = dx + (<usize>((b * inH + h) * inW + w)) * rowBytes;
              let c: i32 = 0;
              for (; c + 4 <= ch; c += 4) {
                const off = <usize>c << 2;
                v128.store(d + off, f32x4.add(v128.load(d + off), v128.load(o + off)));
              }
              for (; c < ch; c++) {
                const off = <usize>c << 2;
                store<f32>(d + off, load<f32>(d + off) + load<f32>(o + off));
              }
            }
            o += rowBytes;
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Patch matrices written straight into the GEMM's packed layout (see packA)
// ---------------------------------------------------------------------------------------

/**
 * Stores the 4×4 transpose of rows v0..v3, its rows `stride` bytes apart:
 * o[j·stride + 4i] = v_i[j] (stride 16: 16 contiguous floats).
 */
// @ts-ignore: decorator
@inline
function storeTransposed(o: usize, stride: usize, v0: v128, v1: v128, v2: v128, v3: v128): void {
  const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(o + stride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(o + 2 * stride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(o + 3 * stride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

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

// ---------------------------------------------------------------------------------------
// Matrix product C = op(A) · op(B) on packed panels
// ---------------------------------------------------------------------------------------

const MR: i32 = 4;
const NR: i32 = 8;
/**
 * Loop blocking of the matrix product (BLIS's order): for each slice of K at most KC deep
 * (equal slices), for each block of MCP A panels (MCP · 4 rows × KC: 512 KB, in L2), for
 * each B panel (8 columns × KC: 16 KB, stays in L1), the A panels of the block stream
 * through the register tile. Measured on the benchmark CNN's GEMM shapes: 9–15% faster
 * than walking every B panel for each A panel, and deeper slices than 256 (which loaded
 * and stored C more often) faster still.
 */
const KC: i32 = 512;
const MCP: i32 = 64;

/**
 * Packs op(A) (M×K) into panels of 4 rows: ap[panel][k][r], zero-padded to a multiple of
 * 4 rows. `transposed`: A is stored as [K, M] (row stride lda), else as [M, K].
 */
export function packA(a: usize, lda: i32, m: i32, k: i32, transposed: bool, ap: usize): void {
  const panels = (m + MR - 1) / MR;
  let o = ap;
  for (let p: i32 = 0; p < panels; p++) {
    const r0 = p * MR;
    const full = r0 + MR <= m;
    if (transposed) {
      for (let kk: i32 = 0; kk < k; kk++) {
        const src = a + ((<usize>kk * <usize>lda + <usize>r0) << 2);
        if (full) {
          v128.store(o, v128.load(src));
        } else {
          for (let r: i32 = 0; r < MR; r++) store<f32>(o + (<usize>r << 2), r0 + r < m ? load<f32>(src + (<usize>r << 2)) : 0);
        }
        o += 16;
      }
    } else {
      let kk: i32 = 0;
      if (full) {
        // Four rows, four k at a time: a 4×4 transpose.
        const row0 = a + ((<usize>r0 * <usize>lda) << 2);
        const ldaBytes = <usize>lda << 2;
        for (; kk + 4 <= k; kk += 4) {
          const src = row0 + (<usize>kk << 2);
          const v0 = v128.load(src);
          const v1 = v128.load(src + ldaBytes);
          const v2 = v128.load(src + 2 * ldaBytes);
          const v3 = v128.load(src + 3 * ldaBytes);
          storeTransposed(o, 16, v0, v1, v2, v3);
          o += 64;
        }
      }
      for (; kk < k; kk++) {
        for (let r: i32 = 0; r < MR; r++) {
          store<f32>(o + (<usize>r << 2), r0 + r < m ? load<f32>(a + ((<usize>(r0 + r) * <usize>lda + <usize>kk) << 2)) : 0);
        }
        o += 16;
      }
    }
  }
}

/**
 * Packs op(B) (K×N) into panels of 8 columns: bp[panel][k][c], zero-padded to a multiple
 * of 8 columns. `transposed`: B is stored as [N, K] (row stride ldb), else as [K, N].
 */
export function packB(b: usize, ldb: i32, k: i32, n: i32, transposed: bool, bp: usize): void {
  const panels = (n + NR - 1) / NR;
  let o = bp;
  for (let p: i32 = 0; p < panels; p++) {
    const c0 = p * NR;
    const full = c0 + NR <= n;
    if (!transposed) {
      for (let kk: i32 = 0; kk < k; kk++) {
        const src = b + ((<usize>kk * <usize>ldb + <usize>c0) << 2);
        if (full) {
          v128.store(o, v128.load(src));
          v128.store(o + 16, v128.load(src + 16));
        } else {
          for (let c: i32 = 0; c < NR; c++) store<f32>(o + (<usize>c << 2), c0 + c < n ? load<f32>(src + (<usize>c << 2)) : 0);
        }
        o += 32;
      }
    } else {
      let kk: i32 = 0;
      if (full) {
        // Eight rows of the stored B, four k at a time: two 4×4 transposes.
        const row0 = b + ((<usize>c0 * <usize>ldb) << 2);
        const ldbBytes = <usize>ldb << 2;
        for (; kk + 4 <= k; kk += 4) {
          const src = row0 + (<usize>kk << 2);
          storeTransposed(o, 32, v128.load(src), v128.load(src + ldbBytes), v128.load(src + 2 * ldbBytes), v128.load(src + 3 * ldbBytes));
          const src4 = src + 4 * ldbBytes;
          storeTransposed(o + 16, 32, v128.load(src4), v128.load(src4 + ldbBytes), v128.load(src4 + 2 * ldbBytes), v128.load(src4 + 3 * ldbBytes));
          o += 128;
        }
      }
      for (; kk < k; kk++) {
        for (let c: i32 = 0; c < NR; c++) {
          store<f32>(o + (<usize>c << 2), c0 + c < n ? load<f32>(b + ((<usize>(c0 + c) * <usize>ldb + <usize>kk) << 2)) : 0);
        }
        o += 32;
      }
    }
  }
}

/**
 * a·b + c per lane. Built twice (scripts/build-simd.mjs): with relaxed SIMD this is one
 * fused multiply-add where the CPU has one (a single rounding; engines may also compute
 * it unfused, so results can differ by rounding between machines), otherwise a
 * multiply and an add.
 */
// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * A 4×8 register tile of C (+)= op(A) · op(B) over `kc` steps of k. Row r of the tile reads
 * op(A)[r, k] at a + r·aRow + k·aStep and op(B)[k, 0..8) at b + k·bStep (bytes): packed
 * panels are aRow 4, aStep 16, bStep 32 (constants, folded into the loads' offsets);
 * {@link gemmStrided} passes the strides of unpacked matrices.
 */
// @ts-ignore: decorator
@inline
function tile(
  a: usize, aRow: usize, aStep: usize, b: usize, bStep: usize, kc: i32, c: usize, ldcBytes: usize, acc: bool, bias: usize, relu: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (acc) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldcBytes); c11 = v128.load(c + ldcBytes, 16);
    c20 = v128.load(c + 2 * ldcBytes); c21 = v128.load(c + 2 * ldcBytes, 16);
    c30 = v128.load(c + 3 * ldcBytes); c31 = v128.load(c + 3 * ldcBytes, 16);
  }
  for (let kk: i32 = 0; kk < kc; kk++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    const a1 = v128.load32_splat(a + aRow);
    const a2 = v128.load32_splat(a + 2 * aRow);
    const a3 = v128.load32_splat(a + 3 * aRow);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    a += aStep;
    b += bStep;
  }
  // `bias` (the last K slice's epilogue) points at this tile's 8 columns.
  storeTile(c, ldcBytes, c00, c01, c10, c11, c20, c21, c30, c31, bias, relu);
}

/**
 * Stores a 4×8 register tile (rows `stride` bytes apart) after adding bias[0..8) to each row
 * (when bias ≠ 0) and then max(·, 0) (when relu; wasm's max keeps NaN, as tfjs's ReLU).
 */
// @ts-ignore: decorator
@inline
function storeTile(
  o: usize, stride: usize, a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128, bias: usize, relu: bool,
): void {
  if (bias) {
    const b0 = v128.load(bias);
    const b1 = v128.load(bias, 16);
    a00 = f32x4.add(a00, b0); a01 = f32x4.add(a01, b1); a10 = f32x4.add(a10, b0); a11 = f32x4.add(a11, b1);
    a20 = f32x4.add(a20, b0); a21 = f32x4.add(a21, b1); a30 = f32x4.add(a30, b0); a31 = f32x4.add(a31, b1);
  }
  if (relu) {
    const z = f32x4.splat(0);
    a00 = f32x4.max(a00, z); a01 = f32x4.max(a01, z); a10 = f32x4.max(a10, z); a11 = f32x4.max(a11, z);
    a20 = f32x4.max(a20, z); a21 = f32x4.max(a21, z); a30 = f32x4.max(a30, z); a31 = f32x4.max(a31, z);
  }
  v128.store(o, a00); v128.store(o, a01, 16);
  v128.store(o + stride, a10); v128.store(o + stride, a11, 16);
  v128.store(o + 2 * stride, a20); v128.store(o + 2 * stride, a21, 16);
  v128.store(o + 3 * stride, a30); v128.store(o + 3 * stride, a31, 16);
}

/** A tile at the matrix edge (mr < 4 rows or nr < 8 columns), through a 4×8 scratch tile. */
function edgeTile(
  aPanel: usize, bPanel: usize, kc: i32, cTile: usize, ldcBytes: usize, acc: bool, mr: i32, nr: i32, scratch: usize, bias: usize, relu: bool,
): void {
  for (let r: i32 = 0; r < MR; r++) {
    for (let q: i32 = 0; q < NR; q++) {
      const s = scratch + (<usize>(r * NR + q) << 2);
      store<f32>(s, acc && r < mr && q < nr ? load<f32>(cTile + <usize>r * ldcBytes + (<usize>q << 2)) : 0);
    }
  }
  tile(aPanel, 4, 16, bPanel, 32, kc, scratch, 32, true, 0, false);
  for (let r: i32 = 0; r < mr; r++) {
    for (let q: i32 = 0; q < nr; q++) {
      store<f32>(cTile + <usize>r * ldcBytes + (<usize>q << 2), biasReluScalar(load<f32>(scratch + (<usize>(r * NR + q) << 2)), bias, q, relu));
    }
  }
}

/**
 * C (M×N, row stride ldc) = Ap · Bp (+ C when `accumulate`), from {@link packA} and
 * {@link packB} panels, then + bias[column] (when bias ≠ 0) and max(·, 0) (when relu) as
 * each tile is stored the last time. `scratch` holds 32 floats for the tiles at the edges.
 */
export function gemmPacked(
  ap: usize, bp: usize, m: i32, n: i32, k: i32, c: usize, ldc: i32, accumulate: bool, scratch: usize, bias: usize, relu: bool,
): void {
  const mp = (m + MR - 1) / MR;
  const np = (n + NR - 1) / NR;
  const ldcBytes = <usize>ldc << 2;
  if (k == 0) {
    // An empty product: C is 0 (or kept), then the epilogue.
    for (let r: i32 = 0; r < m; r++) {
      for (let q: i32 = 0; q < n; q++) {
        const at = c + <usize>r * ldcBytes + (<usize>q << 2);
        store<f32>(at, biasReluScalar(accumulate ? load<f32>(at) : 0, bias, q, relu));
      }
    }
    return;
  }
  // Equal slices of at most KC: a remainder slice of a few k (544 = 512 + 32) would
  // load and store every C tile again for little work.
  const slices = (k + KC - 1) / KC;
  const step = (k + slices - 1) / slices;
  for (let k0: i32 = 0; k0 < k; k0 += step) {
    const kc = min(step, k - k0);
    const acc = accumulate || k0 > 0;
    const last = k0 + kc >= k;
    for (let i0: i32 = 0; i0 < mp; i0 += MCP) {
      const iEnd = min(mp, i0 + MCP);
      for (let j: i32 = 0; j < np; j++) {
        const bPanel = bp + ((<usize>j * <usize>k + <usize>k0) << 5);
        const c0 = j * NR;
        const nr = min(NR, n - c0);
        const tileBias: usize = last && bias ? bias + (<usize>c0 << 2) : 0;
        for (let i: i32 = i0; i < iEnd; i++) {
          const aPanel = ap + ((<usize>i * <usize>k + <usize>k0) << 4);
          const r0 = i * MR;
          const mr = min(MR, m - r0);
          const cTile = c + (<usize>r0 * ldcBytes) + (<usize>c0 << 2);
          if (mr == MR && nr == NR) {
            tile(aPanel, 4, 16, bPanel, 32, kc, cTile, ldcBytes, acc, tileBias, last && relu);
          } else {
            edgeTile(aPanel, bPanel, kc, cTile, ldcBytes, acc, mr, nr, scratch, tileBias, last && relu);
          }
        }
      }
    }
  }
}

/**
 * C (M×N, row stride ldc) = op(A) · op(B) (+ C when `accumulate`) read where they lie, without
 * packing: op(A)[i, k] at a + (i / 4)·aPanel + (i % 4)·aRow + k·aStep and op(B)[k, j] at
 * b + (j / 8)·bPanel + (j % 8)·4 + k·bStep (bytes). A row-major [M, K] A is aRow = 4·lda,
 * aStep = 4, aPanel = 16·lda; a row-major [K, M] A (op(A) = its transpose) is aRow = 4,
 * aStep = 4·lda, aPanel = 16; a row-major [K, N] B is bStep = 4·ldb, bPanel = 32. Panels at
 * the edges (fewer than 4 rows or 8 columns) are copied, zero-padded, into `edge` (12 · 512
 * floats) so nothing past the matrices is read. Same blocking as {@link gemmPacked}; the
 * Winograd convolutions' transformed blocks go in so (packing them cost a pass each).
 */
export function gemmStrided(
  a: usize, aRow: i32, aStep: i32, aPanel: i32, b: usize, bStep: i32, bPanel: i32,
  m: i32, n: i32, k: i32, c: usize, ldc: i32, accumulate: bool, scratch: usize, edge: usize,
): void {
  const mp = (m + MR - 1) / MR;
  const np = (n + NR - 1) / NR;
  const ldcBytes = <usize>ldc << 2;
  const ar = <usize>aRow, as = <usize>aStep, bs = <usize>bStep;
  if (k == 0) {
    if (!accumulate) {
      for (let r: i32 = 0; r < m; r++) memory.fill(c + <usize>r * ldcBytes, 0, <usize>n << 2);
    }
    return;
  }
  const slices = (k + KC - 1) / KC;
  const step = (k + slices - 1) / slices;
  // The copies of the last (partial) A panel and of a partial B panel, K slice by K slice.
  const edgeA = edge;
  const edgeB = edge + (<usize>(MR * KC) << 2);
  const lastMr = m - (mp - 1) * MR;
  const lastNr = n - (np - 1) * NR;
  for (let k0: i32 = 0; k0 < k; k0 += step) {
    const kc = min(step, k - k0);
    const acc = accumulate || k0 > 0;
    if (lastMr < MR) {
      const src = a + <usize>(mp - 1) * <usize>aPanel + <usize>k0 * as;
      for (let kk: i32 = 0; kk < kc; kk++) {
        for (let r: i32 = 0; r < MR; r++) {
          store<f32>(edgeA + (<usize>(kk * MR + r) << 2), r < lastMr ? load<f32>(src + <usize>r * ar + <usize>kk * as) : 0);
        }
      }
    }
    for (let i0: i32 = 0; i0 < mp; i0 += MCP) {
      const iEnd = min(mp, i0 + MCP);
      for (let j: i32 = 0; j < np; j++) {
        const c0 = j * NR;
        const nr = min(NR, n - c0);
        let bj = b + <usize>j * <usize>bPanel + <usize>k0 * bs;
        let bStepJ = bs;
        if (nr < NR) {
          if (i0 == 0) {
            for (let kk: i32 = 0; kk < kc; kk++) {
              for (let q: i32 = 0; q < NR; q++) {
                store<f32>(edgeB + (<usize>(kk * NR + q) << 2), q < lastNr ? load<f32>(bj + <usize>kk * bs + (<usize>q << 2)) : 0);
              }
            }
          }
          bj = edgeB;
          bStepJ = 32;
        }
        for (let i: i32 = i0; i < iEnd; i++) {
          const r0 = i * MR;
          const mr = min(MR, m - r0);
          const cTile = c + (<usize>r0 * ldcBytes) + (<usize>c0 << 2);
          if (mr == MR && nr == NR) {
            tile(a + <usize>i * <usize>aPanel + <usize>k0 * as, ar, as, bj, bStepJ, kc, cTile, ldcBytes, acc, 0, false);
          } else if (mr == MR) {
            edgeTileStrided(a + <usize>i * <usize>aPanel + <usize>k0 * as, ar, as, bj, bStepJ, kc, cTile, ldcBytes, acc, mr, nr, scratch);
          } else {
            edgeTileStrided(edgeA, 4, 16, bj, bStepJ, kc, cTile, ldcBytes, acc, mr, nr, scratch);
          }
        }
      }
    }
  }
}

/** {@link edgeTile} for {@link gemmStrided}'s operands (no epilogue). */
function edgeTileStrided(
  a: usize, aRow: usize, aStep: usize, b: usize, bStep: usize, kc: i32, cTile: usize, ldcBytes: usize, acc: bool, mr: i32, nr: i32, scratch: usize,
): void {
  for (let r: i32 = 0; r < MR; r++) {
    for (let q: i32 = 0; q < NR; q++) {
      const s = scratch + (<usize>(r * NR + q) << 2);
      store<f32>(s, acc && r < mr && q < nr ? load<f32>(cTile + <usize>r * ldcBytes + (<usize>q << 2)) : 0);
    }
  }
  tile(a, aRow, aStep, b, bStep, kc, scratch, 32, true, 0, false);
  for (let r: i32 = 0; r < mr; r++) {
    for (let q: i32 = 0; q < nr; q++) {
      store<f32>(cTile + <usize>r * ldcBytes + (<usize>q << 2), load<f32>(scratch + (<usize>(r * NR + q) << 2)));
    }
  }
}

/**
 * `count` independent products C[i] = op(A[i]) · op(B[i]) (+ C[i] when `accumulate`), the
 * i-th operands `aStride`, `bStride`, `cStride` floats after the previous ones: each A[i]
 * is packed into `ap` ({@link packA}); each B[i] into `bp` ({@link packB}), or, when
 * `bPacked`, B is already a run of packed panels `bStride` floats apart. `scratch` as for
 * {@link gemmPacked}. (Winograd convolutions run 36 such products per slice of images.)
 */
export function gemmBatch(
  count: i32, a: usize, aStride: i32, lda: i32, aTransposed: bool, b: usize, bStride: i32, ldb: i32, bTransposed: bool, bPacked: bool,
  m: i32, n: i32, k: i32, c: usize, cStride: i32, ldc: i32, accumulate: bool, ap: usize, bp: usize, scratch: usize,
): void {
  for (let i: i32 = 0; i < count; i++) {
    packA(a + ((<usize>i * <usize>aStride) << 2), lda, m, k, aTransposed, ap);
    let bi = b + ((<usize>i * <usize>bStride) << 2);
    if (!bPacked) {
      packB(bi, ldb, k, n, bTransposed, bp);
      bi = bp;
    }
    gemmPacked(ap, bi, m, n, k, c + ((<usize>i * <usize>cStride) << 2), ldc, accumulate, scratch, 0, false);
  }
}

/** v + bias[col] (when bias ≠ 0), then ReLU when relu, NaN kept (as tfjs's ReLU). */
// @ts-ignore: decorator
@inline
function biasReluScalar(v: f32, bias: usize, col: i32, relu: bool): f32 {
  if (bias) v += load<f32>(bias + (<usize>col << 2));
  return relu && v < 0 ? 0 : v;
}

/**
 * out = y + bias[c] (when bias ≠ 0), then max(·, 0) when relu, on a [rows, cols] matrix;
 * `out` may be `y` (in place).
 */
export function biasRelu(y: usize, rows: i32, cols: i32, bias: usize, relu: bool, out: usize): void {
  const zero = f32x4.splat(0);
  if ((cols & 3) == 0) {
    const bytes = <usize>cols << 2;
    const end = y + <usize>rows * bytes;
    let o = out;
    for (let row = y; row < end; row += bytes) {
      for (let c: usize = 0; c < bytes; c += 16) {
        let v = v128.load(row + c);
        if (bias) v = f32x4.add(v, v128.load(bias + c));
        if (relu) v = f32x4.max(v, zero);
        v128.store(o + c, v);
      }
      o += bytes;
    }
    return;
  }
  let i: usize = 0;
  for (let r: i32 = 0; r < rows; r++) {
    for (let c: i32 = 0; c < cols; c++) {
      store<f32>(out + i, biasReluScalar(load<f32>(y + i), bias, c, relu));
      i += 4;
    }
  }
}

/**
 * The gradient of ReLU, out = dy · step(x), with tfjs's step: 1 where x > 0, 0 where
 * x ≤ 0, NaN where x is NaN (so NaN and ∞ propagate as in tfjs's own formula).
 */
export function reluGrad(dy: usize, x: usize, n: i32, out: usize): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const off = <usize>i << 2;
    const xv = v128.load(x + off);
    const step = v128.bitselect(xv, v128.bitselect(one, zero, f32x4.gt(xv, zero)), f32x4.ne(xv, xv));
    v128.store(out + off, f32x4.mul(v128.load(dy + off), step));
  }
  for (; i < n; i++) {
    const off = <usize>i << 2;
    const xv = load<f32>(x + off);
    const step: f32 = xv != xv ? xv : xv > 0 ? 1 : 0;
    store<f32>(out + off, load<f32>(dy + off) * step);
  }
}

// ---------------------------------------------------------------------------------------
// Convolutions of a few input channels (1 to 4) with a 3-wide filter, stride 1 (a network's
// first layer, on grey or RGB images)
// ---------------------------------------------------------------------------------------
// Through the patch matrix such a layer is a GEMM of depth 3·kh·ch (27 for RGB): packing the
// patches, then loading and storing every output tile, cost more than the multiply-adds.
// These read the (zero-padded) image directly. `xp` is [batch, hp, wp, ch] (the padded
// image), filters and their gradients are [kh, 3, ch, co], outputs [batch, outH, outW, co],
// co a multiple of 8. A row of taps (j, c) of one pixel is 3·ch consecutive floats of xp.

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

// ---------------------------------------------------------------------------------------
// Group standardization (layer, group and instance normalization), channels last
// ---------------------------------------------------------------------------------------

/**
 * Per channel c of one sample ([p, c] at x): acc[c] (float64) = Σ_r (x[r, c] − s[c] − m[c])^power
 * for power 1 or 2, float32 vectors over blocks of 256 rows when `c % 4 == 0`.
 */
// @ts-ignore: decorator
@inline
function channelSums(x: usize, p: i32, c: i32, s: usize, m: usize, power: i32, acc: usize): void {
  const stride = <usize>c << 2;
  let ch: i32 = 0;
  if ((c & 3) == 0) {
    for (; ch < c; ch += 4) {
      const off = <usize>ch << 2;
      const vs = v128.load(s + off);
      const vm = v128.load(m + off);
      let lo = f64x2.splat(0), hi = f64x2.splat(0);
      let r: i32 = 0;
      while (r < p) {
        const end = min(p, r + BLOCK);
        let a = f32x4.splat(0);
        let q = x + <usize>r * stride + off;
        for (; r < end; r++) {
          const d = f32x4.sub(f32x4.sub(v128.load(q), vs), vm);
          a = f32x4.add(a, power == 1 ? d : f32x4.mul(d, d));
          q += stride;
        }
        lo = f64x2.add(lo, f64x2.promote_low_f32x4(a));
        hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)));
      }
      v128.store(acc + (<usize>ch << 3), lo);
      v128.store(acc + (<usize>ch << 3) + 16, hi);
    }
    return;
  }
  for (; ch < c; ch++) {
    const off = <usize>ch << 2;
    const sv = load<f32>(s + off);
    const mv = load<f32>(m + off);
    let t: f64 = 0;
    let q = x + off;
    for (let r: i32 = 0; r < p; r++) {
      const d = <f64>(load<f32>(q) - sv - mv);
      t += power == 1 ? d : d * d;
      q += stride;
    }
    store<f64>(acc + (<usize>ch << 3), t);
  }
}

/**
 * Training/inference forward of group standardization for x = [n, p, c] (n samples, p
 * positions, c channels in `groups` groups of consecutive channels): per sample and group,
 * y = (x − μ) / √(σ² + ε) over the group's p·(c/groups) values, σ² biased. Each group is first
 * shifted by its first value (exact for nearby values, so a large common offset costs no
 * precision), then two passes: mean, then mean of squared deviations. Writes y and r[n, groups]
 * = 1/√(σ² + ε). `work` holds 8·c bytes (float64 per channel) + 3·c floats.
 * Layer normalization over the last axis is the case p = 1, groups = 1; instance
 * normalization groups = c.
 */
export function groupNorm(x: usize, n: i32, p: i32, c: i32, groups: i32, eps: f64, y: usize, r: usize, work: usize): void {
  if (p == 1 && groups == 1) {
    rowNorm(x, n, c, eps, y, r);
    return;
  }
  const k = c / groups;
  const count = <f64>p * <f64>k;
  const acc = work;
  const s = work + (<usize>c << 3);
  const m = s + (<usize>c << 2);
  const rc = m + (<usize>c << 2);
  const sampleBytes = (<usize>p * <usize>c) << 2;
  for (let i: i32 = 0; i < n; i++) {
    const xs = x + <usize>i * sampleBytes;
    for (let ch: i32 = 0; ch < c; ch++) {
      store<f32>(s + (<usize>ch << 2), load<f32>(xs + (<usize>(ch - ch % k) << 2)));
      store<f32>(m + (<usize>ch << 2), 0);
    }
    channelSums(xs, p, c, s, m, 1, acc);
    for (let g: i32 = 0; g < groups; g++) {
      let t: f64 = 0;
      for (let j: i32 = 0; j < k; j++) t += load<f64>(acc + (<usize>(g * k + j) << 3));
      const mean = <f32>(t / count);
      for (let j: i32 = 0; j < k; j++) store<f32>(m + (<usize>(g * k + j) << 2), mean);
    }
    channelSums(xs, p, c, s, m, 2, acc);
    for (let g: i32 = 0; g < groups; g++) {
      let t: f64 = 0;
      for (let j: i32 = 0; j < k; j++) t += load<f64>(acc + (<usize>(g * k + j) << 3));
      const inv = <f32>(1 / Math.sqrt(t / count + eps));
      store<f32>(r + (<usize>(i * groups + g) << 2), inv);
      for (let j: i32 = 0; j < k; j++) store<f32>(rc + (<usize>(g * k + j) << 2), inv);
    }
    const ys = y + <usize>i * sampleBytes;
    if ((c & 3) == 0) {
      for (let ch: i32 = 0; ch < c; ch += 4) {
        const off = <usize>ch << 2;
        const vs = v128.load(s + off), vm = v128.load(m + off), vr = v128.load(rc + off);
        let q = off;
        for (let row: i32 = 0; row < p; row++) {
          v128.store(ys + q, f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xs + q), vs), vm), vr));
          q += <usize>c << 2;
        }
      }
    } else {
      let q: usize = 0;
      for (let row: i32 = 0; row < p; row++) {
        for (let ch: i32 = 0; ch < c; ch++) {
          const o = <usize>ch << 2;
          store<f32>(ys + q, (load<f32>(xs + q) - load<f32>(s + o) - load<f32>(m + o)) * load<f32>(rc + o));
          q += 4;
        }
      }
    }
  }
}

/**
 * Gradient of {@link groupNorm}: with ŷ its output and r = 1/√(σ² + ε) per sample and group,
 * dx = r · (dy − mean(dy) − ŷ · mean(dy · ŷ)), means over each group's values. `work` holds
 * 16·c bytes (two float64 per channel) + 3·c floats.
 */
export function groupNormGrad(dy: usize, yh: usize, r: usize, n: i32, p: i32, c: i32, groups: i32, dx: usize, work: usize): void {
  if (p == 1 && groups == 1) {
    rowNormGrad(dy, yh, r, n, c, dx);
    return;
  }
  const k = c / groups;
  const count = <f64>p * <f64>k;
  const a1 = work;
  const a2 = work + (<usize>c << 3);
  const va = a2 + (<usize>c << 3);
  const vb = va + (<usize>c << 2);
  const vr = vb + (<usize>c << 2);
  const sampleBytes = (<usize>p * <usize>c) << 2;
  const stride = <usize>c << 2;
  for (let i: i32 = 0; i < n; i++) {
    const ds = dy + <usize>i * sampleBytes;
    const ys = yh + <usize>i * sampleBytes;
    // Per-channel Σ dy and Σ dy·ŷ.
    let ch: i32 = 0;
    if ((c & 3) == 0) {
      for (; ch < c; ch += 4) {
        const off = <usize>ch << 2;
        let s1lo = f64x2.splat(0), s1hi = f64x2.splat(0), s2lo = f64x2.splat(0), s2hi = f64x2.splat(0);
        let row: i32 = 0;
        while (row < p) {
          const end = min(p, row + BLOCK);
          let t1 = f32x4.splat(0), t2 = f32x4.splat(0);
          let q = <usize>row * stride + off;
          for (; row < end; row++) {
            const g = v128.load(ds + q);
            t1 = f32x4.add(t1, g);
            t2 = f32x4.add(t2, f32x4.mul(g, v128.load(ys + q)));
            q += stride;
          }
          s1lo = f64x2.add(s1lo, f64x2.promote_low_f32x4(t1));
          s1hi = f64x2.add(s1hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(t1, t1, 2, 3, 0, 1)));
          s2lo = f64x2.add(s2lo, f64x2.promote_low_f32x4(t2));
          s2hi = f64x2.add(s2hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(t2, t2, 2, 3, 0, 1)));
        }
        v128.store(a1 + (<usize>ch << 3), s1lo); v128.store(a1 + (<usize>ch << 3) + 16, s1hi);
        v128.store(a2 + (<usize>ch << 3), s2lo); v128.store(a2 + (<usize>ch << 3) + 16, s2hi);
      }
    } else {
      for (; ch < c; ch++) {
        let t1: f64 = 0, t2: f64 = 0;
        let q = <usize>ch << 2;
        for (let row: i32 = 0; row < p; row++) {
          const g = <f64>load<f32>(ds + q);
          t1 += g;
          t2 += g * <f64>load<f32>(ys + q);
          q += stride;
        }
        store<f64>(a1 + (<usize>ch << 3), t1);
        store<f64>(a2 + (<usize>ch << 3), t2);
      }
    }
    for (let g: i32 = 0; g < groups; g++) {
      let t1: f64 = 0, t2: f64 = 0;
      for (let j: i32 = 0; j < k; j++) {
        t1 += load<f64>(a1 + (<usize>(g * k + j) << 3));
        t2 += load<f64>(a2 + (<usize>(g * k + j) << 3));
      }
      const inv = load<f32>(r + (<usize>(i * groups + g) << 2));
      for (let j: i32 = 0; j < k; j++) {
        const o = <usize>(g * k + j) << 2;
        store<f32>(va + o, <f32>(t1 / count));
        store<f32>(vb + o, <f32>(t2 / count));
        store<f32>(vr + o, inv);
      }
    }
    const xs = dx + <usize>i * sampleBytes;
    if ((c & 3) == 0) {
      for (let cc: i32 = 0; cc < c; cc += 4) {
        const off = <usize>cc << 2;
        const m1 = v128.load(va + off), m2 = v128.load(vb + off), rr = v128.load(vr + off);
        let q = off;
        for (let row: i32 = 0; row < p; row++) {
          const v = f32x4.sub(f32x4.sub(v128.load(ds + q), m1), f32x4.mul(v128.load(ys + q), m2));
          v128.store(xs + q, f32x4.mul(v, rr));
          q += stride;
        }
      }
    } else {
      let q: usize = 0;
      for (let row: i32 = 0; row < p; row++) {
        for (let cc: i32 = 0; cc < c; cc++) {
          const o = <usize>cc << 2;
          store<f32>(xs + q, (load<f32>(ds + q) - load<f32>(va + o) - load<f32>(ys + q) * load<f32>(vb + o)) * load<f32>(vr + o));
          q += 4;
        }
      }
    }
  }
}

/** Sum of the four lanes, in float64. */
// @ts-ignore: decorator
@inline
function lanesSum(v: v128): f64 {
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) + <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}

/**
 * {@link groupNorm} with one position and one group: each row of x = [n, c] standardized over
 * its own c values (layer normalization over the last axis), vectors along the row.
 */
function rowNorm(x: usize, n: i32, c: i32, eps: f64, y: usize, r: usize): void {
  const rowBytes = <usize>c << 2;
  const c4 = c & ~3;
  for (let i: i32 = 0; i < n; i++) {
    const xr = x + <usize>i * rowBytes;
    const yr = y + <usize>i * rowBytes;
    const shift = load<f32>(xr);
    const vs = f32x4.splat(shift);
    let t: f64 = 0;
    let j: i32 = 0;
    while (j < c4) {
      // float32 lanes over at most 1024 values, float64 across: long rows keep precision.
      const end = min(c4, j + 1024);
      let acc = f32x4.splat(0);
      for (; j < end; j += 4) acc = f32x4.add(acc, f32x4.sub(v128.load(xr + (<usize>j << 2)), vs));
      t += lanesSum(acc);
    }
    for (; j < c; j++) t += <f64>(load<f32>(xr + (<usize>j << 2)) - shift);
    const mean = <f32>(t / <f64>c);
    const vm = f32x4.splat(mean);
    t = 0;
    j = 0;
    while (j < c4) {
      const end = min(c4, j + 1024);
      let acc = f32x4.splat(0);
      for (; j < end; j += 4) {
        const d = f32x4.sub(f32x4.sub(v128.load(xr + (<usize>j << 2)), vs), vm);
        acc = f32x4.add(acc, f32x4.mul(d, d));
      }
      t += lanesSum(acc);
    }
    for (; j < c; j++) {
      const d = <f64>(load<f32>(xr + (<usize>j << 2)) - shift - mean);
      t += d * d;
    }
    const inv = <f32>(1 / Math.sqrt(t / <f64>c + eps));
    store<f32>(r + (<usize>i << 2), inv);
    const vr = f32x4.splat(inv);
    for (j = 0; j < c4; j += 4) {
      const o = <usize>j << 2;
      v128.store(yr + o, f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), vs), vm), vr));
    }
    for (; j < c; j++) {
      const o = <usize>j << 2;
      store<f32>(yr + o, (load<f32>(xr + o) - shift - mean) * inv);
    }
  }
}

/** The gradient of {@link rowNorm} (see {@link groupNormGrad}). */
function rowNormGrad(dy: usize, yh: usize, r: usize, n: i32, c: i32, dx: usize): void {
  const rowBytes = <usize>c << 2;
  const c4 = c & ~3;
  for (let i: i32 = 0; i < n; i++) {
    const off = <usize>i * rowBytes;
    let t1: f64 = 0, t2: f64 = 0;
    let j: i32 = 0;
    while (j < c4) {
      const end = min(c4, j + 1024);
      let a1 = f32x4.splat(0), a2 = f32x4.splat(0);
      for (; j < end; j += 4) {
        const o = off + (<usize>j << 2);
        const g = v128.load(dy + o);
        a1 = f32x4.add(a1, g);
        a2 = f32x4.add(a2, f32x4.mul(g, v128.load(yh + o)));
      }
      t1 += lanesSum(a1);
      t2 += lanesSum(a2);
    }
    for (; j < c; j++) {
      const o = off + (<usize>j << 2);
      const g = <f64>load<f32>(dy + o);
      t1 += g;
      t2 += g * <f64>load<f32>(yh + o);
    }
    const m1 = <f32>(t1 / <f64>c), m2 = <f32>(t2 / <f64>c);
    const inv = load<f32>(r + (<usize>i << 2));
    const v1 = f32x4.splat(m1), v2 = f32x4.splat(m2), vr = f32x4.splat(inv);
    for (j = 0; j < c4; j += 4) {
      const o = off + (<usize>j << 2);
      v128.store(dx + o, f32x4.mul(f32x4.sub(f32x4.sub(v128.load(dy + o), v1), f32x4.mul(v128.load(yh + o), v2)), vr));
    }
    for (; j < c; j++) {
      const o = off + (<usize>j << 2);
      store<f32>(dx + o, (load<f32>(dy + o) - m1 - load<f32>(yh + o) * m2) * inv);
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

/**
 * One Adam step for n parameters, the same float32 operations in the same order as
 * tfjs-core's AdamOptimizer: m' = m·β1 + g·(1 − β1), v' = v·β2 + g²·(1 − β2),
 * w' = (m'/c1) / (√(v'/c2) + ε) · (−lr) + w, with c1 = 1 − β1^t and c2 = 1 − β2^t
 * (b1c = 1 − β1 and b2c = 1 − β2 rounded from float64 by the caller, as tfjs does).
 */
export function adamStep(
  w: usize, m: usize, v: usize, g: usize, n: i32, lr: f32, b1: f32, b1c: f32, b2: f32, b2c: f32, eps: f32, c1: f32, c2: f32,
  wOut: usize, mOut: usize, vOut: usize,
): void {
  const vb1 = f32x4.splat(b1), vb1c = f32x4.splat(b1c), vb2 = f32x4.splat(b2), vb2c = f32x4.splat(b2c);
  const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), veps = f32x4.splat(eps), vlr = f32x4.splat(-lr);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const m1 = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gv, vb1c));
    const v1 = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gv, gv), vb2c));
    const step = f32x4.div(f32x4.div(m1, vc1), f32x4.add(f32x4.sqrt(f32x4.div(v1, vc2)), veps));
    v128.store(mOut + o, m1);
    v128.store(vOut + o, v1);
    v128.store(wOut + o, f32x4.add(f32x4.mul(step, vlr), v128.load(w + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const m1 = load<f32>(m + o) * b1 + gs * b1c;
    const v1 = load<f32>(v + o) * b2 + (gs * gs) * b2c;
    const step = (m1 / c1) / (<f32>Math.sqrt(<f64>(v1 / c2)) + eps);
    store<f32>(mOut + o, m1);
    store<f32>(vOut + o, v1);
    store<f32>(wOut + o, step * -lr + load<f32>(w + o));
  }
}

/**
 * tfjs's momentum step for n floats: a' = m·a + g, then w' = c·a' + w (c = −learning rate),
 * or with Nesterov w' = c·(g + a'·m) + w; each product and sum rounded as tfjs's separate
 * kernels round them.
 */
export function momentumStep(w: usize, a: usize, g: usize, n: i32, m: f32, c: f32, nesterov: bool, wOut: usize, aOut: usize): void {
  const vm = f32x4.splat(m), vc = f32x4.splat(c);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    const a1 = f32x4.add(f32x4.mul(vm, v128.load(a + o)), gv);
    const step = nesterov ? f32x4.add(gv, f32x4.mul(a1, vm)) : a1;
    v128.store(aOut + o, a1);
    v128.store(wOut + o, f32x4.add(f32x4.mul(vc, step), v128.load(w + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(g + o);
    const a1 = m * load<f32>(a + o) + gs;
    const step = nesterov ? gs + a1 * m : a1;
    store<f32>(aOut + o, a1);
    store<f32>(wOut + o, c * step + load<f32>(w + o));
  }
}

/**
 * out[s, r, c] = scale · v[s, c] for s < slices, r < rows, c < cols: each of `slices` rows of
 * v repeated `rows` times, scaled (the gradient of a mean over the middle axes).
 */
export function spreadRows(v: usize, slices: i32, rows: i32, cols: i32, scale: f32, out: usize): void {
  const bytes = <usize>cols << 2;
  const vs = f32x4.splat(scale);
  const c4 = <usize>(cols & ~3) << 2;
  let o = out;
  for (let s: i32 = 0; s < slices; s++) {
    const src = v + <usize>s * bytes;
    for (let r: i32 = 0; r < rows; r++) {
      for (let c: usize = 0; c < c4; c += 16) v128.store(o + c, f32x4.mul(v128.load(src + c), vs));
      for (let c = c4; c < bytes; c += 4) store<f32>(o + c, load<f32>(src + c) * scale);
      o += bytes;
    }
  }
}

export { winoFilter, winoFilterGrad, winoInput, winoOutput, winoGradOutput, winoGradInput } from './winograd';
