// ---------------------------------------------------------------------------------------
// Reductions over the leading axes ("column sums" of a [rows, cols] matrix)
// ---------------------------------------------------------------------------------------

import { BLOCK } from './vector';

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
 * out[c] = scale · Σ_r (x[r, c] − shift[c]) for a row-major [rows, cols] matrix (shift = 0: no
 * shift). Sums run in float32 within blocks of rows and in float64 across blocks, so long
 * columns keep precision. `work`: 32·cols bytes.
 */
export function colSum(x: usize, shift: usize, rows: i32, cols: i32, out: usize, scale: f64, work: usize): void {
  columnPass(SUM, x, shift, 0, 0, rows, cols, work, 0);
  storeScaled(work, cols, scale, out);
}

/**
 * Per column c: sumDy[c] = Σ_r dy[r, c] and sumDyXc[c] = Σ_r dy[r, c] · (x[r, c] − shift[c] − mean[c]):
 * the two reductions of the batch-norm gradient, in one pass. `work`: 32·cols bytes.
 */
export function colSum2(dy: usize, x: usize, shift: usize, mean: usize, rows: i32, cols: i32, sumDy: usize, sumDyXc: usize, work: usize): void {
  const acc2 = work + (<usize>cols << 3);
  columnPass(DYXC, x, shift, mean, dy, rows, cols, work, acc2);
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
 * Per column c of a row-major [rows, cols] matrix, the mean of x − shift (`centre[c]`) and the
 * biased variance of x (`variance[c]`, divided by rows): the statistics of batch norm's
 * forward pass. One pass over x sums x − shift and (x − shift)² (variance = mean square − centre²);
 * where that difference would cancel (some column's mean square above
 * {@link ONE_PASS_LIMIT} × its variance, e.g. a first row far out in its column's
 * distribution, or NaN/∞) a second pass sums (x − shift − centre)² instead, as a two-pass
 * variance. Returns the number of passes (1 or 2). `work`: 32·cols bytes.
 */
export function colMoments(x: usize, shift: usize, rows: i32, cols: i32, centre: usize, variance: usize, work: usize): i32 {
  const acc2 = work + (<usize>cols << 3);
  columnPass(MOMENTS, x, shift, 0, 0, rows, cols, work, acc2);
  const inv: f64 = 1.0 / <f64>rows;
  let onePass = true;
  for (let c: i32 = 0; c < cols; c++) {
    const m = load<f64>(work + (<usize>c << 3)) * inv;
    const q = load<f64>(acc2 + (<usize>c << 3)) * inv;
    const v = q - m * m;
    store<f32>(centre + (<usize>c << 2), <f32>m);
    store<f32>(variance + (<usize>c << 2), <f32>max(v, 0));
    // False for v ≤ 0 < q and for NaN as well; q = ∞ (a float32 block sum of (x − shift)² that
    // overflowed, though the variance itself may be finite) also takes the second pass.
    if (!(v * ONE_PASS_LIMIT >= q) || !(q < Infinity)) onePass = false;
  }
  if (onePass) return 1;
  columnPass(SQDEV, x, shift, centre, 0, rows, cols, work, 0);
  storeScaled(work, cols, inv, variance);
  return 2;
}

/** The vector rows of {@link affine}; `withShift`/`withY` are constants at each call. */
// @ts-ignore: decorator
@inline
function affineRows(
  x: usize, shift: usize, mean: usize, scale: usize, y: usize, yScale: usize, offset: usize, rows: i32, bytes: usize, out: usize,
  withShift: bool, withY: bool,
): void {
  const end = x + <usize>rows * bytes;
  let o = out;
  let yRow = y;
  for (let row = x; row < end; row += bytes) {
    for (let c: usize = 0; c < bytes; c += 16) {
      let xc = v128.load(row + c);
      if (withShift) xc = f32x4.sub(xc, v128.load(shift + c));
      xc = f32x4.sub(xc, v128.load(mean + c));
      let v = f32x4.add(f32x4.mul(xc, v128.load(scale + c)), v128.load(offset + c));
      if (withY) v = f32x4.add(v, f32x4.mul(v128.load(yRow + c), v128.load(yScale + c)));
      v128.store(o + c, v);
    }
    o += bytes;
    if (withY) yRow += bytes;
  }
}

/**
 * out[r, c] = (x[r, c] − shift[c] − mean[c]) · scale[c] + y[r, c] · yScale[c] + offset[c]; `shift` and `y` may be 0
 * (no shift, no y term). The element-wise part of batch norm forward (x = x, mean = mean of
 * x − shift) and backward (x = x, y = dy). Centring before scaling keeps precision when
 * |mean| ≫ std. Rows in memory order when `cols % 4 == 0`.
 */
export function affine(x: usize, shift: usize, mean: usize, scale: usize, y: usize, yScale: usize, offset: usize, rows: i32, cols: i32, out: usize): void {
  if ((cols & 3) == 0) {
    // In memory order, the per-column vectors read from L1; one loop per case.
    const bytes = <usize>cols << 2;
    if (shift) {
      if (y) affineRows(x, shift, mean, scale, y, yScale, offset, rows, bytes, out, true, true);
      else affineRows(x, shift, mean, scale, 0, 0, offset, rows, bytes, out, true, false);
    } else {
      if (y) affineRows(x, 0, mean, scale, y, yScale, offset, rows, bytes, out, false, true);
      else affineRows(x, 0, mean, scale, 0, 0, offset, rows, bytes, out, false, false);
    }
    return;
  }
  let o: usize = 0;
  for (let r: i32 = 0; r < rows; r++) {
    for (let c: i32 = 0; c < cols; c++) {
      const cc = <usize>c << 2;
      const sv: f32 = shift ? load<f32>(shift + cc) : 0;
      let v = (load<f32>(x + o) - sv - load<f32>(mean + cc)) * load<f32>(scale + cc) + load<f32>(offset + cc);
      if (y) v += load<f32>(y + o) * load<f32>(yScale + cc);
      store<f32>(out + o, v);
      o += 4;
    }
  }
}
