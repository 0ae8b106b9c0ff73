import { add, getBackend, mul, reshape, serialization, sub, tidy } from '@tensorflow/tfjs-core';
import type { Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import { batchNormTraining } from '../ops/batch_norm_training.js';
import { standardizeTrailing } from '../ops/group_norm.js';

// tfjs-layers' own `BatchNormalization` and `LayerNormalization` compose their training
// forward from ~10 elementary ops (moments, then batchNorm, whose gradient tfjs builds from
// ~20 more; layer norm first tiles its statistics and weights to the input's full size), so a
// model that keeps `tf.layers.batchNormalization()` trained the benchmark CNN at 0.45× the
// speed of the same model with @bnlab/layers', and layer norm after a convolution at 0.01×.
// On bnlab's wasm backend their `call` runs as bnlab's fused ops instead: the same maths
// (batch statistics with biased variance, gradients through them; tfjs's moving-average
// arithmetic), one kernel forward and one backward. Anything the fused ops do not cover goes
// to tfjs's own `call` unchanged.

/** The fields of a tfjs-layers `LayerVariable` this file uses. */
interface Variable {
  read(): Tensor;
  write(value: Tensor): unknown;
}

/** The fields of tfjs-layers' `BatchNormalization` (after `build`) the fused path reads. */
interface TfjsBatchNormalization {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: Variable | null;
  beta?: Variable | null;
  movingMean?: Variable | null;
  movingVariance?: Variable | null;
}

/** The fields of tfjs-layers' `LayerNormalization` (after `build`: `axis` is a list of non-negative axes). */
interface TfjsLayerNormalization {
  axis: number | number[];
  epsilon: number;
  scale: boolean;
  center: boolean;
  gamma?: Variable | null;
  beta?: Variable | null;
}

type Call = (this: unknown, inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) => Tensor | Tensor[];
type Fused<L> = (layer: L, x: Tensor, kwargs: Record<string, unknown>) => Tensor | null;

let fused = false;
const patched = new Set<string>();

/** Whether tfjs-layers' normalization layers run on bnlab's fused ops where they can (see {@link useFusedTfjsNormalization}). */
export function tfjsNormalizationFused(): boolean {
  return fused;
}

/**
 * Routes the `call` of tfjs-layers' `BatchNormalization` (training) and `LayerNormalization`
 * (training and inference) to bnlab's fused ops on the wasm backend: float32 input of rank 2
 * or more, batch norm over the last axis (channels-last), layer norm over trailing axes in
 * ascending order, epsilon > 0. Other cases, other backends (cpu stays tfjs's reference) and
 * batch norm in inference (already one `FusedBatchNorm` kernel) keep tfjs's own code.
 * Unlike tfjs's, the fused path also trains with `scale: false` or `center: false` (tfjs
 * issues 2868, 5939). Idempotent; the classes are found in tfjs's serialization registry,
 * where tfjs-layers puts them when it loads.
 */
export function useFusedTfjsNormalization(): void {
  patch<TfjsBatchNormalization>('BatchNormalization', fusedBatchNormCall);
  patch<TfjsLayerNormalization>('LayerNormalization', fusedLayerNormCall);
  fused = true;
}

/** tfjs-layers' normalization layers as tfjs wrote them (the benchmark's stock side; `initBackend({ accelerateTfjsLayers: false })`). */
export function useStockTfjsNormalization(): void {
  fused = false;
}

/** Wraps the registered class's `call` once: the fused path when it applies, else the original. */
function patch<L>(className: string, fast: Fused<L>): void {
  if (patched.has(className)) return;
  const entry = serialization.SerializationMap.getMap().classNameMap[className];
  const proto = (entry?.[0] as { prototype?: { call?: Call } } | undefined)?.prototype;
  const original = proto?.call;
  if (!proto || typeof original !== 'function') return; // tfjs-layers not loaded, or not as expected
  proto.call = function (this: unknown, inputs, kwargs) {
    const x = fused && getBackend() === 'wasm' ? singleFloatInput(inputs) : null;
    const y = x ? fast(this as L, x, kwargs ?? {}) : null;
    return y ?? original.call(this, inputs, kwargs);
  };
  patched.add(className);
}

/** The one input as tfjs's `getExactlyOneTensor` takes it, when float32, rank ≥ 2 and non-empty; else null. */
function singleFloatInput(inputs: Tensor | Tensor[]): Tensor | null {
  const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs;
  return x && x.dtype === 'float32' && x.rank >= 2 && x.size > 0 ? x : null;
}

/**
 * Batch norm in training as `batchNormTraining`, then tfjs's update of the moving statistics,
 * with its arithmetic: `moving − (moving − batch) · (1 − momentum)`, biased batch variance.
 */
const fusedBatchNormCall: Fused<TfjsBatchNormalization> = (layer, x, kwargs) => {
  if (!kwargs['training']) return null;
  const axis = layer.axis >= 0 ? layer.axis : layer.axis + x.rank;
  const { movingMean, movingVariance, epsilon, momentum } = layer;
  if (axis !== x.rank - 1 || !movingMean || !movingVariance || !(epsilon > 0) || !Number.isFinite(epsilon)) return null;
  return tidy(() => {
    const { y, mean, variance } = batchNormTraining(x, {
      scale: layer.gamma?.read() as Tensor1D | undefined,
      offset: layer.beta?.read() as Tensor1D | undefined,
      epsilon,
    });
    movingAverage(movingMean, mean, momentum);
    movingAverage(movingVariance, variance, momentum);
    return y;
  });
};

function movingAverage(variable: Variable, value: Tensor, momentum: number): void {
  tidy(() => {
    const current = variable.read();
    variable.write(sub(current, mul(sub(current, value), 1 - momentum)));
  });
}

/**
 * Layer norm over trailing axes as `standardizeTrailing` (one fused group norm), then
 * the scale and offset (shaped as the normalized axes) broadcast over the rows.
 */
const fusedLayerNormCall: Fused<TfjsLayerNormalization> = (layer, x) => {
  const axes = layer.axis;
  const { epsilon } = layer;
  if (!Array.isArray(axes) || axes.length === 0 || !(epsilon > 0) || !Number.isFinite(epsilon)) return null;
  const first = x.rank - axes.length;
  if (first < 1 || !axes.every((a, i) => a === first + i)) return null;
  return tidy(() => {
    const features = x.shape.slice(first);
    let y = standardizeTrailing(x, first, epsilon);
    if (layer.scale && layer.gamma) y = mul(y, reshape(layer.gamma.read(), features));
    if (layer.center && layer.beta) y = add(y, reshape(layer.beta.read(), features));
    return y;
  });
};
