import type { Dirent } from 'node:fs';
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BnlabError } from '@bnlab/core';
import { listFolder } from './files.js';

/** A file or folder found under a folder, by its `/`-separated path relative to that folder. */
export interface FolderEntry {
  readonly path: string;
  readonly type: 'file' | 'directory';
}

function cannotRead(folder: string, e: unknown): BnlabError {
  return new BnlabError('IO_ERROR', `${folder}: the folder cannot be read (${(e as Error).message})`, {
    where: folder,
    cause: e,
  });
}

/**
 * Every file and folder under `folder`, depth first, following symbolic links as torchvision's
 * `ImageFolder` does (`os.walk(followlinks=True)`): a link to a file counts as a file, a link to a
 * folder as a folder whose contents are listed under the link's name. A link to a folder that is
 * being walked (a loop, such as `a/up -> ..`) is skipped: its contents are listed already.
 * Entries that are neither files nor folders (sockets, devices) are left out.
 *
 * Throws `IO_ERROR` naming the path for a folder that cannot be read and for a link that cannot be
 * followed (its target is missing).
 */
export async function walkFolder(folder: string): Promise<FolderEntry[]> {
  await listFolder(folder); // says whether the folder is missing, not a folder or unreadable
  const entries: FolderEntry[] = [];
  let root: string;
  try {
    root = await realpath(folder);
  } catch (e) {
    throw cannotRead(folder, e);
  }
  await walk(folder, '', [root], entries);
  return entries;
}

/** Lists `dir` (at `relative` under the root) into `out`; `ancestors` are the real paths being walked. */
async function walk(dir: string, relative: string, ancestors: string[], out: FolderEntry[]): Promise<void> {
  let children: Dirent[];
  try {
    children = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw cannotRead(dir, e);
  }
  for (const child of children) {
    const path = join(dir, child.name);
    const rel = relative === '' ? child.name : `${relative}/${child.name}`;
    let isFile = child.isFile();
    let isDirectory = child.isDirectory();
    if (child.isSymbolicLink()) {
      try {
        const target = await stat(path);
        isFile = target.isFile();
        isDirectory = target.isDirectory();
      } catch (e) {
        const to = await readlink(path).catch(() => '?');
        const what =
          (e as NodeJS.ErrnoException).code === 'ENOENT'
            ? `broken symbolic link to ${to}, which does not exist`
            : `symbolic link to ${to} that cannot be followed (${(e as Error).message})`;
        throw new BnlabError('IO_ERROR', `${path}: ${what}; remove it or fix its target`, { where: path, cause: e });
      }
    }
    if (isFile) {
      out.push({ path: rel, type: 'file' });
    } else if (isDirectory) {
      let real: string;
      try {
        real = await realpath(path);
      } catch (e) {
        throw cannotRead(path, e);
      }
      if (ancestors.includes(real)) continue; // a link back up the tree: its contents are listed already
      out.push({ path: rel, type: 'directory' });
      await walk(path, rel, [...ancestors, real], out);
    }
  }
}
