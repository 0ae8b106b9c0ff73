/** What a dataset is, before any data is loaded. */
export interface DatasetInfo {
  /** e.g. `'mnist'`. */
  readonly name: string;
  /** Class names in label order. */
  readonly classNames: readonly string[];
  readonly numClasses: number;
  /** `[height, width, channels]` (NHWC batches). */
  readonly imageShape: readonly [number, number, number];
  /** Examples in the official training split. */
  readonly trainSize: number;
  /** Examples in the official test split. */
  readonly testSize: number;
}

/** A file of a dataset's official distribution, and the SHA-256 of its bytes as published. */
export interface RemoteFile {
  /** File name at the base URL and in the cache, e.g. `'train-images-idx3-ubyte.gz'`. */
  readonly name: string;
  /** Lower-case hex SHA-256 of the file. */
  readonly sha256: string;
}

/** The four files of an IDX dataset (MNIST layout), each gzip-compressed as published. */
export interface IdxDatasetFiles {
  readonly trainImages: RemoteFile;
  readonly trainLabels: RemoteFile;
  readonly testImages: RemoteFile;
  readonly testLabels: RemoteFile;
}

/** An IDX dataset: its info, its files and where they are published. */
export interface IdxDatasetSpec extends DatasetInfo {
  readonly files: IdxDatasetFiles;
  /** Default download location, ending in `/`. */
  readonly baseUrl: string;
}

/** Which IDX file of a split. */
export type IdxFileRole = keyof IdxDatasetFiles;

/** The four roles, in the order they are read. */
export const IDX_FILE_ROLES: readonly IdxFileRole[] = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];

/** The uncompressed file name of a published `.gz` file (`'x-idx3-ubyte.gz'` → `'x-idx3-ubyte'`). */
export function plainName(file: RemoteFile): string {
  return file.name.replace(/\.gz$/, '');
}
