import { expandDims, tidy, type Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { BnlabError } from '@bnlab/core';
import { blockActivations } from '../recorder/probes.js';

/** The feature maps of one layer for one input image, `height × width × channels`, channels last. */
export interface FeatureMaps {
  /** The conv layer (block) the maps come from. */
  layer: string;
  /** Map height in pixels. */
  height: number;
  /** Map width in pixels. */
  width: number;
  /** Number of maps (channels). */
  channels: number;
  /** Values in HWC order. */
  data: Float32Array;
}

/** Options of {@link extractFeatureMaps}. */
export interface ExtractFeatureMapsOptions {
  /** Number of conv blocks, from the first. @default 1 */
  blocks?: number;
  /** Pre-activation (what normalization produces before ReLU) or block outputs. @default 'output' */
  kind?: 'preActivation' | 'output';
}

/**
 * The feature maps of the first conv blocks of `model` for one image (`[H, W, C]` or
 * `[1, H, W, C]`), in inference mode: the block outputs (after normalization and
 * activation) by default.
 */
export async function extractFeatureMaps(
  model: LayersModel,
  image: Tensor,
  options: ExtractFeatureMapsOptions = {},
): Promise<FeatureMaps[]> {
  if (image.rank !== 3 && !(image.rank === 4 && image.shape[0] === 1)) {
    throw new BnlabError('INVALID_SHAPE', `image must have shape [H, W, C] or [1, H, W, C], got [${image.shape.join(', ')}]`, {
      where: 'image',
    });
  }
  const batch = image.rank === 3 ? tidy(() => expandDims(image, 0)) : image;
  try {
    const acts = await blockActivations(model, batch, { kind: options.kind ?? 'output', blocks: 'conv', limit: options.blocks ?? 1 });
    if (acts.length === 0)
      throw new BnlabError('INVALID_CONFIG', 'the model has no conv block to take feature maps from', { where: 'model' });
    return acts.map((a) => {
      if (a.shape.length !== 4) {
        throw new BnlabError('INVALID_SHAPE', `block ${a.block} output has shape [${a.shape.join(', ')}]; feature maps need [1, H, W, C]`, {
          where: a.block,
        });
      }
      const [, height, width, channels] = a.shape as [number, number, number, number];
      return { layer: a.block, height, width, channels, data: a.values };
    });
  } finally {
    if (batch !== image) batch.dispose();
  }
}
