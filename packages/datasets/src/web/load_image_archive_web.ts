import { ImageFolderAssembler } from '../dataset/image_folder_assembler.js';
import type { ImageFolderOptions } from '../dataset/image_folder_assembler.js';
import type { ImageDataset } from '../dataset/image_dataset.js';
import { readTar } from '../formats/tar.js';
import { archiveChunksWeb } from './archive_chunks_web.js';
import { inflateWeb } from './decompress.js';
import { fetchVerified } from './fetch_verified.js';
import type { FetchVerifiedOptions } from './fetch_verified.js';

/** Options of {@link loadImageArchiveWeb}. */
export interface ImageArchiveWebOptions extends ImageFolderOptions, FetchVerifiedOptions {
  /** Expected SHA-256 of the archive. @default not checked */
  sha256?: string;
}

/**
 * Fetches a `.tar` or `.tar.gz` of images in the ImageFolder layout (`<split>/<class>/<file>`,
 * under an optional top folder) and builds one dataset per split, with web APIs only.
 */
export async function loadImageArchiveWeb(url: string, options: ImageArchiveWebOptions = {}): Promise<Record<string, ImageDataset>> {
  const bytes = await fetchVerified(url, options.sha256, options);
  const assembler = new ImageFolderAssembler(url, inflateWeb, options);
  for await (const entry of readTar(archiveChunksWeb(bytes, url), url)) {
    if (entry.type === 'file' && assembler.wants(entry.path)) assembler.add(entry.path, entry.data);
    else assembler.addOther(entry.path, entry.type);
  }
  return assembler.finish();
}
