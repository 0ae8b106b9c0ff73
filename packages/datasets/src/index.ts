/**
 * `@bnlab/datasets`: MNIST, Fashion-MNIST and CIFAR-10 from their real file formats, verified by
 * SHA-256, cached, and offline by default where a package ships the data.
 *
 * - Datasets: {@link mnist}, {@link fashionMnist}, {@link cifar10} (`load()` → `{ train, test }`
 *   of {@link ImageDataset}), and {@link loadImageFolder} for torchvision-style image folders and
 *   archives.
 * - {@link ImageDataset}: bytes in memory, float32 tensors per batch (`batches`), seeded
 *   shuffles and `split`, pixel scaling to [0, 1] or per-channel standardization.
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
export { ImageDataset } from './dataset/image_dataset.js';
export type { ImageDatasetInit } from './dataset/image_dataset.js';
export { resolveScaling, computeChannelStats } from './dataset/scaling.js';
export type { PixelScaling, ChannelStats, ResolvedScaling } from './dataset/scaling.js';
export { applyScaling } from './dataset/splits.js';
export type { ImageDatasetSplits } from './dataset/splits.js';
export type { DatasetLoader } from './dataset/dataset_loader.js';
export { idxSplitDataset } from './dataset/from_idx.js';
export type { IdxSplitBytes } from './dataset/from_idx.js';
export { Cifar10Assembler } from './dataset/cifar10_assembler.js';
export { ImageFolderAssembler, IMAGE_EXTENSIONS } from './dataset/image_folder_assembler.js';
export type { ImageFolderOptions } from './dataset/image_folder_assembler.js';

export {
  parseIdx,
  readIdxImages,
  readIdxLabels,
  checkLabelRange,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
} from './formats/idx.js';
export type { IdxArray, IdxDataType, IdxImages } from './formats/idx.js';
export {
  readCifarBinary,
  readCifarMeta,
  CIFAR10_RECORD_BYTES,
  CIFAR_PIXEL_BYTES,
  CIFAR_IMAGE_SIZE,
} from './formats/cifar_binary.js';
export type { CifarRecords } from './formats/cifar_binary.js';
export { readTar } from './formats/tar.js';
export type { TarEntry, ReadTarOptions } from './formats/tar.js';
export { isGzip } from './formats/gzip.js';
export { decodePng, isPng } from './formats/png.js';
export type { DecodedImage, Inflate } from './formats/png.js';
export { decodeImage, isJpeg } from './formats/image.js';

export { MNIST_SPEC } from './specs/mnist.js';
export { FASHION_MNIST_SPEC } from './specs/fashion_mnist.js';
export { CIFAR10_SPEC } from './specs/cifar10.js';
export type { Cifar10Spec } from './specs/cifar10.js';
export type { DatasetInfo, RemoteFile, IdxDatasetSpec, IdxDatasetFiles, IdxFileRole } from './specs/dataset_info.js';

export type { RetryOptions } from './net/retry.js';

export { mnist, fashionMnist, cifar10, DEBIAN_FASHION_MNIST_FOLDER } from './node/datasets.js';
export type { LoadOptions } from './node/load_options.js';
export type { Cifar10LoadOptions } from './node/load_cifar10_node.js';
export { loadImageFolder } from './node/load_image_folder_node.js';
export type { ImageFolderLoadOptions } from './node/load_image_folder_node.js';
export { downloadFile } from './node/download.js';
export type { DownloadOptions } from './node/download.js';
export { defaultCacheDir } from './node/cache_dir.js';
export type { CacheDirContext } from './node/cache_dir.js';
export { mnistDataFolder, packageFolder } from './node/package_folder.js';

export { mnistWeb, fashionMnistWeb, cifar10Web } from './web/datasets_web.js';
export { loadIdxWeb } from './web/load_idx_web.js';
export { loadCifar10Web } from './web/load_cifar10_web.js';
export type { Cifar10WebLoadOptions } from './web/load_cifar10_web.js';
export { loadImageArchiveWeb } from './web/load_image_archive_web.js';
export type { ImageArchiveWebOptions } from './web/load_image_archive_web.js';
export { fetchVerified } from './web/fetch_verified.js';
export type { FetchVerifiedOptions } from './web/fetch_verified.js';
export type { WebLoadOptions } from './web/web_load_options.js';
export { gunzipWeb, inflateWeb } from './web/decompress.js';
