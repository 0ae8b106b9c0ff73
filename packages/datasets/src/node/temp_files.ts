import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * A temporary file not modified for this long is taken as left behind by a process that was
 * killed: a live download or cache fill writes to its file all the time (a download that
 * receives nothing for `idleTimeoutMs`, 60 s by default, is aborted).
 */
export const STALE_TEMP_FILE_MS = 10 * 60 * 1000;

/** A new temporary file beside `target` to write it in: `.<name>.<12 hex digits>.part`. */
export function tempFileFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.part`);
}

/** True when `file` (a name) is a temporary file of the file named `name`, as {@link tempFileFor} makes them. */
function isTempFileOf(file: string, name: string): boolean {
  const prefix = `.${name}.`;
  return (
    file.length === prefix.length + 12 + '.part'.length &&
    file.startsWith(prefix) &&
    file.endsWith('.part') &&
    /^[0-9a-f]{12}$/.test(file.slice(prefix.length, prefix.length + 12))
  );
}

/**
 * Removes the temporary files of `target` (see {@link tempFileFor}) left by an interrupted
 * download or cache fill: those not modified for {@link STALE_TEMP_FILE_MS}. A fresh one may
 * belong to another process still writing it, and is kept. Best effort: files that cannot be
 * checked or removed are left alone.
 */
export async function removeStaleTempFiles(target: string, now = Date.now()): Promise<void> {
  const folder = dirname(target);
  const name = basename(target);
  let files: string[];
  try {
    files = await readdir(folder);
  } catch {
    return;
  }
  for (const file of files) {
    if (!isTempFileOf(file, name)) continue;
    const path = join(folder, file);
    try {
      if (now - (await stat(path)).mtimeMs > STALE_TEMP_FILE_MS) await rm(path, { force: true });
    } catch {
      // gone already (another process cleaned it), or not ours to remove
    }
  }
}
