import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BnlabError } from '@bnlab/core';

/**
 * Writes `data` to `path` atomically: into a temporary file in the same folder, flushed to
 * disk, then renamed over `path`. A crash or an error leaves either the old file or the new
 * one, never half a file, and no temporary file behind. Creates missing parent folders.
 * Node only.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  let created = false;
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temp, 'wx');
    created = true;
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    if (created) await unlink(temp).catch(() => undefined);
    const reason = e instanceof Error ? e.message : String(e);
    throw new BnlabError('IO_ERROR', `could not write ${path}: ${reason}`, { where: path, cause: e });
  }
}
