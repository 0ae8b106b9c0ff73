import { z } from 'zod';
import { formatValue } from '@bnlab/core';
import { DEFAULT_CROP_PADDING } from '@bnlab/datasets';

/**
 * `training.augmentation`: random crops and flips of the training batches, as `@bnlab/datasets`
 * makes them (`ImageAugmentation`), drawn anew each epoch from the trial's seed and the epoch.
 * Evaluation batches and the training batches precise batch-norm statistics are computed
 * over are never augmented. Off when absent.
 *
 * @example `{ "crop": { "padding": 4 }, "flip": true }`: the CIFAR ResNet recipe,
 * torchvision's `RandomCrop(32, padding=4)` and `RandomHorizontalFlip()`.
 */
export const augmentationSchema = z.strictObject({
  /**
   * A crop of the image's size at a random offset out of the image padded with black on each
   * side (before scaling, as torchvision pads before `Normalize`); `false`: none.
   * `padding` must be smaller than the image's height and width. @default false
   */
  crop: z
    .union(
      [
        z.literal(false),
        // multipleOf rather than int: zod's int() stops the union at the type, and the error
        // would name crop rather than crop.padding.
        z.strictObject({ padding: z.number().min(0).multipleOf(1, { error: 'must be an integer' }).default(DEFAULT_CROP_PADDING) }),
      ],
      { error: (issue) => `must be false or an object such as { "padding": 4 }; got ${formatValue(issue.input)}` },
    )
    .default(false),
  /** Mirror each image left–right with probability 1/2. @default false */
  flip: z.boolean().default(false),
});

/** `training.augmentation` after validation. */
export type Augmentation = z.infer<typeof augmentationSchema>;
