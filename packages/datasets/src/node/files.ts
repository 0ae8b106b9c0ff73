import { readdir, readFile, stat } from 'node:fs/promises';
import { BnlabError } from '@bnlab/core';

/** Reads a whole file; a missing or unreadable file throws `IO_ERROR` naming it. */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new BnlabError('IO_ERROR', `${path}: cannot be read (${(e as Error).message})`, { where: path, cause: e });
  }
}

/** True when `path` is an existing regular file (false for anything else, or when it cannot be checked). */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * The names in a folder. A folder that does not exist, is not a folder or cannot be read throws
 * `IO_ERROR` naming it.
 */
export async function listFolder(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'ENOTDIR'
          ? 'is not a folder'
          : code === 'EACCES'
            ? 'is not readable'
            : 'cannot be read';
    throw new BnlabError('IO_ERROR', `${folder}: the folder ${why} (${(e as Error).message})`, {
      where: folder,
      cause: e,
    });
  }
}
