import type { LayersModel } from '@tensorflow/tfjs-layers';
import { assemble } from '../assemble.js';
import type { BuilderSpec, MlpOptions } from '../spec/types.js';
import { architectureBlocks } from './blocks.js';
import { resolveSpec } from './resolve.js';

/**
 * Seed 001's multilayer perceptron: Flatten, Dense 128, Dense 64, Dense `numClasses`
 * (hidden sizes in `options.hiddenUnits`). The hidden dense layers are blocks 1…n.
 *
 * Seed 001 puts batch norm after each hidden Dense + ReLU, which is
 * `placement: { position: 'after-activation' }` (the bias is then kept: the ReLU sits between).
 *
 * @example
 * ```ts
 * const model = mlp({ norm: { type: 'batch' }, placement: { position: 'after-activation' } });
 * ```
 * @throws BnlabError `INVALID_CONFIG` naming the field when the spec is invalid.
 */
export function mlp(spec: BuilderSpec<MlpOptions> = {}): LayersModel {
  const r = resolveSpec<MlpOptions>('mlp', spec);
  return assemble({ ...r, context: 'mlp', blocks: architectureBlocks('mlp', r.options) });
}
