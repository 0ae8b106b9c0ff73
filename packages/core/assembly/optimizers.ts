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
 * tfjs's momentum step for n floats: accum' = momentum · accum + grad, then
 * weights' = negLr · accum' + weights (negLr = −learning rate), or with Nesterov
 * weights' = negLr · (grad + accum' · momentum) + weights; each product and sum rounded as
 * tfjs's separate kernels round them.
 */
export function momentumStep(
  weights: usize, accum: usize, grad: usize, n: i32, momentum: f32, negLr: f32, nesterov: bool, weightsOut: usize, accumOut: usize,
): void {
  const vm = f32x4.splat(momentum), vc = f32x4.splat(negLr);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(grad + o);
    const a1 = f32x4.add(f32x4.mul(vm, v128.load(accum + o)), gv);
    const step = nesterov ? f32x4.add(gv, f32x4.mul(a1, vm)) : a1;
    v128.store(accumOut + o, a1);
    v128.store(weightsOut + o, f32x4.add(f32x4.mul(vc, step), v128.load(weights + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gs = load<f32>(grad + o);
    const a1 = momentum * load<f32>(accum + o) + gs;
    const step = nesterov ? gs + a1 * momentum : a1;
    store<f32>(accumOut + o, a1);
    store<f32>(weightsOut + o, negLr * step + load<f32>(weights + o));
  }
}
