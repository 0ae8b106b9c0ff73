import { add, engine, mul, ones, reshape, sum, tidy, util, zeros } from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, Tensor, Tensor1D, TensorInfo } from '@tensorflow/tfjs-core';
import { BnlabError } from '../errors.js';
import { registerOp } from './register_op.js';
import { standardizeGradient } from './standardize_gradient.js';
import { ptr, Scratch, simdFor, workspace } from '../kernels/simd/simd_module.js';
import type { WasmBackendLike } from '../kernels/wasm_backend.js';
import { addInto, forRows } from '../threads/kernel_threads.js';

/**
 * Kernel name of {@link batchNormTraining}'s forward pass. Outputs y, mean, variance, and
 * the mean of x − x[0] per channel (x's first row is the shift that keeps precision; the
 * gradient centres with it as the forward pass did).
 */
export const BATCH_NORM_TRAINING_KERNEL = 'BnlabBatchNormTraining';
/** Kernel name of its gradient (outputs dx, dScale, dOffset). */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'BnlabBatchNormTrainingGrad';

/** Options of {@link batchNormTraining}. */
export interface BatchNormTrainingOptions {
  /** γ, shape `[C]`; omitted means 1 (no scale). */
  scale?: Tensor1D;
  /** β, shape `[C]`; omitted means 0 (no offset). */
  offset?: Tensor1D;
  /** ε, added to the variance inside the square root. @default 1e-3 (Keras) */
  epsilon?: number;
}

/** What {@link batchNormTraining} returns. */
export interface BatchNormTrainingResult {
  /** The normalized tensor, same shape as `x`. */
  y: Tensor;
  /** Batch mean per channel, `[C]`. */
  mean: Tensor1D;
  /** Biased batch variance per channel (divided by the count, as Keras), `[C]`. */
  variance: Tensor1D;
}

interface Stats {
  rows: number;
  cols: number;
}

function shapeStats(shape: number[]): Stats {
  const cols = shape[shape.length - 1] as number;
  return { rows: util.sizeFromShape(shape) / cols, cols };
}

// --------------------------------------------------------------------------------------
// Reference implementation in JavaScript (cpu backend, and wasm without SIMD)
// --------------------------------------------------------------------------------------

function forwardJs(x: ArrayLike<number>, s: Stats, scale: ArrayLike<number>, offset: ArrayLike<number>, eps: number) {
  const { rows, cols } = s;
  // Float64 throughout; the shift (first row) only mirrors the SIMD kernel's outputs.
  const centre = new Float64Array(cols);
  const m2 = new Float64Array(cols);
  for (let r = 0, i = 0; r < rows; r++)
    for (let c = 0; c < cols; c++, i++) centre[c] = (centre[c] as number) + (x[i] as number) - (x[c] as number);
  for (let c = 0; c < cols; c++) centre[c] = (centre[c] as number) / rows;
  const mean = new Float64Array(cols);
  for (let c = 0; c < cols; c++) mean[c] = (x[c] as number) + (centre[c] as number);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) {
      const d = (x[i] as number) - (x[c] as number) - (centre[c] as number);
      m2[c] = (m2[c] as number) + d * d;
    }
  }
  const variance = new Float32Array(cols);
  const a = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    variance[c] = (m2[c] as number) / rows;
    a[c] = (scale[c] as number) / Math.sqrt((variance[c] as number) + eps);
  }
  const y = new Float32Array(rows * cols);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) {
      y[i] = ((x[i] as number) - (x[c] as number) - (centre[c] as number)) * (a[c] as number) + (offset[c] as number);
    }
  }
  return { y, mean: Float32Array.from(mean), variance, centre: Float32Array.from(centre) };
}

/**
 * Per-channel coefficients of the gradient: dx = (x − μ)·p + dy·a + q, with
 * a = γ/σ, p = −a·Σ(dy·(x−μ))/(n σ²) + 2 dVar/n, q = −a·Σdy/n + dMean/n
 * (σ² + ε under the root; dMean, dVar are the gradients reaching the mean and variance outputs).
 */
