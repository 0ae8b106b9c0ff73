// ---------------------------------------------------------------------------------------
// Matrix product C = op(A) · op(B) on packed panels
// ---------------------------------------------------------------------------------------

import { biasReluScalar } from './bias_relu';
import { madd, storeTransposed } from './vector';

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
export function storeTile(
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
