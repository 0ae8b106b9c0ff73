import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { IdxDatasetSpec } from '../../src/specs/dataset_info.js';
import { idxImages, idxLabels } from './idx_bytes.js';

/** Image i of the fixture has every pixel equal to 10 × i + 1; labels are given per split. */
export const FIXTURE_TRAIN_LABELS = [3, 1, 4, 1, 5];
export const FIXTURE_TEST_LABELS = [9, 2, 6];

/** The four files of a small IDX dataset (28×28), gzip-compressed as published, by file name. */
export function idxFixtureFiles(): Record<string, Uint8Array> {
  const gz = (b: Uint8Array) => new Uint8Array(gzipSync(b));
  return {
    'train-images-idx3-ubyte.gz': gz(idxImages(5, 28, 28, (i) => 10 * i + 1)),
    'train-labels-idx1-ubyte.gz': gz(idxLabels(FIXTURE_TRAIN_LABELS)),
    't10k-images-idx3-ubyte.gz': gz(idxImages(3, 28, 28, (i) => 10 * i + 1)),
    't10k-labels-idx1-ubyte.gz': gz(idxLabels(FIXTURE_TEST_LABELS)),
  };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A dataset spec whose files and checksums are those of {@link idxFixtureFiles}. */
export function idxFixtureSpec(files: Record<string, Uint8Array>, baseUrl = 'http://127.0.0.1:9/'): IdxDatasetSpec {
  const file = (name: string) => ({ name, sha256: sha256(files[name] as Uint8Array) });
  return {
    name: 'tiny-idx',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    numClasses: 10,
    imageShape: [28, 28, 1],
    trainSize: 5,
    testSize: 3,
    baseUrl,
    files: {
      trainImages: file('train-images-idx3-ubyte.gz'),
      trainLabels: file('train-labels-idx1-ubyte.gz'),
      testImages: file('t10k-images-idx3-ubyte.gz'),
      testLabels: file('t10k-labels-idx1-ubyte.gz'),
    },
  };
}
