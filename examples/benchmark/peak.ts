// The peak rate of WebAssembly SIMD floating-point work on one thread (bnlab issue 21), in
// AssemblyScript, compiled by peak.mjs twice, as bnlab's kernels are (packages/core/assembly): with
// relaxed SIMD, `madd` is one fused multiply-add (f32x4.relaxed_madd); without, a multiply and
// an add. Every function keeps its accumulators in registers (no memory traffic) and updates
// each once per iteration; the chains are independent, so with enough of them the rate is
// bounded by the CPU's SIMD issue rate rather than by latency (peak.mjs takes the best):
// - maddN: N chains of a·b + c (8 flops each per iteration);
// - mixedN: N/2 chains of a·b and N/2 of a + d (4 flops each per iteration), the plain build's
//   limit when multiplies and adds go to different pipes and a·b + c would wait on the multiply.
// b and c come in as arguments, so the compiler cannot fold them; b = −1 keeps products
// bounded (no overflow, no subnormals), b < 1 and c > 0 keep a·b + c near c / (1 − b).

// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** 8 chains of a·b + c, `iters` times. */
export function madd8(iters: i32, bs: f32, cs: f32): f32 {
  let a0 = f32x4.splat(<f32>1);
  let a1 = f32x4.splat(<f32>2);
  let a2 = f32x4.splat(<f32>3);
  let a3 = f32x4.splat(<f32>4);
  let a4 = f32x4.splat(<f32>5);
  let a5 = f32x4.splat(<f32>6);
  let a6 = f32x4.splat(<f32>7);
  let a7 = f32x4.splat(<f32>8);
  const b = f32x4.splat(bs);
  const c = f32x4.splat(cs);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, b, c);
    a1 = madd(a1, b, c);
    a2 = madd(a2, b, c);
    a3 = madd(a3, b, c);
    a4 = madd(a4, b, c);
    a5 = madd(a5, b, c);
    a6 = madd(a6, b, c);
    a7 = madd(a7, b, c);
  }
  let s = a0;
  s = f32x4.add(s, a1);
  s = f32x4.add(s, a2);
  s = f32x4.add(s, a3);
  s = f32x4.add(s, a4);
  s = f32x4.add(s, a5);
  s = f32x4.add(s, a6);
  s = f32x4.add(s, a7);
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}

/** 10 chains of a·b + c, `iters` times. */
export function madd10(iters: i32, bs: f32, cs: f32): f32 {
  let a0 = f32x4.splat(<f32>1);
  let a1 = f32x4.splat(<f32>2);
  let a2 = f32x4.splat(<f32>3);
  let a3 = f32x4.splat(<f32>4);
  let a4 = f32x4.splat(<f32>5);
  let a5 = f32x4.splat(<f32>6);
  let a6 = f32x4.splat(<f32>7);
  let a7 = f32x4.splat(<f32>8);
  let a8 = f32x4.splat(<f32>9);
  let a9 = f32x4.splat(<f32>10);
  const b = f32x4.splat(bs);
  const c = f32x4.splat(cs);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, b, c);
    a1 = madd(a1, b, c);
    a2 = madd(a2, b, c);
    a3 = madd(a3, b, c);
    a4 = madd(a4, b, c);
    a5 = madd(a5, b, c);
    a6 = madd(a6, b, c);
    a7 = madd(a7, b, c);
    a8 = madd(a8, b, c);
    a9 = madd(a9, b, c);
  }
  let s = a0;
  s = f32x4.add(s, a1);
  s = f32x4.add(s, a2);
  s = f32x4.add(s, a3);
  s = f32x4.add(s, a4);
  s = f32x4.add(s, a5);
  s = f32x4.add(s, a6);
  s = f32x4.add(s, a7);
  s = f32x4.add(s, a8);
  s = f32x4.add(s, a9);
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}

