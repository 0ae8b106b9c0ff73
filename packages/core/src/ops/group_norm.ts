import { engine, getKernel, reshape } from '@tensorflow/tfjs-core';
import { standardizeGradient } from './standardize_gradient.js';
import type { KernelFunc, NamedAttrMap, Tensor, Tensor3D, TensorInfo } from '@tensorflow/tfjs-core';
import { BnlabError } from '../errors.js';
import { registerOp } from './register_op.js';
import { ptr, Scratch, simdFor, workspace } from '../kernels/simd/simd_module.js';
import type { WasmBackendLike } from '../kernels/wasm_backend.js';
import { forRows } from '../threads/kernel_threads.js';

/** Kernel name of {@link groupNorm}'s forward pass (outputs y and r = 1/√(σ² + ε) per sample and group). */
export const GROUP_NORM_KERNEL = 'BnlabGroupNorm';
/** Kernel name of its gradient (output dx). */
export const GROUP_NORM_GRAD_KERNEL = 'BnlabGroupNormGrad';

interface Dims {
  n: number;
  p: number;
  c: number;
  groups: number;
}

function dimsOf(shape: number[], attrs: NamedAttrMap | undefined): Dims {
  return { n: shape[0]!, p: shape[1]!, c: shape[2]!, groups: (attrs?.['groups'] as number | undefined) ?? 1 };
}

// --------------------------------------------------------------------------------------
// Reference implementation in JavaScript (cpu backend, and wasm without SIMD), float64
// --------------------------------------------------------------------------------------

function forwardJs(x: ArrayLike<number>, d: Dims, eps: number): { y: Float32Array; r: Float32Array } {
  const { n, p, c, groups } = d;
  const k = c / groups;
  const count = p * k;
  const y = new Float32Array(n * p * c);
  const r = new Float32Array(n * groups);
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < groups; g++) {
      const at = (row: number, j: number) => (i * p + row) * c + g * k + j;
      const shift = x[at(0, 0)]!;
      let sum = 0;
      for (let row = 0; row < p; row++) for (let j = 0; j < k; j++) sum += x[at(row, j)]! - shift;
      const mean = sum / count;
      let sq = 0;
      for (let row = 0; row < p; row++) for (let j = 0; j < k; j++) sq += (x[at(row, j)]! - shift - mean) ** 2;
      const inv = 1 / Math.sqrt(sq / count + eps);
      r[i * groups + g] = inv;
      for (let row = 0; row < p; row++) for (let j = 0; j < k; j++) y[at(row, j)] = (x[at(row, j)]! - shift - mean) * inv;
    }
  }
  return { y, r };
}

function backwardJs(dy: ArrayLike<number>, yh: ArrayLike<number>, r: ArrayLike<number>, d: Dims): Float32Array {
  const { n, p, c, groups } = d;
  const k = c / groups;
  const count = p * k;
  const dx = new Float32Array(n * p * c);
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < groups; g++) {
      const at = (row: number, j: number) => (i * p + row) * c + g * k + j;
      let s1 = 0;
      let s2 = 0;
      for (let row = 0; row < p; row++) {
        for (let j = 0; j < k; j++) {
          s1 += dy[at(row, j)]!;
          s2 += dy[at(row, j)]! * yh[at(row, j)]!;
        }
      }
      const inv = r[i * groups + g]!;
      for (let row = 0; row < p; row++) {
        for (let j = 0; j < k; j++) dx[at(row, j)] = (dy[at(row, j)]! - s1 / count - yh[at(row, j)]! * (s2 / count)) * inv;
      }
    }
  }
  return dx;
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
  const { x } = inputs as { x: TensorInfo };
  const d = dimsOf(x.shape, attrs);
  const { y, r } = forwardJs(b.readSync(x.dataId), d, epsilonOf(attrs));
  return [b.makeTensorInfo(x.shape.slice(), 'float32', y), b.makeTensorInfo([d.n, d.groups], 'float32', r)];
};

const gradCpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as unknown as CpuLike;
  const { dy, y, r } = inputs as Record<string, TensorInfo>;
  const d = dimsOf(y!.shape, attrs);
  return b.makeTensorInfo(y!.shape.slice(), 'float32', backwardJs(b.readSync(dy!.dataId), b.readSync(y!.dataId), b.readSync(r!.dataId), d));
};

const heap = (backend: WasmBackendLike, t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;

const forwardWasm: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendLike;
  const { x } = inputs as { x: TensorInfo };
  const d = dimsOf(x.shape, attrs);
  const y = backend.makeOutput(x.shape.slice(), 'float32');
  const r = backend.makeOutput([d.n, d.groups], 'float32');
  const simd = simdFor(backend);
  if (!simd) {
    const out = forwardJs(heap(backend, x), d, epsilonOf(attrs));
    heap(backend, y).set(out.y);
    heap(backend, r).set(out.r);
    return [y, r];
  }
  // Samples split over the kernel threads, each with its own workspace.
  const scratch = new Scratch(backend);
  try {
    const [xAt, yAt, rAt, sample] = [ptr(backend, x), ptr(backend, y), ptr(backend, r), d.p * d.c * 4];
    forRows(backend, simd, d.n, d.p * d.c, (lane, n0, n1, index) => {
      const work = index === 0 ? workspace(backend, 5 * d.c) : scratch.alloc(5 * d.c);
      lane.groupNorm(xAt + n0 * sample, n1 - n0, d.p, d.c, d.groups, epsilonOf(attrs), yAt + n0 * sample, rAt + n0 * d.groups * 4, work);
    });
  } finally {
    scratch.free();
  }
  return [y, r];
};

const gradWasm: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackendLike;
  const { dy, y, r } = inputs as Record<string, TensorInfo>;
  const d = dimsOf(y!.shape, attrs);
  const dx = backend.makeOutput(y!.shape.slice(), 'float32');
  const simd = simdFor(backend);
  if (!simd) {
    heap(backend, dx).set(backwardJs(heap(backend, dy!), heap(backend, y!), heap(backend, r!), d));
    return dx;
  }
  const scratch = new Scratch(backend);
  try {
    const [dyAt, yAt, rAt, dxAt, sample] = [ptr(backend, dy!), ptr(backend, y!), ptr(backend, r!), ptr(backend, dx), d.p * d.c * 4];
    forRows(backend, simd, d.n, d.p * d.c, (lane, n0, n1, index) => {
      const work = index === 0 ? workspace(backend, 7 * d.c) : scratch.alloc(7 * d.c);
      lane.groupNormGrad(
        dyAt + n0 * sample,
        yAt + n0 * sample,
        rAt + n0 * d.groups * 4,
        n1 - n0,
        d.p,
        d.c,
        d.groups,
        dxAt + n0 * sample,
        work,
      );
    });
  } finally {
    scratch.free();
  }
  return dx;
};

/**
 * The gradient from tfjs ops on the `[n, p, groups, k]` view, recomputed from the input so it
 * is differentiable again ({@link standardizeGradient} over axes 1 and 3).
 */
function composedGradient(dy: Tensor, x: Tensor, groups: number, epsilon: number): Tensor {
  const [n, p, c] = x.shape as [number, number, number];
  const view = [n, p, groups, c / groups];
  const { dx } = standardizeGradient(reshape(dy, view), reshape(x, view), [1, 3], epsilon);
  return reshape(dx, [n, p, c]);
}

/**
 * Registers {@link groupNorm}'s kernels for the `wasm` and `cpu` backends and its gradient.
 * Idempotent; {@link groupNorm} calls it itself.
 */
