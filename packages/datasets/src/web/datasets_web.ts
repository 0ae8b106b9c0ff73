import { infoOf } from '../dataset/dataset_loader.js';
import type { DatasetLoader } from '../dataset/dataset_loader.js';
import { CIFAR10_SPEC } from '../specs/cifar10.js';
import { FASHION_MNIST_SPEC } from '../specs/fashion_mnist.js';
import { MNIST_SPEC } from '../specs/mnist.js';
import { loadCifar10Web } from './load_cifar10_web.js';
import type { Cifar10WebLoadOptions } from './load_cifar10_web.js';
import { loadIdxWeb } from './load_idx_web.js';
import type { WebLoadOptions } from './web_load_options.js';

/** MNIST fetched over HTTP (browser entry): the four official `.gz` files from `baseUrl`, SHA-256 verified. */
export const mnistWeb: DatasetLoader<WebLoadOptions> = {
  ...infoOf(MNIST_SPEC),
  load: (options?: WebLoadOptions) => loadIdxWeb(MNIST_SPEC, options),
};

/** Fashion-MNIST fetched over HTTP (browser entry): the four official `.gz` files from `baseUrl`, SHA-256 verified. */
export const fashionMnistWeb: DatasetLoader<WebLoadOptions> = {
  ...infoOf(FASHION_MNIST_SPEC),
  load: (options?: WebLoadOptions) => loadIdxWeb(FASHION_MNIST_SPEC, options),
};

/** CIFAR-10 fetched over HTTP (browser entry): the official binary archive (or its files) from `baseUrl`. */
export const cifar10Web: DatasetLoader<Cifar10WebLoadOptions> = {
  ...infoOf(CIFAR10_SPEC),
  load: (options?: Cifar10WebLoadOptions) => loadCifar10Web(options),
};
