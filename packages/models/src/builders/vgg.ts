import type { LayersModel } from '@tensorflow/tfjs-layers';
import { assemble } from '../assemble.js';
import type { BuilderSpec, VggOptions } from '../spec/types.js';
import { architectureBlocks } from './blocks.js';
import { resolveSpec } from './resolve.js';

/**
 * VGG-11, -13 or -16 (`options.depth`, configurations A, B and D of Simonyan & Zisserman) for
 * 32×32 inputs (CIFAR): five stages of 3×3 `'same'` convolutions of 64, 128, 256, 512 and 512
 * filters, each stage ending in 2×2 max pooling, so a 32×32 image leaves 1×1×512 features;
 * then Flatten, the hidden dense layers of `options.hiddenUnits` (none by default: the common
 * CIFAR head, the 512 features straight into the classifier), each followed by dropout of rate
 * `options.dropout` when it is > 0, and Dense `numClasses`. Larger inputs work too (64×64
 * leaves 2×2×512 features); smaller than 32×32 is an error.
 *
 * Blocks are numbered like every builder's: the convolutions 1…8 (VGG-11), 1…10 (VGG-13) or
 * 1…13 (VGG-16), then the hidden dense layers. `norm` goes after every one of them by default,
 * before the activation as in VGG-BN (torchvision's `vgg16_bn`: conv → BN → ReLU);
 * `placement.position: 'after-activation'` puts it after the ReLU, and `placement.layers`
 * picks blocks. The conv bias is dropped where the norm makes it redundant, as everywhere
 * (torchvision keeps it; that adds 4,224 parameters to VGG-16-BN, 2,752 to VGG-11-BN).
 * Kernels default to `'heUniform'`: He et al.'s variance 2 / fan in for ReLU networks, drawn
 * fast (tfjs draws its truncated-normal `'heNormal'` in JavaScript: about 12 s for VGG-11's
 * 9.2M weights, against about 1 s).
 *
 * @example
 * ```ts
 * const model = vgg({ norm: { type: 'batch' }, options: { depth: 11 } });
 * const head = vgg({ options: { hiddenUnits: [512, 512], dropout: 0.5 } });
 * ```
 * @see https://arxiv.org/abs/1409.1556 (Simonyan & Zisserman, 2015)
 * @throws BnlabError `INVALID_CONFIG` naming the field when the spec is invalid.
 */
export function vgg(spec: BuilderSpec<VggOptions> = {}): LayersModel {
  const r = resolveSpec<VggOptions>('vgg', spec);
  return assemble({ ...r, context: 'vgg', blocks: architectureBlocks('vgg', r.options) });
}