function gradCoefficients(
  sumDy: ArrayLike<number>,
  sumDyXc: ArrayLike<number>,
  variance: ArrayLike<number>,
  scale: ArrayLike<number>,
  dMean: ArrayLike<number>,
  dVar: ArrayLike<number>,
  n: number,
  eps: number,
) {
  const cols = variance.length;
  const a = new Float32Array(cols);
  const p = new Float32Array(cols);
  const q = new Float32Array(cols);
  const dScale = new Float32Array(cols);
  const dOffset = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    const inv = 1 / Math.sqrt((variance[c] as number) + eps);
    const ac = (scale[c] as number) * inv;
    a[c] = ac;
    p[c] = (-ac * inv * inv * (sumDyXc[c] as number)) / n + (2 * (dVar[c] as number)) / n;
    q[c] = (-ac * (sumDy[c] as number)) / n + (dMean[c] as number) / n;
    dScale[c] = (sumDyXc[c] as number) * inv;
    dOffset[c] = sumDy[c] as number;
  }
  return { a, p, q, dScale, dOffset };
}

function backwardJs(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  s: Stats,
  centre: ArrayLike<number>,
  variance: ArrayLike<number>,
  scale: ArrayLike<number>,
  dMean: ArrayLike<number>,
  dVar: ArrayLike<number>,
  eps: number,
) {
  const { rows, cols } = s;
  const sumDy = new Float64Array(cols);
  const sumDyXc = new Float64Array(cols);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) {
      const g = dy[i] as number;
      sumDy[c] = (sumDy[c] as number) + g;
      sumDyXc[c] = (sumDyXc[c] as number) + g * ((x[i] as number) - (x[c] as number) - (centre[c] as number));
    }
  }
  const k = gradCoefficients(sumDy, sumDyXc, variance, scale, dMean, dVar, rows, eps);
  const dx = new Float32Array(rows * cols);
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) {
      const xc = (x[i] as number) - (x[c] as number) - (centre[c] as number);
      dx[i] = xc * (k.p[c] as number) + (dy[i] as number) * (k.a[c] as number) + (k.q[c] as number);
    }
  }
  return { dx, dScale: k.dScale, dOffset: k.dOffset };
}

// --------------------------------------------------------------------------------------
// Kernels
// --------------------------------------------------------------------------------------

interface CpuLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): TensorInfo;
}

const epsilonOf = (attrs: NamedAttrMap | undefined): number => (attrs?.['epsilon'] as number | undefined) ?? 1e-3;

const forwardCpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as unknown as CpuLike;
  const { x, scale, offset } = inputs as Record<string, TensorInfo>;
  const s = shapeStats((x as TensorInfo).shape);
  const r = forwardJs(b.readSync(x!.dataId), s, b.readSync(scale!.dataId), b.readSync(offset!.dataId), epsilonOf(attrs));
  return [
    b.makeTensorInfo(x!.shape.slice(), 'float32', r.y),
    b.makeTensorInfo([s.cols], 'float32', r.mean),
    b.makeTensorInfo([s.cols], 'float32', r.variance),
    b.makeTensorInfo([s.cols], 'float32', r.centre),
  ];
};

const gradCpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as unknown as CpuLike;
  const t = inputs as Record<string, TensorInfo>;
  const read = (name: string) => b.readSync((t[name] as TensorInfo).dataId);
  const s = shapeStats(t['x']!.shape);
  const r = backwardJs(
    read('dy'),
    read('x'),
    s,
    read('centre'),
    read('variance'),
    read('scale'),
    read('dMean'),
    read('dVariance'),
    epsilonOf(attrs),
  );
  return [
    b.makeTensorInfo(t['x']!.shape.slice(), 'float32', r.dx),
    b.makeTensorInfo([s.cols], 'float32', r.dScale),
    b.makeTensorInfo([s.cols], 'float32', r.dOffset),
  ];
};

