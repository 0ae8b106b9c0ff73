import { promises as fs } from 'node:fs';

/**
 * The file operations the Node model files use, gathered in one object so that tests can make
 * one of them fail (simulating a crash mid-save).
 * @internal
 */
export const fileOps = {
  /** Writes `data` to a new file `path` (failing if it exists) and flushes it to disk. */
  async writeFileDurable(path: string, data: Uint8Array | string): Promise<void> {
    const handle = await fs.open(path, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  /** Renames `from` to `to`, replacing `to` atomically (POSIX `rename`). */
  rename(from: string, to: string): Promise<void> {
    return fs.rename(from, to);
  },
  /** Flushes a directory entry change (a rename) to disk where the platform allows it. */
  async syncDir(dir: string): Promise<void> {
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(dir, 'r');
      await handle.sync();
    } catch {
      // Directories cannot be opened or synced on some platforms (Windows); the rename still happened.
    } finally {
      await handle?.close();
    }
  },
  readFile(path: string): Promise<Buffer> {
    return fs.readFile(path);
  },
  readdir(dir: string): Promise<string[]> {
    return fs.readdir(dir);
  },
  async unlinkIfExists(path: string): Promise<void> {
    await fs.rm(path, { force: true });
  },
  async mkdirp(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
  },
};
