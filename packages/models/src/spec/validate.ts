import type { ModelSpec } from '@bnlab/core';
import { planWeightBlocks } from '../assemble.js';
import { architectureBlocks } from '../builders/blocks.js';
import type { ArchitectureOptions } from '../builders/blocks.js';
import { resolveSpec } from '../builders/resolve.js';
import { parseOrThrow } from './parse.js';
import { modelSpecSchema } from './schemas.js';
import type { CommonBuildOptions } from './types.js';

/**
 * Checks a {@link ModelSpec} without building it: every field, the architecture's options, the
 * normalization (with `@bnlab/layers`' validator) and that `placement.layers` names blocks the
 * architecture has and the normalization can apply to. Returns a copy of the spec, typed.
 * Shape problems that only the layers can see (an input too small for the architecture, a
 * `groups` that does not divide a block's channels) are reported by {@link fromSpec}.
 *
 * @throws BnlabError `INVALID_CONFIG` whose message names the field, its value and the rule.
 */
export function validateModelSpec(spec: unknown): ModelSpec {
  const checked = parseOrThrow<ModelSpec>(modelSpecSchema, spec, 'model spec');
  const { architecture, ...rest } = checked;
  const r = resolveSpec<CommonBuildOptions>(architecture, rest);
  planWeightBlocks({
    ...r,
    context: architecture,
    blocks: architectureBlocks(architecture, r.options as ArchitectureOptions[typeof architecture]),
  });
  return JSON.parse(JSON.stringify(checked)) as ModelSpec;
}
