import { isBnlabError } from '@bnlab/core';
import { DEFAULT_CROP_PADDING, resolveAugmentation } from '../../src/dataset/augmentation.js';
import type { ImageAugmentation } from '../../src/dataset/augmentation.js';

const CIFAR: readonly [number, number, number] = [32, 32, 3];

/** The error `resolveAugmentation` throws, as `{ where, message }`. */
function refusal(augment: unknown, imageShape: readonly number[] = CIFAR, field?: string): { where: unknown; message: string } {
  try {
    resolveAugmentation(augment as ImageAugmentation, imageShape, field);
  } catch (e) {
    expect(isBnlabError(e, 'INVALID_ARGUMENT')).toBe(true);
    return { where: (e as { where?: unknown }).where, message: (e as Error).message };
  }
  throw new Error('expected an error');
}

describe('resolveAugmentation', () => {
  it('fills in the defaults: padding 4 (the CIFAR recipe), no flip, no crop unless asked', () => {
    expect(DEFAULT_CROP_PADDING).toBe(4);
    expect(resolveAugmentation({ crop: {} }, CIFAR)).toEqual({ padding: 4, flip: false });
    expect(resolveAugmentation({ crop: { padding: 2 }, flip: true }, CIFAR)).toEqual({ padding: 2, flip: true });
    expect(resolveAugmentation({ flip: true }, CIFAR)).toEqual({ padding: 0, flip: true });
    expect(resolveAugmentation({ crop: false, flip: false }, CIFAR)).toEqual({ padding: 0, flip: false });
    expect(resolveAugmentation({}, CIFAR)).toEqual({ padding: 0, flip: false });
    expect(resolveAugmentation({ crop: { padding: 0 } }, CIFAR)).toEqual({ padding: 0, flip: false });
    expect(resolveAugmentation({ crop: { padding: 27 } }, [28, 28, 1])).toEqual({ padding: 27, flip: false });
  });

  it('refuses a padding that is negative, not an integer or not a number, naming the field', () => {
    for (const padding of [-1, 1.5, NaN, Infinity]) {
      expect(refusal({ crop: { padding } })).toEqual({
        where: 'augment.crop.padding',
        message: `augment.crop.padding must be an integer of at least 0, got ${padding}`,
      });
    }
    expect(refusal({ crop: { padding: '4' } }).message).toBe("augment.crop.padding must be an integer of at least 0, got '4'");
  });

  it('refuses a padding as large as the image, with the image size', () => {
    expect(refusal({ crop: { padding: 28 } }, [28, 28, 1])).toEqual({
      where: 'augment.crop.padding',
      message:
        "augment.crop.padding (28) must be smaller than the image's height (28) and width (28), so that every crop keeps part of the image",
    });
    // A row of features: one pixel high.
    expect(refusal({ crop: { padding: 1 } }, [1, 784, 1]).message).toMatch(/height \(1\) and width \(784\)/);
  });

  it('refuses augmentation of data that is not images (imageShape of rank 1 or 2)', () => {
    expect(refusal({ flip: true }, [784])).toEqual({
      where: 'augment',
      message: 'augment needs images of shape [height, width, channels], got imageShape [784] (rank 1)',
    });
    expect(refusal({ crop: {} }, [28, 28]).message).toBe(
      'augment needs images of shape [height, width, channels], got imageShape [28, 28] (rank 2)',
    );
    // Nothing on: nothing to refuse.
    expect(resolveAugmentation({ crop: false }, [784])).toEqual({ padding: 0, flip: false });
  });

  it('refuses unknown options and wrong types, naming the field and the options', () => {
    expect(refusal({ crop: { pading: 4 } })).toEqual({
      where: 'augment.crop.pading',
      message: 'augment.crop.pading is not an option (options of augment.crop: padding)',
    });
    expect(refusal({ flip: true, rotate: 10 }).message).toBe('augment.rotate is not an option (options of augment: crop, flip)');
    expect(refusal({ flip: 'yes' })).toEqual({ where: 'augment.flip', message: "augment.flip must be true or false, got 'yes'" });
    expect(refusal({ crop: true }).message).toBe('augment.crop must be false or an object such as { padding: 4 }, got true');
    expect(refusal({ crop: 4 }).where).toBe('augment.crop');
    expect(refusal(null).message).toBe('augment must be an object such as { crop: { padding: 4 }, flip: true }, got null');
    expect(refusal(true).where).toBe('augment');
  });

  it('spells the fields from the name it is given', () => {
    expect(refusal({ crop: { padding: -2 } }, CIFAR, 'training.augmentation')).toEqual({
      where: 'training.augmentation.crop.padding',
      message: 'training.augmentation.crop.padding must be an integer of at least 0, got -2',
    });
  });
});
