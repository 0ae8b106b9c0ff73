import { BnlabError } from '@bnlab/core';
import { readIdxImages, readIdxLabels } from '../formats/idx.js';
import type { DatasetInfo } from '../specs/dataset_info.js';
import { ImageDataset } from './image_dataset.js';

/** The two uncompressed IDX files of one split, and where they came from (for messages). */
export interface IdxSplitBytes {
  images: Uint8Array;
  labels: Uint8Array;
  imagesSource: string;
  labelsSource: string;
}

/**
 * Builds one split of an IDX dataset from its image and label files. Throws a `DATA_FORMAT`
 * {@link BnlabError} naming the file when the images are not the dataset's size, the label count
 * differs from the image count, or a label is out of range.
 */
export function idxSplitDataset(info: DatasetInfo, split: string, files: IdxSplitBytes): ImageDataset {
  const images = readIdxImages(files.images, files.imagesSource);
  const [h, w, c] = info.imageShape;
  if (images.rows !== h || images.cols !== w || c !== 1) {
    throw new BnlabError(
      'DATA_FORMAT',
      `${files.imagesSource}: images are ${images.rows}×${images.cols}; ${info.name} images must be ${h}×${w}×${c}`,
      { where: files.imagesSource },
    );
  }
  const labels = readIdxLabels(files.labels, files.labelsSource, info.numClasses);
  if (labels.length !== images.count) {
    throw new BnlabError(
      'DATA_FORMAT',
      `${files.labelsSource}: holds ${labels.length} labels but ${files.imagesSource} holds ${images.count} images; ` +
        'the label count must equal the image count',
      { where: files.labelsSource },
    );
  }
  return new ImageDataset({
    name: `${info.name}/${split}`,
    images: images.pixels,
    labels,
    imageShape: info.imageShape,
    classNames: info.classNames,
  });
}
