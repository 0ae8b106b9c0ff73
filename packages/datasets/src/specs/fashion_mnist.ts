import type { IdxDatasetSpec } from './dataset_info.js';

/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 70,000 Zalando article images in the MNIST format,
 * 28×28 gray, 10 classes. Checksums are those of the `.gz` files published in the
 * zalandoresearch/fashion-mnist repository and on its S3 bucket.
 */
export const FASHION_MNIST_SPEC: IdxDatasetSpec = {
  name: 'fashion-mnist',
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  numClasses: 10,
  imageShape: [28, 28, 1],
  trainSize: 60000,
  testSize: 10000,
  baseUrl: 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
  files: {
    trainImages: {
      name: 'train-images-idx3-ubyte.gz',
      sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
    },
    trainLabels: {
      name: 'train-labels-idx1-ubyte.gz',
      sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
    },
    testImages: {
      name: 't10k-images-idx3-ubyte.gz',
      sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
    },
    testLabels: {
      name: 't10k-labels-idx1-ubyte.gz',
      sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
    },
  },
};