export function registerGroupNormKernels(): void {
  const kernels = {
    forward: GROUP_NORM_KERNEL,
    gradient: GROUP_NORM_GRAD_KERNEL,
    wasm: { forward: forwardWasm, gradient: gradWasm },
    cpu: { forward: forwardCpu, gradient: gradCpu },
  };
  registerOp(kernels, {
    kernelName: GROUP_NORM_KERNEL,
    inputsToSave: ['x'],
    outputsToSave: [true, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy] = (Array.isArray(dys) ? dys : [dys]) as Tensor[];
      const [x, y, r] = saved as Tensor[];
      const groups = (attrs as NamedAttrMap)['groups'] as number;
      // While a tape records this gradient (a gradient of a gradient), build it from
      // differentiable tfjs ops instead of the fused kernel, which has no gradient itself.
      if (engine().state.gradientDepth > 0) return { x: () => composedGradient(dy!, x!, groups, epsilonOf(attrs as NamedAttrMap)) };
      return { x: () => engine().runKernel(GROUP_NORM_GRAD_KERNEL, { dy: dy!, y: y!, r: r! }, { groups }) as Tensor };
    },
  });
}

/** Whether {@link groupNorm} has kernels on the active backend (wasm and cpu). */
export function groupNormAvailable(): boolean {
  registerGroupNormKernels();
  return getKernel(GROUP_NORM_KERNEL, engine().backendName) !== undefined;
}

/**
 * Group standardization of `x = [n, p, c]` (n samples, p positions, c channels in `groups`
 * groups of consecutive channels) as one fused kernel with a fused gradient: for each sample
 * and group, `(x − μ) / √(σ² + ε)` over the group's p·c/groups values (σ² biased), with no
 * scale or offset. Layer normalization over the last axis is `[rows, 1, features]` with one
 * group, layer normalization over all of a sample `[n, 1, size]`, instance normalization
 * `groups = c`. The gradient is the closed form `r · (dy − mean(dy) − ŷ · mean(dy · ŷ))`.
 * Each group is shifted by its first value before its statistics are taken, so a large
 * common offset costs no precision. On wasm: three SIMD passes forward, two backward; on cpu
 * the same maths in JavaScript.
 */
export function groupNorm(x: Tensor3D, groups: number, epsilon = 1e-3): Tensor3D {
  if (x.rank !== 3)
    throw new BnlabError(
      'INVALID_SHAPE',
      `groupNorm: x must have rank 3 ([samples, positions, channels]), got shape [${x.shape.join(', ')}]`,
      { where: 'x' },
    );
  if (x.dtype !== 'float32') throw new BnlabError('INVALID_ARGUMENT', `groupNorm: x must be float32, got ${x.dtype}`, { where: 'x' });
  const c = x.shape[2];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new BnlabError('INVALID_ARGUMENT', `groupNorm: groups must be a positive divisor of the ${c} channels, got ${groups}`, {
      where: 'groups',
    });
  }
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) {
    throw new BnlabError('INVALID_ARGUMENT', `groupNorm: epsilon must be a finite number > 0, got ${epsilon}`, { where: 'epsilon' });
  }
  if (x.size === 0)
    throw new BnlabError('INVALID_SHAPE', `groupNorm: x must not be empty, got shape [${x.shape.join(', ')}]`, { where: 'x' });
  registerGroupNormKernels();
  const [y, r] = engine().runKernel(GROUP_NORM_KERNEL, { x }, { groups, epsilon }) as Tensor[];
  r!.dispose();
  return y as Tensor3D;
}

/**
 * `x` standardized over its axes from `first` (≥ 1) to the last, each slice `x[i₀, …, i_first−1]`
 * on its own (layer normalization over trailing axes, no scale or offset): {@link groupNorm}
 * with one group on the `[rows, 1, features]` view of `x`, its fused gradient included.
 *
 * @example
 * ```ts
 * const y = standardizeTrailing(x, x.rank - 1); // each row over the last axis
 * ```
 */
export function standardizeTrailing(x: Tensor, first: number, epsilon = 1e-3): Tensor {
  if (!Number.isInteger(first) || first < 1 || first >= x.rank) {
    throw new BnlabError('INVALID_ARGUMENT', `standardizeTrailing: first must be an axis from 1 to ${x.rank - 1}, got ${first}`, {
      where: 'first',
    });
  }
  const inner = x.shape.slice(first).reduce((a, b) => a * b, 1);
  return reshape(groupNorm(reshape(x, [x.size / inner, 1, inner]) as Tensor3D, 1, epsilon), x.shape);
}
