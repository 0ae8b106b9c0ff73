import type { DatasetSplits } from '@bnlab/core';
import type { ImageDataset } from './image_dataset.js';
import type { PixelScaling } from './scaling.js';
import { resolveScaling } from './scaling.js';

/** The train and test splits of a loaded dataset. */
export interface ImageDatasetSplits extends DatasetSplits {
  train: ImageDataset;
  test: ImageDataset;
}

/**
 * Applies one scaling to every split; `'standardize'` takes its mean and std from the `train`
 * split only (else the first one), so the test split does not leak into preprocessing.
 */
export function applyScaling<T extends { [K in keyof T]: ImageDataset }>(splits: T, scaling: PixelScaling = 'unit'): T {
  const all = splits as unknown as Record<string, ImageDataset>;
  const reference = all['train'] ?? (Object.values(all)[0] as ImageDataset);
  const resolved = resolveScaling(scaling, reference.imageShape[2], () => reference.channelStats());
  return Object.fromEntries(Object.entries(all).map(([name, d]) => [name, d.withScaling(resolved)])) as T;
}