function heap(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

const forwardWasm: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendLike;
  const { x, scale, offset } = inputs as Record<string, TensorInfo>;
  const s = shapeStats(x!.shape);
  const eps = epsilonOf(attrs);
  const y = backend.makeOutput(x!.shape.slice(), 'float32');
  const mean = backend.makeOutput([s.cols], 'float32');
  const variance = backend.makeOutput([s.cols], 'float32');
  const centre = backend.makeOutput([s.cols], 'float32');
  const simd = simdFor(backend);
  if (!simd) {
    const r = forwardJs(heap(backend, x!), s, heap(backend, scale!), heap(backend, offset!), eps);
    heap(backend, y).set(r.y);
    heap(backend, mean).set(r.mean);
    heap(backend, variance).set(r.variance);
    heap(backend, centre).set(r.centre);
    return [y, mean, variance, centre];
  }
  // Statistics of x − x[0] (x's first row as the shift, read in place): exact for values
  // near their channel's first value, so a mean far above the spread costs no precision.
  // One pass over x where that is as precise as two (see colMoments).
  const xAt = ptr(backend, x!);
  const scratch = new Scratch(backend);
  try {
    // With kernel threads, each takes a range of rows (same shift); their moments are merged.
    const parts: Array<{ n: number; centre: number; variance: number }> = [];
    forRows(backend, simd, s.rows, s.cols, (lane, r0, r1, index) => {
      if (r1 - r0 === s.rows) {
        lane.colMoments(xAt, xAt, s.rows, s.cols, ptr(backend, centre), ptr(backend, variance), workspace(backend, 8 * s.cols));
        return;
      }
      const part = { n: r1 - r0, centre: scratch.alloc(s.cols), variance: scratch.alloc(s.cols) };
      parts.push(part);
      const work = index === 0 ? workspace(backend, 8 * s.cols) : scratch.alloc(8 * s.cols);
      lane.colMoments(xAt + r0 * s.cols * 4, xAt, part.n, s.cols, part.centre, part.variance, work);
    });
    if (parts.length > 0) mergeMoments(backend, parts, s.rows, s.cols, ptr(backend, centre), ptr(backend, variance));
  } finally {
    scratch.free();
  }
  const v = heap(backend, variance);
  const g = heap(backend, scale!);
  const xs = heap(backend, x!);
  const m = heap(backend, mean);
  const ctr = heap(backend, centre);
  const a = new Float32Array(s.cols);
  for (let c = 0; c < s.cols; c++) {
    m[c] = (xs[c] as number) + (ctr[c] as number);
    a[c] = (g[c] as number) / Math.sqrt((v[c] as number) + eps);
  }
  const coefficients = new Scratch(backend);
  try {
    const ap = coefficients.put(a);
    const [cAt, oAt, yAt, row] = [ptr(backend, centre), ptr(backend, offset!), ptr(backend, y), s.cols * 4];
    forRows(backend, simd, s.rows, s.cols, (lane, r0, r1) =>
      lane.affine(xAt + r0 * row, xAt, cAt, ap, 0, 0, oAt, r1 - r0, s.cols, yAt + r0 * row),
    );
  } finally {
    coefficients.free();
  }
  return [y, mean, variance, centre];
};

const gradWasm: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendLike;
  const t = inputs as Record<string, TensorInfo>;
  const x = t['x']!;
  const s = shapeStats(x.shape);
  const eps = epsilonOf(attrs);
  const dx = backend.makeOutput(x.shape.slice(), 'float32');
  const dScale = backend.makeOutput([s.cols], 'float32');
  const dOffset = backend.makeOutput([s.cols], 'float32');
  const simd = simdFor(backend);
  const h = (name: string) => heap(backend, t[name] as TensorInfo);
  if (!simd) {
    const r = backwardJs(h('dy'), h('x'), s, h('centre'), h('variance'), h('scale'), h('dMean'), h('dVariance'), eps);
    heap(backend, dx).set(r.dx);
    heap(backend, dScale).set(r.dScale);
    heap(backend, dOffset).set(r.dOffset);
    return [dx, dScale, dOffset];
  }
  const scratch = new Scratch(backend);
  try {
    const sums = scratch.alloc(2 * s.cols + 4);
    const sumDyXcAt = sums + ((s.cols + 3) & ~3) * 4;
    const xAt = ptr(backend, x);
    const [dyAt, cAt, row] = [ptr(backend, t['dy']!), ptr(backend, t['centre']!), s.cols * 4];
    // With kernel threads, each sums a range of rows into its own sums; they are added.
    const partial: number[] = [];
    forRows(backend, simd, s.rows, 2 * s.cols, (lane, r0, r1, index) => {
      if (index === 0) {
        lane.colSum2(dyAt + r0 * row, xAt + r0 * row, xAt, cAt, r1 - r0, s.cols, sums, sumDyXcAt, workspace(backend, 8 * s.cols));
        return;
      }
      const own = scratch.alloc(2 * s.cols + 4);
      partial.push(own);
      lane.colSum2(
        dyAt + r0 * row,
        xAt + r0 * row,
        xAt,
        cAt,
        r1 - r0,
        s.cols,
        own,
        own + ((s.cols + 3) & ~3) * 4,
        scratch.alloc(8 * s.cols),
      );
    });
    addInto(backend, sums, partial, ((s.cols + 3) & ~3) + s.cols);
    const f32 = backend.wasm.HEAPF32;
    const k = gradCoefficients(
      f32.subarray(sums >> 2, (sums >> 2) + s.cols),
      f32.subarray(sumDyXcAt >> 2, (sumDyXcAt >> 2) + s.cols),
      h('variance'),
      h('scale'),
      h('dMean'),
      h('dVariance'),
      s.rows,
      eps,
    );
    heap(backend, dScale).set(k.dScale);
    heap(backend, dOffset).set(k.dOffset);
    const pAt = scratch.put(k.p);
    const aAt = scratch.put(k.a);
    const qAt = scratch.put(k.q);
    const dxAt = ptr(backend, dx);
    forRows(backend, simd, s.rows, 2 * s.cols, (lane, r0, r1) =>
      lane.affine(xAt + r0 * row, xAt, cAt, pAt, dyAt + r0 * row, aAt, qAt, r1 - r0, s.cols, dxAt + r0 * row),
    );
  } finally {
    scratch.free();
  }
  return [dx, dScale, dOffset];
};

