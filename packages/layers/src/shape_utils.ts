import type { Tensor } from '@tensorflow/tfjs-core';
import type { Shape } from '@tensorflow/tfjs-layers';
import { BnlabError } from '@bnlab/core';

/** The single input shape a normalization layer accepts. */
export function singleShape(inputShape: Shape | Shape[], context: string): Shape {
  if (inputShape.length > 0 && Array.isArray(inputShape[0])) {
    const shapes = inputShape as Shape[];
    if (shapes.length !== 1) {
      throw new BnlabError('INVALID_SHAPE', `${context} takes one input, got ${shapes.length}`);
    }
    return shapes[0]!;
  }
  return inputShape as Shape;
}

/** The single input tensor a normalization layer accepts. */
export function singleTensor(inputs: Tensor | Tensor[], context: string): Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1) throw new BnlabError('INVALID_SHAPE', `${context} takes one input, got ${inputs.length}`);
    return inputs[0]!;
  }
  return inputs;
}

/**
 * A possibly negative `axis` as an index into a shape of `rank`, checked to exist and not to be
 * the batch axis 0.
 */
export function resolveAxis(axis: number, rank: number, context: string, field = 'axis'): number {
  if (axis < -rank || axis >= rank) {
    throw new BnlabError(
      'INVALID_CONFIG',
      `${context}: \`${field}\` (${axis}) must be in [${-rank}, ${rank - 1}] for an input of rank ${rank}`,
      { where: field },
    );
  }
  const resolved = axis < 0 ? axis + rank : axis;
  if (resolved === 0) {
    throw new BnlabError('INVALID_CONFIG', `${context}: \`${field}\` (${axis}) must not be the batch axis 0 of an input of rank ${rank}`, {
      where: field,
    });
  }
  return resolved;
}

/** The size of a dimension, which must be known when the layer builds its weights. */
export function knownDim(shape: Shape, axis: number, context: string): number {
  const dim = shape[axis];
  if (dim == null) {
    throw new BnlabError(
      'INVALID_SHAPE',
      `${context}: axis ${axis} of the input must have a known size, got shape ${JSON.stringify(shape)}`,
    );
  }
  return dim;
}

/** `[1, …, 1]` of length `rank` with `shape[a]` at each of `axes`: a per-feature broadcast shape. */
export function broadcastShape(rank: number, axes: readonly number[], shape: readonly (number | null)[]): number[] {
  const out: number[] = new Array<number>(rank).fill(1);
  for (const a of axes) out[a] = shape[a] as number;
  return out;
}

/** Every axis of a rank-`rank` tensor but `axis`: the axes per-feature statistics reduce over. */
export function axesExcept(rank: number, axis: number): number[] {
  const axes: number[] = [];
  for (let a = 0; a < rank; a++) if (a !== axis) axes.push(a);
  return axes;
}

const nameCounters = new Map<string, number>();

/**
 * A unique default layer name, `group_normalization_1`, `group_normalization_2`, ….
 * tfjs would derive it from `className`, but bnlab's class names carry the `bnlab>` prefix,
 * which is not allowed in a tensor name.
 */
export function defaultLayerName(prefix: string): string {
  const n = (nameCounters.get(prefix) ?? 0) + 1;
  nameCounters.set(prefix, n);
  return `${prefix}_${n}`;
}
