import type { LayersModel } from '@tensorflow/tfjs-layers';
import { NormalizationLayer } from '@bnlab/layers';

/** What weight decay can leave alone: normalization scales and offsets, biases. */
export type WeightDecayExclude = 'norm' | 'bias';

/**
 * Normalization layers by class name, without bnlab's `bnlab>` prefix: bnlab's four and tfjs-layers'
 * own batch and layer normalization (as in Keras-converted models).
 */
const NORMALIZATION_CLASSES: ReadonlySet<string> = new Set([
  'BatchNormalization',
  'LayerNormalization',
  'GroupNormalization',
  'InstanceNormalization',
]);

interface LayerLike {
  layers?: unknown[];
  trainableWeights: ReadonlyArray<{ name: string; originalName: string }>;
  getClassName(): string;
}

function isNormalization(layer: LayerLike): boolean {
  return layer instanceof NormalizationLayer || NORMALIZATION_CLASSES.has(layer.getClassName().replace(/^bnlab>/, ''));
}

/**
 * The names (as optimizers see them) of the trainable variables of `model` that weight decay
 * leaves alone: with `norm`, every weight of a normalization layer (its `gamma` and `beta`,
 * whatever they are called), found by class; with `bias`, every weight named `bias` (tfjs-layers'
 * dense and convolution layers). Nested models are searched too.
 */
export function weightDecayExclusions(model: LayersModel, exclude: readonly WeightDecayExclude[]): Set<string> {
  const names = new Set<string>();
  if (exclude.length === 0) return names;
  const visit = (layers: readonly unknown[]): void => {
    for (const item of layers) {
      const layer = item as LayerLike;
      if (Array.isArray(layer.layers)) {
        visit(layer.layers);
        continue;
      }
      const norm = exclude.includes('norm') && isNormalization(layer);
      for (const w of layer.trainableWeights) {
        // Variable names are scoped by layer (`dense_Dense1/bias`) and made unique with a suffix.
        if (norm || (exclude.includes('bias') && w.originalName.split('/').pop() === 'bias')) names.add(w.name);
      }
    }
  };
  visit(model.layers);
  return names;
}