/**
 * The three gradients from differentiable tfjs ops, recomputed from x (tfjs's tape cannot trace
 * a gradient through the fused kernel's saved outputs), for a gradient of a gradient. With
 * N rows, x̂ = (x − μ) r, r = 1/√(σ² + ε) and g = dy · γ:
 * dx = r (g − mean(g) − x̂ mean(g x̂)) + dMean / N + dVariance · 2 (x − μ) / N,
 * dScale = Σ dy x̂, dOffset = Σ dy (sums and means over the rows).
 */
function composedGradient(dy: Tensor, dMean: Tensor, dVariance: Tensor, x: Tensor, scale: Tensor, epsilon: number): Tensor[] {
  const c = x.shape[x.rank - 1] as number;
  const rows = x.size / c;
  const dy2 = reshape(dy, [rows, c]);
  const { dx: dxY, xHat, centered } = standardizeGradient(mul(dy2, scale), reshape(x, [rows, c]), [0], epsilon);
  const dxStats = add(mul(dMean, 1 / rows), mul(mul(dVariance, 2 / rows), centered));
  return [reshape(add(dxY, dxStats), x.shape), sum(mul(dy2, xHat), 0), sum(dy2, 0)];
}

/**
 * Registers {@link batchNormTraining}'s kernels for the `wasm` and `cpu` backends and its
 * gradient. Idempotent; {@link batchNormTraining} calls it itself.
 */
export function registerBatchNormTrainingKernels(): void {
  const kernels = {
    forward: BATCH_NORM_TRAINING_KERNEL,
    gradient: BATCH_NORM_TRAINING_GRAD_KERNEL,
    wasm: { forward: forwardWasm, gradient: gradWasm },
    cpu: { forward: forwardCpu, gradient: gradCpu },
  };
  registerOp(kernels, {
    kernelName: BATCH_NORM_TRAINING_KERNEL,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy, dMean, dVariance] = dys as Tensor[];
      const [x, scale, variance, centre] = saved;
      const epsilon = (attrs as NamedAttrMap)['epsilon'] as number;
      // While a tape records this gradient (a gradient of a gradient), build it from
      // differentiable tfjs ops instead of the fused kernel, which has no gradient itself.
      if (engine().state.gradientDepth > 0) {
        const [dx, dScale, dOffset] = composedGradient(
          dy as Tensor,
          dMean as Tensor,
          dVariance as Tensor,
          x as Tensor,
          scale as Tensor,
          epsilon,
        );
        return { x: () => dx as Tensor, scale: () => dScale as Tensor, offset: () => dOffset as Tensor };
      }
      // One kernel gives all three gradients; it runs once, here, and each input's
      // gradient function hands out its part.
      const [dx, dScale, dOffset] = engine().runKernel(
        BATCH_NORM_TRAINING_GRAD_KERNEL,
        {
          dy: dy as Tensor,
          x: x as Tensor,
          scale: scale as Tensor,
          variance: variance as Tensor,
          centre: centre as Tensor,
          dMean: dMean as Tensor,
          dVariance: dVariance as Tensor,
        },
        { epsilon },
      ) as Tensor[];
      return { x: () => dx as Tensor, scale: () => dScale as Tensor, offset: () => dOffset as Tensor };
    },
  });
}

