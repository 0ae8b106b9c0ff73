import type { ModelSpec } from '@bnlab/core';
import { planWeightBlocks } from '../assemble.js';
import { architectureBlocks } from '../builders/blocks.js';
import type { ArchitectureOptions } from '../builders/blocks.js';
import { resolveSpec } from '../builders/resolve.js';
import { planResNet } from '../builders/resnet_plan.js';
import { parseOrThrow } from './parse.js';
import { modelSpecSchema } from './schemas.js';
import type { CommonBuildOptions, ResNetOptions } from './types.js';

/**
 * Checks a {@link ModelSpec} without building it: every field, the architecture's options, the
 * normalization (with `@bnlab/layers`' validator), that `placement.layers` is `'all'` or a
 * non-empty list of blocks the architecture has and the normalization can apply to, and that
 * the normalization fits every block it normalizes, by the rules its layer applies when built:
 * `norm.axis` names axes of the block's output other than the batch axis (a dense block's
 * output has rank 2, a conv block's rank 4), and group norm's `groups` divides the block's
 * channels (conv `filters`, dense `units`). In a custom model, a `normAfterPool: true` that
 * takes effect on no block is rejected; a `resnet` spec gets the checks of {@link resnet}
 * (its placement, `zeroInitLastNorm`, the widths its shortcut can take, the norm against
 * every stage's channels). Returns a copy of the spec, typed.
 *
 * What only the layers can see is still reported by {@link fromSpec} alone: an input too small
 * for the architecture (`INVALID_SHAPE`), and a group norm whose `axis` is a spatial axis,
 * whose size depends on the input.
 *
 * @throws BnlabError `INVALID_CONFIG` whose message names the field, its value and the rule.
 */
export function validateModelSpec(spec: unknown): ModelSpec {
  const checked = parseOrThrow<ModelSpec>(modelSpecSchema, spec, 'model spec');
  const { architecture, ...rest } = checked;
  if (architecture === 'resnet') {
    planResNet(resolveSpec<ResNetOptions>('resnet', rest));
    return JSON.parse(JSON.stringify(checked)) as ModelSpec;
  }
  const r = resolveSpec<CommonBuildOptions>(architecture, rest);
  planWeightBlocks({
    ...r,
    context: architecture,
    blocks: architectureBlocks(architecture, r.options as ArchitectureOptions[typeof architecture]),
    blocksField: architecture === 'custom' ? 'options.blocks' : undefined,
  });
  return JSON.parse(JSON.stringify(checked)) as ModelSpec;
}
