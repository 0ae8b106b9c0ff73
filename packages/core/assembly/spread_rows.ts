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
