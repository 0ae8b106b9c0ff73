import type { IdxDatasetSpec } from './dataset_info.js';

/**
 * MNIST (LeCun, Cortes, Burges): 70,000 handwritten digits, 28×28 gray, 60,000 for training and
 * 10,000 for testing. Checksums are those of the published `.gz` files (the same on
 * yann.lecun.com and on the Google Cloud mirror TensorFlow uses).
 */
export const MNIST_SPEC: IdxDatasetSpec = {
  name: 'mnist',
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  numClasses: 10,
  imageShape: [28, 28, 1],
  trainSize: 60000,
  testSize: 10000,
  baseUrl: 'https://storage.googleapis.com/cvdf-datasets/mnist/',
  files: {
    trainImages: {
      name: 'train-images-idx3-ubyte.gz',
      sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
    },
    trainLabels: {
      name: 'train-labels-idx1-ubyte.gz',
      sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
    },
    testImages: {
      name: 't10k-images-idx3-ubyte.gz',
      sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
    },
    testLabels: {
      name: 't10k-labels-idx1-ubyte.gz',
      sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
    },
  },
};
