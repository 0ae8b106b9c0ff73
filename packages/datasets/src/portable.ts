// What both entry points export: everything that runs without Node modules (formats,
// datasets in memory, batching, the web loaders). index.ts adds the Node loaders, browser.ts
// names the web loaders mnist, fashionMnist and cifar10.
export { ImageDataset } from './dataset/image_dataset.js';
export type { ImageDatasetInit, ImageBatchOptions } from './dataset/image_dataset.js';
export { resolveAugmentation, DEFAULT_CROP_PADDING } from './dataset/augmentation.js';
export type { ImageAugmentation, RandomCropOptions, ResolvedAugmentation } from './dataset/augmentation.js';
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
  idxSizeLimit,
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
export { isGzip, maxGunzippedBytes, MAX_DEFLATE_RATIO } from './formats/gzip.js';
export type { SizeLimit } from './formats/output_limit.js';
export { decodePng, isPng, MAX_IMAGE_PIXELS } from './formats/png.js';
export type { DecodedImage, DecodeImageOptions, Inflate } from './formats/png.js';
export { decodeImage, declaredImageSize } from './formats/image.js';
export { isJpeg, readJpegFrame } from './formats/jpeg.js';
export type { JpegFrame } from './formats/jpeg.js';

export { MNIST_SPEC } from './specs/mnist.js';
export { FASHION_MNIST_SPEC } from './specs/fashion_mnist.js';
export { CIFAR10_SPEC } from './specs/cifar10.js';
export type { Cifar10Spec } from './specs/cifar10.js';
export type { DatasetInfo, RemoteFile, IdxDatasetSpec, IdxDatasetFiles, IdxFileRole } from './specs/dataset_info.js';

export type { RetryOptions } from './net/retry.js';
export { RETRY_DEFAULTS, MIN_DOWNLOAD_BYTES_PER_SECOND } from './net/retry.js';

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
