import type { DatasetInfo, RemoteFile } from './dataset_info.js';

/** CIFAR-10 and its official binary distribution. */
export interface Cifar10Spec extends DatasetInfo {
  /** `cifar-10-binary.tar.gz`. */
  readonly archive: RemoteFile;
  /** Default download location, ending in `/`. */
  readonly baseUrl: string;
  /** The training batch files, in order. */
  readonly trainFiles: readonly string[];
  /** The test batch file(s). */
  readonly testFiles: readonly string[];
  /** The class-name file. */
  readonly metaFile: string;
  /** The folder the archive holds the files in. */
  readonly folderName: string;
}

/**
 * CIFAR-10 (Krizhevsky 2009): 60,000 colour images of 32×32 in 10 classes, 50,000 for training
 * (five batch files) and 10,000 for testing. The checksum is that of the official
 * `cifar-10-binary.tar.gz` (170,052,171 bytes).
 */
export const CIFAR10_SPEC: Cifar10Spec = {
  name: 'cifar10',
  classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  numClasses: 10,
  imageShape: [32, 32, 3],
  trainSize: 50000,
  testSize: 10000,
  baseUrl: 'https://www.cs.toronto.edu/~kriz/',
  archive: {
    name: 'cifar-10-binary.tar.gz',
    sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
  },
  trainFiles: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  testFiles: ['test_batch.bin'],
  metaFile: 'batches.meta.txt',
  folderName: 'cifar-10-batches-bin',
};
