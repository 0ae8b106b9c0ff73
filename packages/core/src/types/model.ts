import type { NormalizationSpec } from './normalization.js';

/** Where normalization goes relative to the activation of a block. */
export type NormPosition = 'before-activation' | 'after-activation';

/** Which conv/dense blocks get normalization, and where. Blocks are numbered from 1. */
export interface NormPlacement {
  /** `'all'` or the 1-based numbers of the conv/dense blocks to normalize. @default 'all' */
  layers?: 'all' | number[];
  /** @default 'before-activation' */
  position?: NormPosition;
}

/** The architectures `@bnlab/models` builds. */
export type ArchitectureName = 'mlp' | 'simpleCnn' | 'kerasCnn' | 'convNet4' | 'resnet' | 'vgg' | 'custom';

/**
 * A plain, JSON-serializable description of a model: the architecture, its input and
 * output, and its normalization. Builder-specific options go in `options`.
 */
export interface ModelSpec {
  architecture: ArchitectureName;
  /** Input shape without the batch dimension, NHWC for images, e.g. `[28, 28, 1]`. */
  inputShape: number[];
  numClasses: number;
  /** @default { type: 'none' } */
  norm?: NormalizationSpec;
  placement?: NormPlacement;
  /** Builder-specific options (hidden sizes, initializer, dropout, …). */
  options?: Record<string, unknown>;
}
