// ---------------------------------------------------------------------------------------
// Group standardization (layer, group and instance normalization), channels last
// ---------------------------------------------------------------------------------------

import { BLOCK } from './vector';

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
