import { BnlabError } from '@bnlab/core';
import { readCifarBinary, readCifarMeta } from '../formats/cifar_binary.js';
import type { CifarRecords } from '../formats/cifar_binary.js';
import { CIFAR10_SPEC } from '../specs/cifar10.js';
import type { Cifar10Spec } from '../specs/cifar10.js';
import { cifarSplitDataset } from './from_cifar.js';
import type { ImageDatasetSplits } from './splits.js';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Gathers the files of CIFAR-10's binary distribution as they arrive (from a folder, a tar
 * stream or fetches), parses each at once so only the parsed bytes are kept, and builds the
 * splits when all are there. `batches.meta.txt` is optional: without it the official class
 * names are used; with it, its names are the class names in label order.
 */
export class Cifar10Assembler {
  private readonly parts = new Map<string, CifarRecords>();
  private classNames: string[] | undefined;

  /**
   * @param where the folder, archive or URL the files come from, for messages
   * @param spec the dataset's files and classes
   */
  constructor(
    private readonly where: string,
    private readonly spec: Cifar10Spec = CIFAR10_SPEC,
  ) {}

  /** True when `path`'s file name is one of the distribution's files. */
  wants(path: string): boolean {
    const name = baseName(path);
    return this.spec.trainFiles.includes(name) || this.spec.testFiles.includes(name) || name === this.spec.metaFile;
  }

  /** Parses a file of the distribution (by its file name); other names are ignored. */
  add(path: string, bytes: Uint8Array, source = `${this.where}: ${path}`): void {
    const name = baseName(path);
    if (!this.wants(path)) return;
    if (this.parts.has(name) || (name === this.spec.metaFile && this.classNames !== undefined)) {
      throw new BnlabError('DATA_FORMAT', `${this.where}: holds ${name} twice`, { where: this.where });
    }
    if (name === this.spec.metaFile) this.classNames = readCifarMeta(bytes, source, this.spec.numClasses);
    else this.parts.set(name, readCifarBinary(bytes, source, this.spec.numClasses));
  }

  /** The batch files still missing. */
  missing(): string[] {
    return [...this.spec.trainFiles, ...this.spec.testFiles].filter((f) => !this.parts.has(f));
  }

  /** Builds the splits; throws `DATA_MISSING` naming the files that never arrived. */
  finish(): ImageDatasetSplits {
    const missing = this.missing();
    if (missing.length > 0) {
      throw new BnlabError(
        'DATA_MISSING',
        `${this.where}: CIFAR-10 files missing: ${missing.join(', ')} (the binary distribution has ` +
          `${[...this.spec.trainFiles, ...this.spec.testFiles].join(', ')})`,
        { where: this.where },
      );
    }
    const names = this.classNames ?? this.spec.classNames;
    const pick = (files: readonly string[]): CifarRecords[] => files.map((f) => this.parts.get(f) as CifarRecords);
    const splits = {
      train: cifarSplitDataset(this.spec, 'train', pick(this.spec.trainFiles), names),
      test: cifarSplitDataset(this.spec, 'test', pick(this.spec.testFiles), names),
    };
    this.parts.clear();
    return splits;
  }
}
