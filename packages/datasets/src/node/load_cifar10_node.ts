import { join } from 'node:path';
import { BnlabError } from '@bnlab/core';
import { Cifar10Assembler } from '../dataset/cifar10_assembler.js';
import { applyScaling } from '../dataset/splits.js';
import type { ImageDatasetSplits } from '../dataset/splits.js';
import { readTar } from '../formats/tar.js';
import { CIFAR10_SPEC } from '../specs/cifar10.js';
import { cachedFiles } from './cached_files.js';
import { archiveChunksNode } from './decompress.js';
import { listFolder, readBytes } from './files.js';
import { loadImageFolder } from './load_image_folder_node.js';
import type { LoadOptions } from './load_options.js';
import type { ImageFolderLoadOptions } from './load_image_folder_node.js';

/** Options of CIFAR-10's `load` in Node: at most one of `folder`, `archive`, `imageFolder`, `imageArchive`. */
export interface Cifar10LoadOptions extends LoadOptions {
  /**
   * The folder of the binary files (`cifar-10-batches-bin`, or the folder that holds it):
   * `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`, optionally `batches.meta.txt`.
   */
  folder?: string;
  /** The official `cifar-10-binary.tar.gz` (or `.tar`), read as a stream, never extracted. */
  archive?: string;
  /** A folder in the ImageFolder layout, `[<top>/]{train,test}/<class>/*.{jpg,png}`. */
  imageFolder?: string;
  /** A `.tar.gz` of that layout read as a stream, e.g. a JPEG re-encoding of CIFAR-10. */
  imageArchive?: string;
  /**
   * With `imageArchive`: keep the decoded pixels in the cache folder so later loads skip JPEG
   * decoding (see {@link ImageFolderLoadOptions.cacheDecoded}). @default false
   */
  cacheDecoded?: boolean;
}

/** Parses the binary files in `folder` (or in its `cifar-10-batches-bin` subfolder). */
async function fromFolder(folder: string): Promise<ImageDatasetSplits> {
  const spec = CIFAR10_SPEC;
  let names = await listFolder(folder);
  let dir = folder;
  if (!names.includes(spec.trainFiles[0] as string) && names.includes(spec.folderName)) {
    dir = join(folder, spec.folderName);
    names = await listFolder(dir);
  }
  const assembler = new Cifar10Assembler(dir, spec);
  const missing = [...spec.trainFiles, ...spec.testFiles].filter((f) => !names.includes(f));
  if (missing.length > 0) {
    throw new BnlabError(
      'DATA_MISSING',
      `${dir}: the folder lacks CIFAR-10 binary files ${missing.join(', ')} ` +
        `(it must hold ${[...spec.trainFiles, ...spec.testFiles].join(', ')})`,
      { where: dir },
    );
  }
  for (const name of names.filter((n) => assembler.wants(n))) {
    const path = join(dir, name);
    assembler.add(name, await readBytes(path), path);
  }
  return assembler.finish();
}

/** Streams a `.tar(.gz)` of the binary distribution through the tar reader, parsing each batch file as it arrives. */
async function fromArchive(archive: string): Promise<ImageDatasetSplits> {
  const assembler = new Cifar10Assembler(archive, CIFAR10_SPEC);
  for await (const entry of readTar(archiveChunksNode(archive), archive)) {
    if (entry.type === 'file' && assembler.wants(entry.path)) assembler.add(entry.path, entry.data, `${archive}: ${entry.path}`);
  }
  return assembler.finish();
}

/**
 * Loads CIFAR-10 in Node from, in order: the one explicit source given (`folder`, `archive`,
 * `imageFolder` or `imageArchive`); else the cached official archive, downloaded and verified
 * unless offline.
 */
export async function loadCifar10Node(options: Cifar10LoadOptions = {}): Promise<ImageDatasetSplits> {
  const spec = CIFAR10_SPEC;
  const given = (['folder', 'archive', 'imageFolder', 'imageArchive'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1) {
    throw new BnlabError('INVALID_ARGUMENT', `give at most one CIFAR-10 source, got ${given.join(' and ')}`, {
      where: given.join(', '),
    });
  }
  let splits: ImageDatasetSplits;
  if (options.folder !== undefined) splits = await fromFolder(options.folder);
  else if (options.archive !== undefined) splits = await fromArchive(options.archive);
  else if (options.imageFolder !== undefined || options.imageArchive !== undefined) {
    const images = await loadImageFolder({
      ...(options.imageFolder !== undefined ? { folder: options.imageFolder } : { archive: options.imageArchive as string }),
      splits: ['train', 'test'],
      classNames: spec.classNames,
      imageSize: [spec.imageShape[0], spec.imageShape[1]],
      channels: 3,
      name: spec.name,
      ...(options.cacheDecoded !== undefined ? { cacheDecoded: options.cacheDecoded } : {}),
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    });
    splits = {
      train: images['train'] as ImageDatasetSplits['train'],
      test: images['test'] as ImageDatasetSplits['test'],
    };
  } else {
    const [archive] = await cachedFiles([spec.archive], spec.name, options.baseUrl ?? spec.baseUrl, options, {
      dataset: spec.name,
      lookedAt: [],
      remedies: [
        'pass folder (the extracted cifar-10-batches-bin), archive (cifar-10-binary.tar.gz), imageFolder or imageArchive',
        `put ${spec.archive.name} in the cache folder`,
      ],
    });
    splits = await fromArchive(archive as string);
  }
  return applyScaling(splits, options.scaling);
}