/** 12 chains of a·b + c, `iters` times. */
export function madd12(iters: i32, bs: f32, cs: f32): f32 {
  let a0 = f32x4.splat(<f32>1);
  let a1 = f32x4.splat(<f32>2);
  let a2 = f32x4.splat(<f32>3);
  let a3 = f32x4.splat(<f32>4);
  let a4 = f32x4.splat(<f32>5);
  let a5 = f32x4.splat(<f32>6);
  let a6 = f32x4.splat(<f32>7);
  let a7 = f32x4.splat(<f32>8);
  let a8 = f32x4.splat(<f32>9);
  let a9 = f32x4.splat(<f32>10);
  let a10 = f32x4.splat(<f32>11);
  let a11 = f32x4.splat(<f32>12);
  const b = f32x4.splat(bs);
  const c = f32x4.splat(cs);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, b, c);
    a1 = madd(a1, b, c);
    a2 = madd(a2, b, c);
    a3 = madd(a3, b, c);
    a4 = madd(a4, b, c);
    a5 = madd(a5, b, c);
    a6 = madd(a6, b, c);
    a7 = madd(a7, b, c);
    a8 = madd(a8, b, c);
    a9 = madd(a9, b, c);
    a10 = madd(a10, b, c);
    a11 = madd(a11, b, c);
  }
  let s = a0;
  s = f32x4.add(s, a1);
  s = f32x4.add(s, a2);
  s = f32x4.add(s, a3);
  s = f32x4.add(s, a4);
  s = f32x4.add(s, a5);
  s = f32x4.add(s, a6);
  s = f32x4.add(s, a7);
  s = f32x4.add(s, a8);
  s = f32x4.add(s, a9);
  s = f32x4.add(s, a10);
  s = f32x4.add(s, a11);
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}

/** 4 chains of a·b and 4 of a + c, `iters` times. */
export function mixed8(iters: i32, bs: f32, cs: f32): f32 {
  let a0 = f32x4.splat(<f32>1);
  let a1 = f32x4.splat(<f32>2);
  let a2 = f32x4.splat(<f32>3);
  let a3 = f32x4.splat(<f32>4);
  let a4 = f32x4.splat(<f32>5);
  let a5 = f32x4.splat(<f32>6);
  let a6 = f32x4.splat(<f32>7);
  let a7 = f32x4.splat(<f32>8);
  const b = f32x4.splat(bs);
  const c = f32x4.splat(cs);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.mul(a0, b);
    a1 = f32x4.add(a1, c);
    a2 = f32x4.mul(a2, b);
    a3 = f32x4.add(a3, c);
    a4 = f32x4.mul(a4, b);
    a5 = f32x4.add(a5, c);
    a6 = f32x4.mul(a6, b);
    a7 = f32x4.add(a7, c);
  }
  let s = a0;
  s = f32x4.add(s, a1);
  s = f32x4.add(s, a2);
  s = f32x4.add(s, a3);
  s = f32x4.add(s, a4);
  s = f32x4.add(s, a5);
  s = f32x4.add(s, a6);
  s = f32x4.add(s, a7);
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}

/** 6 chains of a·b and 6 of a + c, `iters` times. */
export function mixed12(iters: i32, bs: f32, cs: f32): f32 {
  let a0 = f32x4.splat(<f32>1);
  let a1 = f32x4.splat(<f32>2);
  let a2 = f32x4.splat(<f32>3);
  let a3 = f32x4.splat(<f32>4);
  let a4 = f32x4.splat(<f32>5);
  let a5 = f32x4.splat(<f32>6);
  let a6 = f32x4.splat(<f32>7);
  let a7 = f32x4.splat(<f32>8);
  let a8 = f32x4.splat(<f32>9);
  let a9 = f32x4.splat(<f32>10);
  let a10 = f32x4.splat(<f32>11);
  let a11 = f32x4.splat(<f32>12);
  const b = f32x4.splat(bs);
  const c = f32x4.splat(cs);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.mul(a0, b);
    a1 = f32x4.add(a1, c);
    a2 = f32x4.mul(a2, b);
    a3 = f32x4.add(a3, c);
    a4 = f32x4.mul(a4, b);
    a5 = f32x4.add(a5, c);
    a6 = f32x4.mul(a6, b);
    a7 = f32x4.add(a7, c);
    a8 = f32x4.mul(a8, b);
    a9 = f32x4.add(a9, c);
    a10 = f32x4.mul(a10, b);
    a11 = f32x4.add(a11, c);
  }
  let s = a0;
  s = f32x4.add(s, a1);
  s = f32x4.add(s, a2);
  s = f32x4.add(s, a3);
  s = f32x4.add(s, a4);
  s = f32x4.add(s, a5);
  s = f32x4.add(s, a6);
  s = f32x4.add(s, a7);
  s = f32x4.add(s, a8);
  s = f32x4.add(s, a9);
  s = f32x4.add(s, a10);
  s = f32x4.add(s, a11);
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 3);
}
