import type { LayersModel } from '@tensorflow/tfjs-layers';
import { assemble } from '../assemble.js';
import type { BuilderSpec, SimpleCnnOptions } from '../spec/types.js';
import { architectureBlocks } from './blocks.js';
import { resolveSpec } from './resolve.js';

/**
 * Seed 000's CNN: Conv32 3×3 → 2×2 max pool, Conv64 3×3 → 2×2 max pool, Flatten, Dense 128,
 * Dense `numClasses` (valid padding). Blocks: 1 and 2 the convs, 3 the dense layer.
 * Seed 000's batch-norm variant is `norm: { type: 'batch' }` with the default placement
 * (every block, before the activation).
 *
 * @example
 * ```ts
 * const model = simpleCnn({ norm: { type: 'batch' } });
 * ```
 * @throws BnlabError `INVALID_CONFIG` naming the field when the spec is invalid.
 */
export function simpleCnn(spec: BuilderSpec<SimpleCnnOptions> = {}): LayersModel {
  const r = resolveSpec<SimpleCnnOptions>('simpleCnn', spec);
  return assemble({ ...r, context: 'simpleCnn', blocks: architectureBlocks('simpleCnn', r.options) });
}
