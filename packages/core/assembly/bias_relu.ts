/** v + bias[col] (when bias ≠ 0), then ReLU when relu, NaN kept (as tfjs's ReLU). */
// @ts-ignore: decorator
@inline
export function biasReluScalar(v: f32, bias: usize, col: i32, relu: bool): f32 {
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
