import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BnlabError } from '@bnlab/core';
import { ImageFolderAssembler } from '../dataset/image_folder_assembler.js';
import type { ImageFolderOptions } from '../dataset/image_folder_assembler.js';
import type { ImageDataset } from '../dataset/image_dataset.js';
import type { PixelScaling } from '../dataset/scaling.js';
import { applyScaling } from '../dataset/splits.js';
import { readTar } from '../formats/tar.js';
import { defaultCacheDir } from './cache_dir.js';
import { decodedCachePath, readDecodedCache, writeDecodedCache } from './decoded_cache.js';
import { archiveChunksNode, inflateNode } from './decompress.js';
import { readBytes } from './files.js';
import { sha256File } from './sha256_file.js';
import { walkFolder } from './walk_folder.js';

/** Options of {@link loadImageFolder}: where the images are (one of the two) and how to read them. */
export interface ImageFolderLoadOptions extends ImageFolderOptions {
  /**
   * A folder in the ImageFolder layout: `<folder>/[<top>/]<split>/<class>/<image>`. Symbolic links
   * to images and to folders are followed (a broken one is an `IO_ERROR`).
   */
  folder?: string;
  /** A `.tar` or `.tar.gz` holding that layout, read as a stream (never extracted to disk). */
  archive?: string;
  /**
   * How batches scale pixels; `'standardize'` uses the statistics of the `train` split (else the
   * first split). @default 'unit'
   */
  scaling?: PixelScaling;
  /**
   * For an `archive`: keep the decoded pixels in the cache folder, keyed by the archive's SHA-256
   * and these options, so later loads skip decoding (all of CIFAR-10 as JPEG: ~15 s to decode,
   * well under a second from the cache; the file takes the dataset's size in bytes, 184 MB for
   * CIFAR-10). A cache file that fails its checksum is removed and rebuilt; one that cannot be
   * written is skipped. @default false
   */
  cacheDecoded?: boolean;
  /** The cache folder for `cacheDecoded`. @default {@link defaultCacheDir}() */
  cacheDir?: string;
}

/**
 * Loads images in the torchvision `ImageFolder` layout, one dataset per split folder, from a
 * folder or straight from a `.tar.gz` (JPEG and PNG; classes are the sorted class folder names
 * unless `classNames` is given). A class folder without JPEG or PNG images throws `DATA_MISSING`
 * naming it, as in torchvision.
 *
 * @example
 * ```ts
 * const { train, test } = await loadImageFolder({ archive: 'cifar10-jpeg.tar.gz', cacheDecoded: true });
 * ```
 */
export async function loadImageFolder(options: ImageFolderLoadOptions): Promise<Record<string, ImageDataset>> {
  const { folder, archive, scaling, cacheDecoded, cacheDir, ...folderOptions } = options;
  if ((folder === undefined) === (archive === undefined)) {
    throw new BnlabError('INVALID_ARGUMENT', 'loadImageFolder needs exactly one of folder and archive', {
      where: folder === undefined ? 'folder' : 'archive',
    });
  }
  if (folder !== undefined) return applyScaling(await fromFolder(folder, folderOptions), scaling);
  const path = archive as string;
  if (cacheDecoded !== true) return applyScaling(await fromArchive(path, folderOptions), scaling);

  const key = createHash('sha256')
    .update(await sha256File(path))
    .update(
      JSON.stringify([folderOptions.splits, folderOptions.channels, folderOptions.classNames, folderOptions.imageSize, folderOptions.name]),
    )
    .digest('hex');
  const cachePath = decodedCachePath(cacheDir ?? defaultCacheDir(), key);
  let datasets = await readDecodedCache(cachePath, key);
  if (datasets === undefined) {
    datasets = await fromArchive(path, folderOptions);
    await writeDecodedCache(cachePath, key, datasets).catch(() => undefined);
  }
  return applyScaling(datasets, scaling);
}

async function fromFolder(folder: string, options: ImageFolderOptions): Promise<Record<string, ImageDataset>> {
  const assembler = new ImageFolderAssembler(folder, inflateNode, options);
  for (const entry of await walkFolder(folder)) {
    if (entry.type === 'file' && assembler.wants(entry.path)) {
      assembler.add(entry.path, await readBytes(join(folder, entry.path)));
    } else {
      assembler.addOther(entry.path, entry.type);
    }
  }
  return assembler.finish();
}

async function fromArchive(archive: string, options: ImageFolderOptions): Promise<Record<string, ImageDataset>> {
  const assembler = new ImageFolderAssembler(archive, inflateNode, options);
  for await (const entry of readTar(archiveChunksNode(archive), archive)) {
    if (entry.type === 'file' && assembler.wants(entry.path)) assembler.add(entry.path, entry.data);
    else assembler.addOther(entry.path, entry.type);
  }
  return assembler.finish();
}