/**
 * Training-mode batch normalization over every axis but the last (channels-last: NHWC
 * activations, or `[batch, units]`), as one fused kernel with a fused gradient:
 *
 *   μ = mean(x), σ² = mean((x − μ)²), y = γ (x − μ) / sqrt(σ² + ε) + β
 *
 * per channel. Returns y and the batch statistics (for the moving averages). Gradients
 * flow to `x`, `scale` and `offset` (and through `mean`/`variance` if they are used). On
 * the wasm backend it is two SIMD passes forward (statistics, then y) and two backward, in
 * place on the backend's memory, instead of the ~20 kernels of `tf.moments` + `tf.batchNorm`;
 * on the cpu backend a JavaScript implementation of the same maths. Works in `tf.grad`,
 * `optimizer.minimize` and tfjs-layers custom layers.
 *
 * Precision: the statistics are those of `x − x[0]` (each channel shifted by its value in
 * x's first row, exact for nearby values), summed in float64 across blocks, and y and the
 * gradient centre with them, so an input with a mean far above its spread (1e4 ± 1) is
 * normalized as accurately as one near zero. The variance comes from the same pass as the
 * mean (mean square of `x − x[0]` minus the squared mean) unless some channel's first value
 * lies so far out in its distribution that the difference would lose precision (or its sum
 * of squares overflows float32); then a second pass over all channels sums squared
 * deviations from the mean (a two-pass variance).
 *
 * @example
 * ```ts
 * const { y, mean, variance } = batchNormTraining(x, { scale: gamma, offset: beta, epsilon: 1e-3 });
 * ```
 */
export function batchNormTraining(x: Tensor, options: BatchNormTrainingOptions = {}): BatchNormTrainingResult {
  const epsilon = options.epsilon ?? 1e-3;
  if (x.rank < 2) {
    throw new BnlabError(
      'INVALID_SHAPE',
      `batchNormTraining: x must have rank 2 or more (batch, …, channels), got shape [${x.shape.join(', ')}]`,
      { where: 'x' },
    );
  }
  if (x.dtype !== 'float32') {
    throw new BnlabError('INVALID_ARGUMENT', `batchNormTraining: x must be float32, got ${x.dtype}`, { where: 'x' });
  }
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) {
    throw new BnlabError('INVALID_ARGUMENT', `batchNormTraining: epsilon must be a finite number > 0, got ${epsilon}`, {
      where: 'epsilon',
    });
  }
  const channels = x.shape[x.rank - 1] as number;
  for (const name of ['scale', 'offset'] as const) {
    const t = options[name];
    if (t && !(t.rank === 1 && t.shape[0] === channels)) {
      throw new BnlabError(
        'INVALID_SHAPE',
        `batchNormTraining: ${name} must have shape [${channels}] (the channels of x), got [${t.shape.join(', ')}]`,
        { where: name },
      );
    }
  }
  if (x.size === 0 || x.size / channels < 1) {
    throw new BnlabError(
      'INVALID_SHAPE',
      `batchNormTraining: x must hold at least one value per channel, got shape [${x.shape.join(', ')}]`,
      { where: 'x' },
    );
  }
  registerBatchNormTrainingKernels();
  const scale = options.scale ?? tidy(() => ones([channels]) as Tensor1D);
  const offset = options.offset ?? tidy(() => zeros([channels]) as Tensor1D);
  const [y, mean, variance, centre] = engine().runKernel(BATCH_NORM_TRAINING_KERNEL, { x, scale, offset }, { epsilon }) as Tensor[];
  // The gradient keeps its own reference (tfjs saves a copy for the backward pass).
  (centre as Tensor).dispose();
  if (!options.scale) scale.dispose();
  if (!options.offset) offset.dispose();
  return { y: y as Tensor, mean: mean as Tensor1D, variance: variance as Tensor1D };
}

/**
 * The mean of x − s and the biased variance over all `rows` from those of row ranges (the
 * kernel threads' shares), in float64: mean = Σ nᵢ meanᵢ / N, variance = Σ nᵢ (varianceᵢ +
 * (meanᵢ − mean)²) / N (Chan et al.'s pairwise update, all parts at once).
 */
function mergeMoments(
  backend: WasmBackendLike,
  parts: Array<{ n: number; centre: number; variance: number }>,
  rows: number,
  cols: number,
  centre: number,
  variance: number,
): void {
  const heap = backend.wasm.HEAPF32;
  for (let c = 0; c < cols; c++) {
    let mean = 0;
    for (const p of parts) mean += p.n * (heap[(p.centre >> 2) + c] as number);
    mean /= rows;
    let v = 0;
    for (const p of parts) {
      const d = (heap[(p.centre >> 2) + c] as number) - mean;
      v += p.n * ((heap[(p.variance >> 2) + c] as number) + d * d);
    }
    heap[(centre >> 2) + c] = mean;
    heap[(variance >> 2) + c] = v / rows;
  }
}
