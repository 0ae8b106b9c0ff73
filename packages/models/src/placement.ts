import type { NormalizationSpec } from '@bnlab/core';
import { NORMALIZATION_DEFAULTS } from '@bnlab/layers';

function resolveAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * Whether `norm` is defined on the output of a block of rank `rank` (batch axis included).
 * Instance normalization normalizes each sample's channel over its spatial axes, so it needs
 * some (rank ≥ 3): on a dense block's output it would map every value to `beta`.
 */
export function normApplies(norm: NormalizationSpec, rank: number): boolean {
  return norm.type !== 'instance' || rank >= 3;
}

/**
 * Whether a per-channel bias added right before `norm` is redundant: true when every mean the
 * normalization subtracts is taken within a single channel (the last axis), so adding a constant
 * to a channel shifts its mean by the same constant and cancels out.
 *
 * - batch norm over the channel axis (the default, axis −1) and instance norm: redundant;
 * - group norm: only with one channel per group (`groups` −1 or equal to `channels`);
 * - layer norm: only when its axes leave out the channel axis, which the default (−1) does not:
 *   normalizing each position across channels subtracts the mean of the biases, and what is
 *   left of them still changes the output, so the bias is kept;
 * - `'none'`: never.
 *
 * `center` plays no part: it adds `beta` after the normalization, the mean is subtracted either way.
 *
 * @param norm the normalization that directly follows the conv/dense layer
 * @param rank rank of the layer's output, batch axis included (4 for a conv, 2 for a dense)
 * @param channels size of the last axis (filters or units)
 */
export function biasIsRedundant(norm: NormalizationSpec, rank: number, channels: number): boolean {
  const last = rank - 1;
  switch (norm.type) {
    case 'none':
      return false;
    case 'batch':
      return resolveAxis(norm.axis ?? -1, rank) === last;
    case 'instance':
      return rank >= 3 && resolveAxis(norm.axis ?? -1, rank) === last;
    case 'group': {
      const groups = norm.groups ?? NORMALIZATION_DEFAULTS.group.groups;
      return resolveAxis(norm.axis ?? -1, rank) === last && (groups === -1 || groups === channels);
    }
    case 'layer': {
      const axes = Array.isArray(norm.axis) ? norm.axis : [norm.axis ?? -1];
      return !axes.some((a) => resolveAxis(a, rank) === last);
    }
  }
}
