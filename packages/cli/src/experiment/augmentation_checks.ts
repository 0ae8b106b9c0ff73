import { isBnlabError } from '@bnlab/core';
import { resolveAugmentation } from '@bnlab/datasets';
import type { Augmentation } from './augmentation_schema.js';

/**
 * What is wrong with `training.augmentation` for images of `imageShape` (a crop padding as large
 * as the image), as `@bnlab/datasets` checks it: the field and the message; undefined when
 * nothing is. The schema has checked the rest.
 */
export function augmentationProblem(
  augmentation: Augmentation | undefined,
  imageShape: readonly number[],
): { where: string; message: string } | undefined {
  if (augmentation === undefined) return undefined;
  try {
    resolveAugmentation(augmentation, imageShape, 'training.augmentation');
    return undefined;
  } catch (e) {
    if (!isBnlabError(e, 'INVALID_ARGUMENT')) throw e;
    return { where: e.where ?? 'training.augmentation', message: e.message };
  }
}
