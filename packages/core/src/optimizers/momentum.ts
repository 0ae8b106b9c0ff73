import { engine, MomentumOptimizer, tidy, util, variable, zerosLike } from '@tensorflow/tfjs-core';
import type { Tensor, TensorInfo, Variable } from '@tensorflow/tfjs-core';
import { ptr } from '../kernels/simd/simd_module.js';
import { fusedUpdate } from './fused_update.js';
import type { Gradients } from './fused_update.js';
import type { SimdExports } from '../kernels/simd/simd_module.js';
import type { WasmBackendLike } from '../kernels/wasm_backend.js';

interface Slot {
  originalName: string;
  variable: Variable;
}

/** The protected state of tfjs-core's MomentumOptimizer this class reads (same object). */
interface MomentumState {
  learningRate: number;
  momentum: number;
  useNesterov: boolean;
  accumulations: Slot[];
}

/**
 * SGD with momentum as tfjs-core's `MomentumOptimizer` (same state, weights, config and class
 * name, so saved optimizers load as the stock one), with each float32 variable's update fused
 * into one SIMD pass on the wasm backend: tfjs's step is four kernels and two assignments per
 * variable, each with its own engine bookkeeping (ResNet-20 has 65 variables). The float32
 * operations and their order are tfjs's (a' = m·a + g, w' = −lr·a' + w, or Nesterov's), so
 * the values are tfjs's to the last bit. On other backends, without SIMD, or when a variable
 * is not float32, it is tfjs's own step.
 */
export class FusedMomentumOptimizer extends MomentumOptimizer {
  constructor(learningRate: number, momentum: number, useNesterov = false) {
    super(learningRate, momentum, useNesterov);
  }

  override applyGradients(variableGradients: Gradients): void {
    const fused = fusedUpdate(variableGradients);
    if (!fused) {
      super.applyGradients(variableGradients);
      return;
    }
    const { simd, backend, entries } = fused;
    const s = this as unknown as MomentumState;
    entries.forEach(([name, gradient], i) => {
      const value = engine().registeredVariables[name]!;
      if (s.accumulations[i] == null) {
        s.accumulations[i] = { originalName: `${name}/momentum`, variable: tidy(() => variable(zerosLike(value), false)) };
      }
      if (gradient == null) return;
      const accumulation = s.accumulations[i]!.variable;
      const [w1, a1] = this.step(simd, backend, value, accumulation, gradient);
      accumulation.assign(a1!);
      value.assign(w1!);
      w1!.dispose();
      a1!.dispose();
    });
    this.incrementIterations();
  }

  /** One fused update: new tensors for the variable and its accumulation. */
  private step(simd: SimdExports, backend: WasmBackendLike, w: Tensor, a: Tensor, g: Tensor): Tensor[] {
    const s = this as unknown as MomentumState;
    const shape = w.shape;
    const outs: TensorInfo[] = [backend.makeOutput(shape.slice(), 'float32'), backend.makeOutput(shape.slice(), 'float32')];
    simd.momentumStep(
      ptr(backend, w),
      ptr(backend, a),
      ptr(backend, g),
      util.sizeFromShape(shape),
      Math.fround(s.momentum),
      Math.fround(-s.learningRate),
      s.useNesterov,
      ptr(backend, outs[0]!),
      ptr(backend, outs[1]!),
    );
    return outs.map((o) => engine().makeTensorFromTensorInfo(o));
  }
}

/**
 * SGD with momentum (`tf.train.momentum`'s arguments and defaults) with the fused wasm update
 * of {@link FusedMomentumOptimizer}.
 */
export function momentum(learningRate: number, momentumValue: number, useNesterov = false): FusedMomentumOptimizer {
  return new FusedMomentumOptimizer(learningRate, momentumValue, useNesterov);
}
