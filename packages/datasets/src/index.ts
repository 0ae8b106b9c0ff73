/**
 * `@bnlab/datasets`: MNIST, Fashion-MNIST and CIFAR-10 from their real file formats, offline by
 * default where a package ships the data, else downloaded into a cache. Downloads (and the cache
 * they fill) are verified by SHA-256; local sources (packages, folders, archives) are checked for
 * format and sizes.
 *
 * - Datasets: {@link mnist}, {@link fashionMnist}, {@link cifar10} (`load()` → `{ train, test }`
 *   of {@link ImageDataset}), and {@link loadImageFolder} for torchvision-style image folders and
 *   archives.
 * - {@link ImageDataset}: bytes in memory, float32 tensors per batch (`batches`), seeded
 *   shuffles and `split`, pixel scaling to [0, 1] or per-channel standardization, and seeded
 *   random crops and flips of training batches ({@link ImageAugmentation}), made per batch.
 * - Format readers usable on their own: {@link readIdxImages}, {@link readIdxLabels},
 *   {@link parseIdx}, {@link readCifarBinary}, {@link readCifarMeta}, {@link readTar},
 *   {@link decodeImage}, {@link decodePng}.
 * - Downloads and cache: {@link downloadFile}, {@link defaultCacheDir} (`BNLAB_CACHE_DIR`).
 * - The web loaders ({@link mnistWeb}, {@link fashionMnistWeb}, {@link cifar10Web},
 *   {@link loadImageArchiveWeb}) use only fetch, `DecompressionStream` and Web Crypto; the
 *   package's `browser` entry exports them (with `mnist`, `fashionMnist`, `cifar10` naming the web
 *   loaders) and no Node module.
 *
 * @packageDocumentation
 */
export * from './portable.js';

export { mnist, fashionMnist, cifar10, DEBIAN_FASHION_MNIST_FOLDER } from './node/datasets.js';
export type { LoadOptions } from './node/load_options.js';
export type { Cifar10LoadOptions } from './node/load_cifar10_node.js';
export { loadImageFolder } from './node/load_image_folder_node.js';
export type { ImageFolderLoadOptions } from './node/load_image_folder_node.js';
export { downloadFile } from './node/download.js';
export type { DownloadOptions } from './node/download.js';
export { defaultCacheDir } from './node/cache_dir.js';
export type { CacheDirContext } from './node/cache_dir.js';
export { mnistDataFolder } from './node/mnist_data_folder.js';
/** @deprecated import it from `@bnlab/core/node`. */
export { packageFolder } from '@bnlab/core/node';
