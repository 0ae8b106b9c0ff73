// Small helpers shared by several kernel families (all inlined where they are used).

/**
 * Rows summed in float32 before the sums are added into float64 accumulators (column sums,
 * group norm): short enough that float32 rounding stays far below the float64 result's.
 */
export const BLOCK: i32 = 256;

/**
 * a·b + c per lane. Built twice (scripts/build-simd.mjs): with relaxed SIMD this is one
 * fused multiply-add where the CPU has one (a single rounding; engines may also compute
 * it unfused, so results can differ by rounding between machines), otherwise a
 * multiply and an add.
 */
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * Stores the 4×4 transpose of rows v0..v3, its rows `stride` bytes apart:
 * o[j·stride + 4i] = v_i[j] (stride 16: 16 contiguous floats).
 */
// @ts-ignore: decorator
@inline
export function storeTransposed(o: usize, stride: usize, v0: v128, v1: v128, v2: v128, v3: v128): void {
  const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(o + stride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(o + 2 * stride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(o + 3 * stride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}
