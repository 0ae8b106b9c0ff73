import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { ModelSpec } from '@bnlab/core';
import { assemble } from '../assemble.js';
import { parseOrThrow } from '../spec/parse.js';
import { modelSpecSchema } from '../spec/schemas.js';
import type { CommonBuildOptions, ResNetOptions } from '../spec/types.js';
import { architectureBlocks } from './blocks.js';
import type { ArchitectureOptions } from './blocks.js';
import { resolveSpec } from './resolve.js';
import { buildResNet } from './resnet.js';
import { planResNet } from './resnet_plan.js';

/**
 * Builds a model from a plain, JSON-serializable {@link ModelSpec}: one of the named
 * architectures (`mlp`, `simpleCnn`, `kerasCnn`, `convNet4`, `resnet`, `vgg`, with their
 * options: see each builder), or
 * `architecture: 'custom'`, a stack of blocks in `options.blocks`:
 *
 * - `{ type: 'conv', filters, kernelSize?: 3, strides?: 1, padding?: 'valid', activation?, normAfterPool? }`
 * - `{ type: 'dense', units, activation? }` (a Flatten is inserted before it after an image block)
 * - `{ type: 'maxPool' | 'avgPool', poolSize?: 2, strides?, padding?: 'valid' }`
 * - `{ type: 'dropout', rate }`, `{ type: 'flatten' }`
 *
 * The classifier, Dense `numClasses` with `outputActivation`, is always appended and is never
 * normalized. Conv and dense blocks are numbered from 1 in order: those are the numbers
 * `placement.layers` lists. `placement.layers: 'all'` normalizes every conv/dense block the
 * normalization is defined on (instance normalization skips dense blocks, which have no spatial
 * axes); listing a block it is not defined on is an error.
 *
 * In each normalized block, `'before-activation'` builds conv (no activation) → norm →
 * activation and `'after-activation'` conv (with activation) → norm. The conv/dense bias is
 * dropped where the normalization right after it makes it redundant (see {@link biasIsRedundant};
 * `options.keepBias` keeps it). A conv block's `normAfterPool: true` moves its after-activation
 * norm past the pool block right after it (see `ConvBlockSpec.normAfterPool`).
 *
 * @example
 * ```ts
 * const model = fromSpec({
 *   architecture: 'custom', inputShape: [28, 28, 1], numClasses: 10,
 *   norm: { type: 'layer' }, placement: { layers: [1, 3], position: 'after-activation' },
 *   options: { blocks: [
 *     { type: 'conv', filters: 16 }, { type: 'maxPool' }, { type: 'conv', filters: 32 },
 *     { type: 'dropout', rate: 0.25 }, { type: 'dense', units: 64 },
 *   ] },
 * });
 * ```
 * @throws BnlabError `INVALID_CONFIG` (or `INVALID_SHAPE` when the input is too small for the
 *   architecture) naming the field, its value and the rule.
 */
export function fromSpec(spec: ModelSpec): LayersModel {
  const { architecture, ...rest } = parseOrThrow<ModelSpec>(modelSpecSchema, spec, 'model spec');
  if (architecture === 'resnet') return buildResNet(planResNet(resolveSpec<ResNetOptions>('resnet', rest)));
  const r = resolveSpec<CommonBuildOptions>(architecture, rest);
  return assemble({
    ...r,
    context: architecture,
    blocks: architectureBlocks(architecture, r.options as ArchitectureOptions[typeof architecture]),
    blocksField: architecture === 'custom' ? 'options.blocks' : undefined,
  });
}
