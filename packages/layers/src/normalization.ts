import { BnlabError, formatValue } from '@bnlab/core';
import type {
  BatchNormSpec,
  GroupNormSpec,
  InstanceNormSpec,
  LayerNormSpec,
  NoNormSpec,
  NormalizationSpec,
  NormalizationType,
} from '@bnlab/core';
import { BatchNormalization } from './batch_normalization.js';
import { GroupNormalization } from './group_normalization.js';
import { InstanceNormalization } from './instance_normalization.js';
import { LayerNormalization } from './layer_normalization.js';
import type { NormalizationLayer, NormalizationLayerArgs } from './normalization_layer.js';
import { OPTION_NAMES, checkBatchOptionCombination, optionsSchema, parseOrThrow } from './options.js';
import type { NormalizationFamily } from './options.js';

/** Every value `type` may take, in documentation order. */
export const NORMALIZATION_TYPES: readonly NormalizationType[] = ['batch', 'layer', 'group', 'instance', 'none'];

/**
 * Layer arguments {@link normalization} passes on besides the spec: the tfjs `LayerArgs`
 * (`name`, `trainable`, `inputShape`, …) and the initializers, regularizers and constraints of
 * `gamma` and `beta`. The spec's own options (`epsilon`, `center`, `scale`) come from the spec.
 */
export type NormalizationExtraArgs = Omit<NormalizationLayerArgs, 'epsilon' | 'center' | 'scale'>;

/**
 * Checks a plain, JSON-like normalization spec and returns a copy typed as
 * {@link NormalizationSpec} (the values you gave, no defaults filled in).
 *
 * @throws BnlabError `INVALID_CONFIG` naming the field, its value and the rule, e.g.
 *   "normalization spec {type: 'group'}: `groups` (2.5) must be a positive integer or -1
 *   (one group per channel)". Whether `groups` divides the channels is only known from the
 *   input, so the layer checks it when it is built.
 */
export function validateNormalizationSpec(spec: unknown): NormalizationSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new BnlabError('INVALID_CONFIG', `normalization spec must be an object such as {type: 'batch'}, got ${formatValue(spec)}`);
  }
  const { type, ...options } = spec as Record<string, unknown>;
  if (typeof type !== 'string' || !(NORMALIZATION_TYPES as readonly string[]).includes(type)) {
    throw new BnlabError(
      'INVALID_CONFIG',
      `normalization spec: \`type\` (${formatValue(type)}) must be one of ${NORMALIZATION_TYPES.map((t) => `'${t}'`).join(', ')}`,
      { where: 'type' },
    );
  }
  const context = `normalization spec {type: '${type}'}`;
  if (type === 'none') {
    const extra = Object.keys(options);
    if (extra.length > 0) {
      throw new BnlabError(
        'INVALID_CONFIG',
        `${context}: unknown option ${extra.map((k) => `\`${k}\``).join(', ')}; 'none' takes no options`,
        { where: extra[0] },
      );
    }
    return { type: 'none' };
  }
  const family = type as NormalizationFamily;
  const parsed = parseOrThrow<Record<string, unknown>>(optionsSchema(family, true), options, context, OPTION_NAMES[family]);
  if (family === 'batch') checkBatchOptionCombination(parsed, context);
  return { type: family, ...parsed } as NormalizationSpec;
}

/**
 * Builds the normalization layer a spec describes, or `null` for `{type: 'none'}`.
 *
 * The spec is validated first ({@link validateNormalizationSpec}); options it leaves out take
 * the layer defaults (Keras values, see `NORMALIZATION_DEFAULTS`). The layer works after a
 * conv layer (NHWC, channels last) and after a dense layer (2-D) with the default `axis: -1`
 * (instance normalization needs spatial axes and rejects 2-D inputs when built).
 *
 * @example
 * ```ts
 * const norm = normalization({ type: 'group', groups: 8 }, { name: 'gn1' });
 * if (norm) model.add(norm);
 * ```
 */
export function normalization(spec: NoNormSpec, layerArgs?: NormalizationExtraArgs): null;
export function normalization(spec: BatchNormSpec, layerArgs?: NormalizationExtraArgs): BatchNormalization;
export function normalization(spec: LayerNormSpec, layerArgs?: NormalizationExtraArgs): LayerNormalization;
export function normalization(spec: GroupNormSpec, layerArgs?: NormalizationExtraArgs): GroupNormalization;
export function normalization(spec: InstanceNormSpec, layerArgs?: NormalizationExtraArgs): InstanceNormalization;
export function normalization(spec: NormalizationSpec, layerArgs?: NormalizationExtraArgs): NormalizationLayer | null;
export function normalization(spec: NormalizationSpec, layerArgs: NormalizationExtraArgs = {}): NormalizationLayer | null {
  const valid = validateNormalizationSpec(spec);
  if (valid.type === 'none') return null;
  // The spec's options win over anything of the same name in layerArgs.
  const { type, ...options } = valid;
  switch (type) {
    case 'batch':
      return new BatchNormalization({ ...layerArgs, ...(options as Omit<BatchNormSpec, 'type'>) });
    case 'layer':
      return new LayerNormalization({ ...layerArgs, ...(options as Omit<LayerNormSpec, 'type'>) });
    case 'group':
      return new GroupNormalization({ ...layerArgs, ...(options as Omit<GroupNormSpec, 'type'>) });
    case 'instance':
      return new InstanceNormalization({ ...layerArgs, ...(options as Omit<InstanceNormSpec, 'type'>) });
  }
}
