import type { LayersModel } from '@tensorflow/tfjs-layers';
import { assemble } from '../assemble.js';
import type { BuilderSpec, KerasCnnOptions } from '../spec/types.js';
import { architectureBlocks } from './blocks.js';
import { resolveSpec } from './resolve.js';

/**
 * Seed 003's Keras CNN, also the benchmark model: Conv32 → pool, Conv64 → pool, Conv64,
 * Flatten, Dense 64, Dense `numClasses` (3×3 valid convolutions, 2×2 max pooling). Blocks 1–3
 * are the convs, block 4 the dense layer. With `norm: { type: 'batch' }` and the default
 * placement it is exactly the PyTorch anchor's cnn+BN (conv/dense bias off, BN before ReLU).
 *
 * @example
 * ```ts
 * const model = kerasCnn({ norm: { type: 'group', groups: 8 } });
 * ```
 * @throws BnlabError `INVALID_CONFIG` naming the field when the spec is invalid.
 */
export function kerasCnn(spec: BuilderSpec<KerasCnnOptions> = {}): LayersModel {
  const r = resolveSpec<KerasCnnOptions>('kerasCnn', spec);
  return assemble({ ...r, context: 'kerasCnn', blocks: architectureBlocks('kerasCnn', r.options) });
}
