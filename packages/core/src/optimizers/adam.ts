import { AdamOptimizer, engine, mul, tidy, util, variable, zerosLike } from '@tensorflow/tfjs-core';
import type { Tensor, TensorInfo, Variable } from '@tensorflow/tfjs-core';
import { ptr } from '../kernels/simd/simd_module.js';
import { fusedUpdate } from './fused_update.js';
import type { Gradients } from './fused_update.js';
import type { SimdExports } from '../kernels/simd/simd_module.js';
import type { WasmBackendLike } from '../kernels/wasm_backend.js';

type Weights = Parameters<AdamOptimizer['setWeights']>[0];

interface Slot {
  originalName: string;
  variable: Variable;
}

/** The protected state of tfjs-core's AdamOptimizer this class reads (same object). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  accBeta1: Variable;
  accBeta2: Variable;
  iterations_: number;
}

/**
 * Adam as tfjs-core's `AdamOptimizer` (same state, weights, config and class name, so saved
 * optimizers load as the stock one), with each float32 variable's update fused into one SIMD
 * pass on the wasm backend: tfjs's step is about a dozen kernels per variable (each with its
 * own engine bookkeeping), here it is one kernel call and three buffer swaps. The float32
 * operations and their order are tfjs's, so the values match it (to the last bit on the
 * benchmark's test). On other backends, without SIMD, or when a variable is not float32, it is
 * tfjs's own step.
 */
export class FusedAdamOptimizer extends AdamOptimizer {
  /** β1^t and β2^t as tfjs's float32 accumulators hold them, tracked in JavaScript. */
  private acc1: number;
  private acc2: number;

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super(learningRate, beta1, beta2, epsilon as number);
    this.acc1 = Math.fround(beta1);
    this.acc2 = Math.fround(beta2);
  }

  override applyGradients(variableGradients: Gradients): void {
    const fused = fusedUpdate(variableGradients);
    if (!fused) {
      super.applyGradients(variableGradients);
      this.advance();
      return;
    }
    const { simd, backend, entries } = fused;
    const s = this as unknown as AdamState;
    const f = Math.fround;
    const c1 = f(1 - this.acc1);
    const c2 = f(1 - this.acc2);
    entries.forEach(([name, gradient], i) => {
      const value = engine().registeredVariables[name]!;
      if (s.accumulatedFirstMoment[i] == null) {
        s.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable: tidy(() => variable(zerosLike(value), false)) };
      }
      if (s.accumulatedSecondMoment[i] == null) {
        s.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable: tidy(() => variable(zerosLike(value), false)) };
      }
      if (gradient == null) return;
      const m = s.accumulatedFirstMoment[i]!.variable;
      const v = s.accumulatedSecondMoment[i]!.variable;
      const [w1, m1, v1] = this.step(simd, backend, value, m, v, gradient, c1, c2);
      m.assign(m1);
      v.assign(v1);
      value.assign(w1);
      for (const t of [w1, m1, v1]) t!.dispose();
    });
    tidy(() => {
      s.accBeta1.assign(mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(mul(s.accBeta2, s.beta2));
    });
    this.advance();
    this.incrementIterations();
  }

  /** One fused update: new tensors for w, m and v. */
  private step(simd: SimdExports, backend: WasmBackendLike, w: Tensor, m: Tensor, v: Tensor, g: Tensor, c1: number, c2: number): Tensor[] {
    const s = this as unknown as AdamState;
    const shape = w.shape;
    const outs: TensorInfo[] = [
      backend.makeOutput(shape.slice(), 'float32'),
      backend.makeOutput(shape.slice(), 'float32'),
      backend.makeOutput(shape.slice(), 'float32'),
    ];
    const f = Math.fround;
    simd.adamStep(
      ptr(backend, w),
      ptr(backend, m),
      ptr(backend, v),
      ptr(backend, g),
      util.sizeFromShape(shape),
      f(s.learningRate),
      f(s.beta1),
      f(1 - s.beta1),
      f(s.beta2),
      f(1 - s.beta2),
      f(s.epsilon),
      c1,
      c2,
      ptr(backend, outs[0]!),
      ptr(backend, outs[1]!),
      ptr(backend, outs[2]!),
    );
    return outs.map((o) => engine().makeTensorFromTensorInfo(o));
  }

  /** β^t for the next step, as tfjs's float32 `accBeta · β`. */
  private advance(): void {
    const s = this as unknown as AdamState;
    this.acc1 = Math.fround(this.acc1 * Math.fround(s.beta1));
    this.acc2 = Math.fround(this.acc2 * Math.fround(s.beta2));
  }

  override async setWeights(weightValues: Weights): Promise<void> {
    await super.setWeights(weightValues);
    // tfjs resets its accumulators to β^(iterations + 1); read them back.
    const s = this as unknown as AdamState;
    this.acc1 = (await s.accBeta1.data())[0]!;
    this.acc2 = (await s.accBeta2.data())[0]!;
  }
}

/**
 * Adam (`tf.train.adam`'s arguments and defaults) with the fused wasm update of
 * {@link FusedAdamOptimizer}.
 */
export function adam(learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
