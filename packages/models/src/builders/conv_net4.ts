import type { LayersModel } from '@tensorflow/tfjs-layers';
import { assemble } from '../assemble.js';
import type { BuilderSpec, ConvNet4Options } from '../spec/types.js';
import { architectureBlocks } from './blocks.js';
import { resolveSpec } from './resolve.js';

/**
 * Seed 002's four-convolution network, as its published Keras code builds it (the paper's text
 * only says "64 channels"; the code uses 64, 64, 128, 128): four 3×3 convolutions, padded
 * `same`, `valid`, `same`, `valid`, each followed by 2×2 max pooling with `same` padding, then
 * Flatten, Dense 512, Dense `numClasses` with softmax. Works for 32×32×3 (CIFAR-10, the
 * default), 28×28×1 (MNIST) and seed 002's 64×64×3 faces.
 *
 * Blocks 1–4 are the convolutions, block 5 the dense layer. Seed 002's "batch norm on conv
 * layer k" is `norm: { type: 'batch' }, placement: { layers: [k], position: 'after-activation' }`
 * (with `layout: 'seed'`, blocks 1 and 3 then normalize after their pooling, as the seed does);
 * "on every conv layer" is `layers: [1, 2, 3, 4]`.
 *
 * @example
 * ```ts
 * const model = convNet4({ norm: { type: 'batch' }, placement: { layers: [1], position: 'after-activation' } });
 * ```
 * @throws BnlabError `INVALID_CONFIG` naming the field when the spec is invalid.
 */
export function convNet4(spec: BuilderSpec<ConvNet4Options> = {}): LayersModel {
  const r = resolveSpec<ConvNet4Options>('convNet4', spec);
  return assemble({ ...r, context: 'convNet4', blocks: architectureBlocks('convNet4', r.options) });
}
